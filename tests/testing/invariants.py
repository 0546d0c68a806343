"""Every rule a consistent ledger keeps, checked from the records (not through the server)."""

from __future__ import annotations

from decimal import localcontext
from itertools import pairwise

from thoughtcredits.testing import Ledger


def assert_consistent(ledger: Ledger) -> None:
    """References agree, seqs increase, and every batch's balances chain to its balance."""
    for cid, client in ledger.clients.items():
        assert client.id == cid
        assert all(ledger.accounts[a.id] is a and a.client_id == cid for a in client.accounts)
        assert all(ledger.batches[b.id] is b and b.client_id == cid for b in client.batches)
    for aid, account in ledger.accounts.items():
        assert account in ledger.clients[account.client_id].accounts
        assert all(b.account_id == aid and ledger.batches[b.id] is b for b in account.batches)
        for rows in account.actions.values():
            assert all(a.seq < b.seq for a, b in pairwise(rows))
        rows = account.all_actions()
        for batch in account.batches:
            chain = [
                (r.source_balance_in, r.source_balance_out, r.amount)
                if r.source == batch.id
                else (r.target_balance_in, r.target_balance_out, r.amount)
                for r in rows
                if batch.id in (r.source, r.target)
            ]
            assert chain, f"batch {batch.id} has no credit action"
            assert chain[0][0] == 0
            for before, after in pairwise(chain):
                assert after[0] == before[1]
            with localcontext(prec=200):  # the default 28 digits would round big amounts
                assert all(abs(out - into) == amount for into, out, amount in chain)  # type: ignore[operator]
            assert chain[-1][1] == batch.current_balance
    assert set(ledger.batches) == {b.id for a in ledger.accounts.values() for b in a.batches}
