"""(h): structuring alone, per page shape of the fuzz corpus (``tests/faults/test_fuzz.py``).

Each shape is a list of pages built with a seeded ``random.Random``: the kinds of values the
fuzz strategies draw (fractional amounts of up to 12 places, upper-case UUIDs, timestamps
with offsets, missing and null optional fields, unknown statuses, unknown keys), plus the
server's real action pages. Bodies are decoded beforehand, exactly (fractions as
``Decimal``); the figure is ``structure_many`` alone, per item, and its ratio to
``json.loads`` of the same page's bytes.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson

import thoughtcredits as tc
from thoughtcredits._serde.converter import structure_many

StructureMany = Callable[[list[Any], type[Any]], tuple[Any, ...]]
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]


class _Draw:
    """Seeded values of the kinds the fuzz strategies draw."""

    def __init__(self, seed: int, repeated_ids: int = 20) -> None:
        self.rng = random.Random(seed)
        self.repeated = [self.uuid() for _ in range(repeated_ids)]

    def uuid(self, upper: bool = False) -> str:
        text = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return text.upper() if upper else text

    def amount(self, fractional: bool) -> int | Decimal:
        whole = self.rng.randrange(-(10**12), 10**12)
        if not fractional:
            return whole
        return Decimal(whole).scaleb(-self.rng.randrange(0, 13))

    def stamp(self, zones: bool) -> str:
        moment = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=self.rng.randrange(10**8))
        if not zones:
            return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return moment.astimezone(self.rng.choice(ZONES)).isoformat()

    def maybe(self, value: object, sparse: bool) -> object:
        return value if not sparse or self.rng.random() < 0.5 else None


def _batch(d: _Draw, fractional: bool, sparse: bool, odd: bool) -> dict[str, Any]:
    """A batch; ``odd``: upper-case ids, offsets, unknown statuses and unknown keys."""
    body: dict[str, Any] = {
        "id": d.uuid(upper=odd), "startingBalance": d.amount(fractional),
        "currentBalance": d.amount(fractional), "allocatedCredits": d.amount(fractional),
        "creditAccountId": d.rng.choice(d.repeated), "createdAt": d.stamp(odd),
        "updatedAt": d.stamp(odd), "status": d.rng.choice(["active", "archived", "frozen"])
        if odd else "active", "name": d.maybe("Q3 top-up", sparse),
        "expiresOn": d.maybe(d.stamp(odd), sparse), "clientId": d.maybe(d.repeated[0], sparse),
    }  # fmt: skip
    if sparse:
        body = {k: v for k, v in body.items() if v is not None or d.rng.random() < 0.5}
    if odd:
        body.update({"newField": {"nested": [1, 2]}, "anotherOne": None})
    return body


def _action(d: _Draw, fractional: bool, sparse: bool) -> dict[str, Any]:
    """An action; ``sparse``: optional fields null or missing."""
    body: dict[str, Any] = {
        "id": d.uuid(), "client": d.repeated[0], "action": d.rng.choice(["debit", "credit"]),
        "amount": d.amount(fractional), "target": d.maybe(d.rng.choice(d.repeated), sparse),
        "targetType": d.maybe("user", sparse),
        "targetBalanceIn": d.maybe(d.amount(fractional), sparse),
        "targetBalanceOut": d.maybe(d.amount(fractional), sparse),
        "initiator": d.maybe(d.rng.choice(d.repeated), sparse), "initiatorType": "user",
        "creditAccountName": d.maybe("Account 00001", sparse), "source": d.rng.choice(d.repeated),
        "sourceType": "creditBatch", "sourceBalanceIn": d.amount(fractional),
        "sourceBalanceOut": d.amount(fractional), "timestamp": d.stamp(False),
        "updatedAt": d.stamp(False),
    }  # fmt: skip
    return {k: v for k, v in body.items() if v is not None or not sparse}


def _account(d: _Draw) -> dict[str, Any]:
    return {
        "id": d.uuid(), "currentBalance": d.amount(True), "status": "active", "type": "client",
        "notifyEmails": ["ops@acme.test", "café@acme.test"], "createdAt": d.stamp(True),
        "updatedAt": d.stamp(True), "clientId": d.repeated[0], "name": "Acme",
        "sublicenses": [{"id": d.uuid(), "deleted": d.rng.random() < 0.5} for _ in range(3)],
        "batchDaysUntilExpire": 30, "minimumBatchAmount": 10,
    }  # fmt: skip


def shapes(real_pages: list[bytes], pages: int, per_page: int) -> dict[str, Any]:
    """Shape name -> (model, list of page bytes)."""
    d = _Draw(seed=4)

    def build(make: Callable[[], dict[str, Any]]) -> list[bytes]:
        return [_dumps([make() for _ in range(per_page)]) for _ in range(pages)]

    op = "APICreditActionsByClientIdAndAccountIdAndActionType"
    real = [_dumps(json.loads(raw)["data"][op]["creditActions"]) for raw in real_pages]
    makers: dict[str, tuple[type[Any], Callable[[], dict[str, Any]]]] = {
        "actions_fractional": (tc.CreditAction, lambda: _action(d, True, False)),
        "actions_sparse": (tc.CreditAction, lambda: _action(d, False, True)),
        "batches_int": (tc.CreditBatch, lambda: _batch(d, False, False, False)),
        "batches_fractional": (tc.CreditBatch, lambda: _batch(d, True, False, False)),
        "batches_sparse_odd": (tc.CreditBatch, lambda: _batch(d, True, True, True)),
        "accounts": (tc.CreditAccount, lambda: _account(d)),
    }
    built = {name: (cls, build(make)) for name, (cls, make) in makers.items()}
    return {"actions_server": (tc.CreditAction, real), **built}


def _fragment(value: object) -> orjson.Fragment:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())  # str(Decimal) is a JSON number
    raise TypeError(type(value).__name__)


def _dumps(value: object) -> bytes:
    return orjson.dumps(value, default=_fragment)


def _exact(raw: bytes) -> Any:
    return json.loads(raw, parse_float=Decimal)


def bench_shapes(
    real_pages: list[bytes],
    *,
    pages: int,
    per_page: int,
    repeat: int,
    structure: StructureMany = structure_many,
) -> dict[str, Any]:
    """Per shape: µs per item of ``structure`` (best of ``repeat``) and its ratio to json.loads."""
    results: dict[str, Any] = {}
    quiet = logging.NullHandler()  # the unknown statuses would each log a drift warning
    logging.getLogger("thoughtcredits").addHandler(quiet)
    try:
        for name, (cls, bodies) in shapes(real_pages, pages, per_page).items():
            results[name] = _one_shape(cls, bodies, repeat, structure)
    finally:
        logging.getLogger("thoughtcredits").removeHandler(quiet)
    return results


def _one_shape(
    cls: type[Any], bodies: list[bytes], repeat: int, structure: StructureMany
) -> dict[str, Any]:
    """One shape: µs per item of ``structure`` (best of ``repeat``) and json.loads of it."""
    decoded = [_exact(raw) for raw in bodies]
    items = sum(map(len, decoded))
    structure(decoded[0], cls)  # warm up: the generated function
    best_structure = best_loads = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for page in decoded:
            structure(page, cls)
        best_structure = min(best_structure, time.process_time() - started)
        started = time.process_time()
        for raw in bodies:
            json.loads(raw)
        best_loads = min(best_loads, time.process_time() - started)
    return {
        "model": cls.__name__,
        "items": items,
        "us_per_item": best_structure / items * 1e6,
        "json_loads_us_per_item": best_loads / items * 1e6,
        "ratio_to_json_loads": best_structure / best_loads,
    }
