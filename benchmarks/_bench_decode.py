"""(c): the cost of turning one page of credit actions (bytes) into objects.

All contenders get the same bytes, a real page from the local server, and build typed
objects with UUID, Decimal and datetime fields: the SDK (its fast decoder, envelope
unwrapping, cattrs structuring and ``pageInfo``), pydantic v2 ``model_validate_json`` and a
msgspec ``Struct`` decoder. ``json.loads`` alone (no types at all) is the yardstick.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import orjson
import pydantic
from pydantic.alias_generators import to_camel

import thoughtcredits as tc
from thoughtcredits._converter import parse_page_info, structure_many
from thoughtcredits._wire import loads, unwrap_envelope

OP = "APICreditActionsByClientIdAndAccountIdAndActionType"

# --- pydantic v2: the same fields, camelCase aliases, frozen like the SDK's models ---


class _PydanticBase(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(alias_generator=to_camel, frozen=True)


class PydanticAction(_PydanticBase):
    """CreditAction as a pydantic v2 model."""

    id: UUID
    client: UUID
    action: str
    amount: Decimal
    timestamp: datetime
    updated_at: datetime
    target: UUID | None = None
    target_type: str | None = None
    target_balance_in: Decimal | None = None
    target_balance_out: Decimal | None = None
    initiator: UUID | None = None
    initiator_type: str | None = None
    credit_account_name: str | None = None
    source: UUID | None = None
    source_type: str | None = None
    source_balance_in: Decimal | None = None
    source_balance_out: Decimal | None = None


class PydanticPageInfo(_PydanticBase):
    """CursorPageInfo as a pydantic v2 model."""

    has_more: bool = False
    cursor: str | None = None
    per_page: int | None = None
    total: int | None = None


class PydanticPayload(_PydanticBase):
    """The listing payload."""

    client_id: UUID
    credit_account_id: UUID
    credit_actions: tuple[PydanticAction, ...]
    page_info: PydanticPageInfo


class PydanticData(pydantic.BaseModel):
    """``data`` with its one operation key."""

    APICreditActionsByClientIdAndAccountIdAndActionType: PydanticPayload  # noqa: N815


class PydanticEnvelope(pydantic.BaseModel):
    """The whole response body."""

    data: PydanticData


# --- msgspec: the same fields as frozen Structs ---


class MsgspecAction(msgspec.Struct, rename="camel", frozen=True):
    """CreditAction as a msgspec Struct."""

    id: UUID
    client: UUID
    action: str
    amount: Decimal
    timestamp: datetime
    updated_at: datetime
    target: UUID | None = None
    target_type: str | None = None
    target_balance_in: Decimal | None = None
    target_balance_out: Decimal | None = None
    initiator: UUID | None = None
    initiator_type: str | None = None
    credit_account_name: str | None = None
    source: UUID | None = None
    source_type: str | None = None
    source_balance_in: Decimal | None = None
    source_balance_out: Decimal | None = None


class MsgspecPageInfo(msgspec.Struct, rename="camel", frozen=True):
    """CursorPageInfo as a msgspec Struct."""

    has_more: bool = False
    cursor: str | None = None
    per_page: int | None = None
    total: int | None = None


class MsgspecPayload(msgspec.Struct, rename="camel", frozen=True):
    """The listing payload."""

    client_id: UUID
    credit_account_id: UUID
    credit_actions: tuple[MsgspecAction, ...]
    page_info: MsgspecPageInfo


class MsgspecData(msgspec.Struct, frozen=True):
    """``data`` with its one operation key."""

    APICreditActionsByClientIdAndAccountIdAndActionType: MsgspecPayload  # noqa: N815


class MsgspecEnvelope(msgspec.Struct, frozen=True):
    """The whole response body."""

    data: MsgspecData


_msgspec_decoder = msgspec.json.Decoder(MsgspecEnvelope)


def sdk_page(raw: bytes) -> tuple[tuple[tc.CreditAction, ...], tc.PageInfo]:
    """What the SDK does with a page's bytes (``_resource._build_page`` without a Response)."""
    payload: Any = unwrap_envelope(loads(raw), "creditActions")
    return (
        structure_many(payload["creditActions"], tc.CreditAction),
        parse_page_info(payload["pageInfo"]),
    )


def contenders(raw: bytes) -> dict[str, Callable[[], object]]:
    """Each way of decoding ``raw``, as a no-argument callable."""
    decoded = loads(raw)
    items = unwrap_envelope(decoded, "creditActions")["creditActions"]  # type: ignore[index]
    return {
        "json.loads": lambda: json.loads(raw),
        "orjson.loads": lambda: orjson.loads(raw),
        "sdk": lambda: sdk_page(raw),
        "sdk_structure_only": lambda: structure_many(items, tc.CreditAction),
        "pydantic": lambda: PydanticEnvelope.model_validate_json(raw),
        "msgspec": lambda: _msgspec_decoder.decode(raw),
    }


def check_equivalent(raw: bytes) -> None:
    """Every typed contender must read the same values, or the comparison means nothing."""
    sdk_items, _ = sdk_page(raw)
    pyd = PydanticEnvelope.model_validate_json(raw).data
    msg = _msgspec_decoder.decode(raw).data
    pyd_items = pyd.APICreditActionsByClientIdAndAccountIdAndActionType.credit_actions
    msg_items = msg.APICreditActionsByClientIdAndAccountIdAndActionType.credit_actions
    for ours, theirs, other in zip(sdk_items, pyd_items, msg_items, strict=True):
        for name in ("id", "amount", "timestamp", "target", "source_balance_out"):
            if not getattr(ours, name) == getattr(theirs, name) == getattr(other, name):
                raise RuntimeError(f"contenders disagree on {name} of action {ours.id}")


def _per_call(fn: Callable[[], object], number: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - started) / number)
    return best


def bench_decode(raw: bytes, items: int, *, number: int, repeat: int) -> dict[str, Any]:
    """(c): seconds per page for each contender (best of ``repeat``), and the ratios."""
    check_equivalent(raw)
    runs = contenders(raw)
    for fn in runs.values():
        fn()  # warm up: cattrs builds its hooks, pydantic and msgspec their validators
    seconds = {name: _per_call(fn, number, repeat) for name, fn in runs.items()}
    base = seconds["json.loads"]
    return {
        "items_per_page": items,
        "page_bytes": len(raw),
        "us_per_page": {name: s * 1e6 for name, s in seconds.items()},
        "us_per_item": {name: s * 1e6 / items for name, s in seconds.items()},
        "ratio_to_json_loads": {name: s / base for name, s in seconds.items()},
        "c_ratio_sdk_vs_pydantic": seconds["sdk"] / seconds["pydantic"],
        "ratio_sdk_vs_msgspec": seconds["sdk"] / seconds["msgspec"],
    }
