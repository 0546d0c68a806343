"""thoughtcredits.testing: a faithful local credits server for tests, demos and benchmarks.

``FakeCreditsServer`` serves the credit endpoints of ``/incoming/v2`` from an in-memory
:class:`Ledger` over real HTTP on 127.0.0.1, with bearer auth, validation, pagination, an
optional rate limiter, a request log and injectable faults::

    from thoughtcredits.testing import FakeCreditsServer, Fault, RecordingSleep

    async with FakeCreditsServer(api_key="test-key") as server:
        client_id = server.ledger.add_client()
        server.ledger.create_account(client_id, name="Sales", starting_balance=100)
        server.inject(Fault(kind="status", status=503, route="list_credit_batches"))
        sleep = RecordingSleep()
        async with server.client(sleep=sleep) as client:
            batches = [batch async for batch in client.credit_batches.list(client_id)]
        assert [r.status for r in server.requests] == [503, 200]  # the GET was retried
        assert len(batches) == 1 and len(sleep.waits) == 1

Client ids register on first use (``strict_clients=True`` requires registering them). The
``/_fake`` admin routes (reset, state, requests, faults, clients, openapi.json) let an app in
another process or language drive the same server, e.g. ``thoughtcredits serve-fake``.

With pytest-asyncio installed, the ``credits_server`` and ``credits_client`` fixtures are
available in every project that installs thoughtcredits.

Names are imported lazily, so ``import thoughtcredits.testing`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._transports.mock import MockTransport, json_response
    from ._ledger.ledger import Ledger
    from ._ledger.plant import Planted, ScanWriter, plant_discrepancies
    from ._ledger.records import AccountRecord, ActionRow, BatchRecord, ClientRecord, LedgerError
    from ._ledger.seed import (
        DEMO_ACCOUNT_IDS,
        DEMO_ADMIN_USER_ID,
        DEMO_CLIENT_ID,
        Seeded,
        seed_demo,
        seed_ledger,
    )
    from ._ledger.state import StateError
    from ._server.faults import Fault, RecordingSleep
    from ._server.limits import FixedWindow, SlidingWindow, TokenBucket
    from ._server.log import RecordedRequest
    from ._server.server import FakeCreditsServer

__all__ = [
    "DEMO_ACCOUNT_IDS",
    "DEMO_ADMIN_USER_ID",
    "DEMO_CLIENT_ID",
    "AccountRecord",
    "ActionRow",
    "BatchRecord",
    "ClientRecord",
    "FakeCreditsServer",
    "Fault",
    "FixedWindow",
    "Ledger",
    "LedgerError",
    "MockTransport",
    "Planted",
    "RecordedRequest",
    "RecordingSleep",
    "ScanWriter",
    "Seeded",
    "SlidingWindow",
    "StateError",
    "TokenBucket",
    "json_response",
    "plant_discrepancies",
    "seed_demo",
    "seed_ledger",
]

_MODULES = {
    "Fault": "._server.faults",
    "RecordingSleep": "._server.faults",
    "AccountRecord": "._ledger.records",
    "ActionRow": "._ledger.records",
    "BatchRecord": "._ledger.records",
    "ClientRecord": "._ledger.records",
    "Ledger": "._ledger.ledger",
    "MockTransport": ".._transports.mock",
    "json_response": ".._transports.mock",
    "Planted": "._ledger.plant",
    "ScanWriter": "._ledger.plant",
    "plant_discrepancies": "._ledger.plant",
    "LedgerError": "._ledger.records",
    "DEMO_ACCOUNT_IDS": "._ledger.seed",
    "DEMO_ADMIN_USER_ID": "._ledger.seed",
    "DEMO_CLIENT_ID": "._ledger.seed",
    "Seeded": "._ledger.seed",
    "seed_demo": "._ledger.seed",
    "seed_ledger": "._ledger.seed",
    "FakeCreditsServer": "._server.server",
    "RecordedRequest": "._server.log",
    "StateError": "._ledger.state",
    "TokenBucket": "._server.limits",
    "FixedWindow": "._server.limits",
    "SlidingWindow": "._server.limits",
}


def __getattr__(name: str) -> object:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'thoughtcredits.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
