"""Snapshots in Python: ``reset()``, ``snapshot()`` and ``load()``, exact for any ledger."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from thoughtcredits.testing import (
    FakeCreditsServer,
    Fault,
    StateError,
    plant_discrepancies,
    seed_demo,
    seed_ledger,
)

from .invariants import assert_consistent


def test_snapshot_round_trip_is_exact_even_for_planted_ledgers() -> None:
    """A seeded ledger with planted discrepancies loads back to the same snapshot bytes."""
    source = FakeCreditsServer()
    seeded = seed_ledger(source.ledger, accounts=4, actions_per_account=80, seed=5)
    plant_discrepancies(source.ledger, seeded.account_ids)
    seed_demo(source.ledger)
    data = source.snapshot_json()
    target = FakeCreditsServer()
    kept = target.ledger
    target.load(json.loads(data, parse_float=Decimal))
    assert target.ledger is kept  # loaded in place: references to server.ledger stay valid
    assert target.snapshot_json() == data
    assert target.ledger.seq == source.ledger.seq


def test_reset_empties_everything() -> None:
    """reset() leaves no client, account, batch, request or fault."""
    server = FakeCreditsServer()
    seed_demo(server.ledger)
    server.inject(Fault(kind="drop"))
    server.reset()
    assert (server.ledger.clients, server.ledger.accounts, server.ledger.batches) == ({}, {}, {})
    assert server.requests == []
    assert server.faults.pending() == []
    cid = server.ledger.add_client()
    server.ledger.create_account(cid, name="again", starting_balance=1)
    assert_consistent(server.ledger)


@pytest.mark.parametrize("bad", [None, [], {"format": "thoughtcredits.fake-ledger/1"}, "x"])
def test_load_refuses_malformed_snapshots_without_change(bad: object) -> None:
    """A malformed snapshot raises StateError (a ValueError) and the ledger is unchanged."""
    server = FakeCreditsServer()
    seed_demo(server.ledger)
    before = server.snapshot_json()
    with pytest.raises(StateError):
        server.load(bad)
    assert server.snapshot_json() == before
    assert issubclass(StateError, ValueError)
