"""Trust under faults and hostile input (issue 5): shared helpers for the fault tests.

Every test here runs against ``thoughtcredits.testing.FakeCreditsServer`` on 127.0.0.1 and
injects ``RecordingSleep`` so nothing sleeps for real in a retry.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import time
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp

import thoughtcredits as tc
from thoughtcredits.testing import FakeCreditsServer, RecordedRequest, RecordingSleep

# Distinctive, so a leak anywhere (log, repr, pickle, traceback) is found by a substring search.
KEY = "tc-live-SECRET-9f3a7c2e5b81d4"
API = "/incoming/v2"


@dataclass
class World:
    """A running server whose ledger holds one client, one account and five credit batches.

    With ``per_page=2`` both listings (the client's batches, the account's ``credit`` actions)
    are three pages long: 2 + 2 + 1 items.
    """

    server: FakeCreditsServer
    client_id: str
    account_id: str
    batch_ids: list[str]
    pages: dict[str, list[Any]] = field(default_factory=dict)
    """Raw JSON of each listing's pages, keyed by route, as the server sends them fault-free."""

    def sent(self, route: str) -> list[RecordedRequest]:
        """The requests that reached ``route``."""
        return [r for r in self.server.requests if r.route == route]

    def batch_ids_in_ledger(self) -> list[str]:
        """The client's batch ids in the server's order."""
        return [b.id for b in self.server.ledger.client(self.client_id).batches]

    def credit_action_ids_in_ledger(self) -> list[str]:
        """The account's ``credit`` action ids in the server's order."""
        ledger = self.server.ledger
        return [ledger.action_id(row) for row in ledger.actions(self.account_id, "credit")]


@asynccontextmanager
async def world(*, pages: bool = True, **server_kwargs: Any) -> AsyncIterator[World]:
    """Start a server (per_page=2 unless given), fill its ledger, and stop it afterwards.

    With ``pages`` the listings' raw pages are read first (plain aiohttp, not the SDK).
    """
    server_kwargs.setdefault("per_page", 2)
    async with FakeCreditsServer(api_key=KEY, **server_kwargs) as server:
        ledger = server.ledger
        cid = str(ledger.add_client())
        account = ledger.create_account(cid, name="Ops", starting_balance=100)
        for number, amount in enumerate((10, Decimal("12.25"), 30, Decimal("0.001"))):
            ledger.create_batch(
                cid, starting_balance=amount, credit_account_id=account.id, name=f"b{number}"
            )
        batch_ids = [b.id for b in account.batches]
        built = World(server, cid, account.id, batch_ids)
        if not pages:
            yield built
            return
        built.pages = {
            "list_credit_batches": await raw_pages(
                server, f"/clients/{cid}/creditBatches", {"clientId": cid}
            ),
            "list_credit_actions": await raw_pages(
                server,
                f"/clients/{cid}/creditAccount/{account.id}/creditActions",
                {"clientId": cid, "actionType": "credit"},
            ),
        }
        server.reset_requests()
        yield built


async def raw_pages(server: FakeCreditsServer, path: str, query: dict[str, str]) -> list[Any]:
    """Every page of a listing, fetched with plain aiohttp (so no SDK code is involved)."""
    pages: list[Any] = []
    cursor: str | None = None
    async with aiohttp.ClientSession() as session:
        while True:
            params = query if cursor is None else {**query, "cursor": cursor}
            async with session.get(
                f"{server.url}{API}{path}",
                params=params,
                headers={"Authorization": f"Bearer {KEY}"},
            ) as response:
                assert response.status == 200
                body = json.loads(await response.read(), parse_float=Decimal)
            pages.append(body)
            (payload,) = body["data"].values()
            if not payload["pageInfo"]["hasMore"]:
                return pages
            cursor = payload["pageInfo"]["cursor"]


def payload_of(page: Any) -> Any:
    """The object inside a page's ``{"data": {"<Operation>": ...}}`` envelope."""
    (payload,) = page["data"].values()
    return payload


def secret_free_text(exc: BaseException) -> str:
    """Everything a user could print or ship about ``exc``: str, repr, traceback and pickle."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    parts.append(pickle.dumps(exc).decode("latin-1"))
    for name in ("headers", "body", "url", "message", "args"):
        parts.append(repr(getattr(exc, name, None)))
    text = "\n".join(parts)
    assert KEY not in text, f"API key leaked through {type(exc).__name__}"
    assert KEY.encode().hex() not in text
    return text


async def wait_until(predicate: Callable[[], bool], within: float = 3.0) -> None:
    """Poll ``predicate`` (e.g. a delayed server handler finished) for up to ``within`` s."""
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


class Clock:
    """A server clock: real epoch time plus the time the client's injected sleeps skipped."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        """Epoch seconds as the server sees them."""
        return time.time() + self.skipped


class AdvancingSleep(RecordingSleep):
    """A recording sleep that moves the server's :class:`Clock` forward instead of waiting."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        """Record the delay; the server's time jumps to when the sleep would have ended.

        Concurrent sleeps overlap as they would in real time: fifty tasks pausing for the
        same 1 s move the clock by 1 s, not 50 s.
        """
        ends = self.clock() + seconds
        await super().__call__(seconds)
        self.clock.skipped = max(self.clock.skipped, ends - time.time())


def other_tasks() -> set[asyncio.Task[Any]]:
    """Tasks still pending apart from the current one (server tasks excluded by the caller)."""
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not current and not t.done()}


def sdk_tasks() -> set[asyncio.Task[Any]]:
    """Pending tasks running SDK code (a leaked prefetch or request)."""
    found = set()
    for task in other_tasks():
        coro = task.get_coro()
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
        filename = code.co_filename if code is not None else ""
        if "/thoughtcredits/" in filename and "/testing/" not in filename:
            found.add(task)
    return found


def acquired_connections(client: tc.Client) -> int:
    """Connections the client's pool has handed out and not yet taken back."""
    session = client._view.core.transport.session
    if session is None or session.connector is None:
        return 0
    return len(session.connector._acquired)
