"""(c): the cost of turning one page of credit actions (bytes) into objects.

All contenders get the same bytes, a real page from the local server, and build typed
objects with UUID, Decimal and datetime fields: the SDK (its exact decoder, envelope
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
from thoughtcredits._http.interpreter import find_payload
from thoughtcredits._serde.converter import parse_page_info, structure_many
from thoughtcredits._serde.exact_json import decode

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

    APICreditActionsByClientIdAndAccountIdAndActionType: PydanticPayload


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

    APICreditActionsByClientIdAndAccountIdAndActionType: MsgspecPayload


class MsgspecEnvelope(msgspec.Struct, frozen=True):
    """The whole response body."""

    data: MsgspecData


msgspec_decoder = msgspec.json.Decoder(MsgspecEnvelope)


def sdk_page(raw: bytes) -> tuple[tuple[tc.CreditAction, ...], tc.PageInfo]:
    """What the SDK does with a page's bytes (the listing path without a Response)."""
    payload: Any = find_payload(decode(raw)[0], OP, "creditActions")
    return (
        structure_many(payload["creditActions"], tc.CreditAction),
        parse_page_info(payload["pageInfo"]),
    )


def contenders(pages: list[bytes]) -> dict[str, Callable[[bytes], object]]:
    """Each way of decoding one page's bytes."""
    # The SDK's structuring alone, on bodies decoded beforehand (looked up by identity).
    decoded = {id(raw): find_payload(decode(raw)[0], OP, "creditActions") for raw in pages}
    return {
        "json.loads": json.loads,
        "orjson.loads": orjson.loads,
        "sdk": sdk_page,
        "sdk_structure_only": lambda raw: structure_many(
            decoded[id(raw)]["creditActions"],  # type: ignore[index]
            tc.CreditAction,
        ),
        "pydantic": PydanticEnvelope.model_validate_json,
        "msgspec": msgspec_decoder.decode,
    }


def check_equivalent(raw: bytes) -> None:
    """Every typed contender must read the same values, or the comparison means nothing."""
    sdk_items, _ = sdk_page(raw)
    pyd = PydanticEnvelope.model_validate_json(raw).data
    msg = msgspec_decoder.decode(raw).data
    pyd_items = pyd.APICreditActionsByClientIdAndAccountIdAndActionType.credit_actions
    msg_items = msg.APICreditActionsByClientIdAndAccountIdAndActionType.credit_actions
    for ours, theirs, other in zip(sdk_items, pyd_items, msg_items, strict=True):
        for name in ("id", "amount", "timestamp", "target", "source_balance_out"):
            if not getattr(ours, name) == getattr(theirs, name) == getattr(other, name):
                raise RuntimeError(f"contenders disagree on {name} of action {ours.id}")


def _per_page(
    runs: dict[str, Callable[[bytes], object]], pages: list[bytes], repeat: int
) -> dict[str, float]:
    """Best seconds per page of each contender; passes interleaved, so load drifts hit all."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, fn in runs.items():
            started = time.process_time()
            for raw in pages:
                fn(raw)
            best[name] = min(best[name], (time.process_time() - started) / len(pages))
    return best


def bench_decode(pages: list[bytes], items: int, *, repeat: int) -> dict[str, Any]:
    """(c): CPU seconds per page for each contender (best of ``repeat`` passes over ``pages``).

    The pages are consecutive pages of one listing, so every action id is new to a
    contender as it would be in a real walk (the SDK caches repeated UUIDs; decoding one
    page over and over would let it skip parsing the ids).
    """
    check_equivalent(pages[0])
    runs = contenders(pages)
    for fn in runs.values():
        fn(pages[0])  # warm up: cattrs builds its hooks, pydantic and msgspec their validators
    seconds = _per_page(runs, pages, repeat)
    base = seconds["json.loads"]
    return {
        "items_per_page": items,
        "pages": len(pages),
        "page_bytes": sum(map(len, pages)) // len(pages),
        "us_per_page": {name: s * 1e6 for name, s in seconds.items()},
        "us_per_item": {name: s * 1e6 / items for name, s in seconds.items()},
        "ratio_to_json_loads": {name: s / base for name, s in seconds.items()},
        "c_ratio_sdk_vs_pydantic": seconds["sdk"] / seconds["pydantic"],
        "ratio_sdk_vs_msgspec": seconds["sdk"] / seconds["msgspec"],
    }
