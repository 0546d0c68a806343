"""Pagination: cursors and pages, perPage, totals, hasMore, and cursors that survive new data."""

from __future__ import annotations

from typing import Any

from thoughtcredits.testing import FakeCreditsServer

from .conftest import Http

OP = "APICreditActionsByClientIdAndAccountIdAndActionType"


def make_debits(fake: FakeCreditsServer, cid: str, count: int) -> str:
    """An account whose batch has ``count`` debits of 1 credit; returns its id."""
    account = fake.ledger.create_account(cid, name="P", starting_balance=count + 100)
    batch = account.batches[0]
    for step in range(1, count + 1):
        fake.ledger.update_batch(batch.id, current_balance=count + 100 - step)
    return account.id


async def page(http: Http, cid: str, aid: str, **params: str) -> Any:
    reply = await http.get(f"/clients/{cid}/creditAccount/{aid}/creditActions", clientId=cid,
                           actionType="debit", **params)  # fmt: skip
    assert reply.status == 200
    return reply.payload(OP)


async def test_cursor_walk_delivers_every_item_once(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """Following cursors with perPage=4 over 10 items gives 4+4+2 in order, then hasMore=false."""
    aid = make_debits(fake, cid, 10)
    seen: list[int] = []
    infos = []
    cursor: str | None = None
    while True:
        params = {"perPage": "4"} if cursor is None else {"perPage": "4", "cursor": cursor}
        body = await page(http, cid, aid, **params)
        seen += [a["sourceBalanceOut"] for a in body["creditActions"]]
        infos.append(body["pageInfo"])
        if not body["pageInfo"]["hasMore"]:
            break
        cursor = body["pageInfo"]["cursor"]
    assert seen == list(range(109, 99, -1))
    assert [(i["perPage"], i["total"], i["hasMore"]) for i in infos] == [
        (4, 10, True), (4, 10, True), (4, 10, False),
    ]  # fmt: skip
    assert len({i["cursor"] for i in infos}) == 3


async def test_page_numbers_and_beyond_the_end(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """page=N (1-indexed) gives the Nth slice; a page past the end is empty with hasMore=false."""
    aid = make_debits(fake, cid, 5)
    second = await page(http, cid, aid, page="2", perPage="2")
    assert [a["sourceBalanceOut"] for a in second["creditActions"]] == [102, 101]
    assert second["pageInfo"]["hasMore"] is True
    last = await page(http, cid, aid, page="3", perPage="2")
    assert [a["sourceBalanceOut"] for a in last["creditActions"]] == [100]
    assert last["pageInfo"]["hasMore"] is False
    past = await page(http, cid, aid, page="9", perPage="2")
    assert past["creditActions"] == []
    assert past["pageInfo"] == {"perPage": 2, "cursor": None, "total": 5, "hasMore": False}


async def test_default_and_maximum_page_size(http: Http, cid: str) -> None:
    """Without perPage the server default applies; perPage above 1000 is capped at 1000."""
    async with FakeCreditsServer(per_page=3) as small:
        ledger = small.ledger
        cid = str(ledger.add_client())
        aid = make_debits(small, cid, 4)
        async with http.session.get(
            f"{small.url}/incoming/v2/clients/{cid}/creditAccount/{aid}/creditActions",
            params={"clientId": cid, "actionType": "debit"},
            headers={"Authorization": "Bearer test-key"},
        ) as response:  # fmt: skip
            body = (await response.json())["data"][OP]
        assert (len(body["creditActions"]), body["pageInfo"]["perPage"]) == (3, 3)
    capped = await http.get(f"/clients/{http_cid(http)}/creditBatches", clientId=http_cid(http),
                            perPage="5000")  # fmt: skip
    assert capped.payload("APICreditBatchesByClientAndCreditAccount")["pageInfo"]["perPage"] == 1000


def http_cid(http: Http) -> str:
    """The (only) client registered on the ``http`` fixture's server."""
    return next(iter(http.server.ledger.clients))


async def test_cursors_stay_valid_while_data_is_added(
    http: Http, cid: str, fake: FakeCreditsServer
) -> None:
    """A saved cursor resumes right after its item even when new items arrive meanwhile."""
    aid = make_debits(fake, cid, 6)
    first = await page(http, cid, aid, perPage="3")
    batch = fake.ledger.accounts[aid].batches[0]
    fake.ledger.update_batch(batch.id, current_balance=50)
    rest = await page(http, cid, aid, perPage="10", cursor=first["pageInfo"]["cursor"])
    assert [a["sourceBalanceOut"] for a in rest["creditActions"]] == [102, 101, 100, 50]
    assert rest["pageInfo"]["total"] == 7
    assert rest["pageInfo"]["hasMore"] is False


async def test_batches_paginate_with_totals(http: Http, cid: str, fake: FakeCreditsServer) -> None:
    """Batches page by creation order with total = all matching batches."""
    account = fake.ledger.create_account(cid, name="B", starting_balance=1)
    for number in range(4):
        fake.ledger.create_batch(cid, starting_balance=number + 2, credit_account_id=account.id)
    reply = await http.get(f"/clients/{cid}/creditBatches", clientId=cid, perPage="3")
    body = reply.payload("APICreditBatchesByClientAndCreditAccount")
    assert [b["startingBalance"] for b in body["creditBatches"]] == [1, 2, 3]
    assert (body["pageInfo"]["total"], body["pageInfo"]["hasMore"]) == (5, True)
    more = await http.get(f"/clients/{cid}/creditBatches", clientId=cid, perPage="3",
                          cursor=body["pageInfo"]["cursor"])  # fmt: skip
    rest = more.payload("APICreditBatchesByClientAndCreditAccount")
    assert [b["startingBalance"] for b in rest["creditBatches"]] == [4, 5]
    assert rest["pageInfo"]["hasMore"] is False
