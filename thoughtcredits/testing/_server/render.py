"""JSON for the fake server, written by hand: exact Decimals, seed-page field order, fast pages.

Written independently of the SDK's wire code so a bug in one cannot hide a bug in the other.
Timestamps look like ``2024-01-01T00:00:00.000Z``; integral amounts are JSON integers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

from .._ledger.records import AccountRecord, ActionRow, BatchRecord

__all__ = [
    "account_json",
    "actions_json",
    "batch_json",
    "dumps",
    "envelope",
    "jstr",
    "num",
    "page_info_json",
    "timestamp",
]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_DAYS: dict[int, str] = {}
_STRINGS: dict[str, str] = {}


def timestamp(ms: int) -> str:
    """Epoch milliseconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    day, rest = divmod(ms, 86_400_000)
    date = _DAYS.get(day)
    if date is None:
        moment = _EPOCH + timedelta(days=day)
        # strftime("%Y") does not pad years before 1000 on every platform.
        date = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        if len(_DAYS) < 100_000:
            _DAYS[day] = date
    seconds, milli = divmod(rest, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{date}{hours:02d}:{minutes:02d}:{seconds:02d}.{milli:03d}Z"


def jstr(value: str | None) -> str:
    """A JSON string (or ``null``); repeated strings (ids, types) are escaped once."""
    if value is None:
        return "null"
    quoted = _STRINGS.get(value)
    if quoted is None:
        quoted = json.dumps(value)
        if len(_STRINGS) < 50_000:
            _STRINGS[value] = quoted
    return quoted


def num(value: int | Decimal | None) -> str:
    """A JSON number written exactly (never through ``float``), or ``null``."""
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return str(int(value))
        return format(value, "f")
    raise TypeError(f"not an amount: {value!r}")


def _ts(ms: int | None) -> str:
    return "null" if ms is None else f'"{timestamp(ms)}"'


def batch_json(b: BatchRecord) -> str:
    """One ``CreditBatch`` object, fields in the seed page's order."""
    return (
        f'{{"id":"{b.id}","name":{jstr(b.name)},"expiresOn":{_ts(b.expires_on)},'
        f'"startingBalance":{num(b.starting_balance)},"currentBalance":{num(b.current_balance)},'
        f'"clientId":"{b.client_id}","status":{jstr(b.status)},'
        f'"createdAt":"{timestamp(b.created_at)}","updatedAt":"{timestamp(b.updated_at)}",'
        f'"creditAccountId":"{b.account_id}","allocatedCredits":{num(b.allocated_credits)}}}'
    )


def account_json(a: AccountRecord) -> str:
    """One ``CreditAccount`` object, fields in the seed page's order."""
    # A sublicense is the account's own grant of a license, with its own UUID (seed S9b),
    # derived from the pair so it is stable without storing it.
    sublicenses = ",".join(
        f'{{"id":"{uuid.uuid5(uuid.UUID(a.id), lid)}","deleted":false}}' for lid in a.license_ids
    )
    emails = ",".join(jstr(e) for e in a.notify_emails)
    return (
        f'{{"id":"{a.id}","clientId":"{a.client_id}","sublicenses":[{sublicenses}],'
        f'"currentBalance":{num(a.current_balance)},"status":{jstr(a.status)},'
        f'"notifyEmails":[{emails}],"batchDaysUntilExpire":{num(a.batch_days_until_expire)},'
        f'"minimumBatchAmount":{num(a.minimum_batch_amount)},'
        f'"createdAt":"{timestamp(a.created_at)}","updatedAt":"{timestamp(a.updated_at)}",'
        f'"type":{jstr(a.type)},"name":{jstr(a.name)}}}'
    )


def actions_json(rows: Sequence[ActionRow], client_id: str, account_name: str, prefix: str) -> str:
    """``CreditAction`` objects joined by commas; ``prefix`` + seq is each action's id."""
    q, n, ts = jstr, num, timestamp
    client = f'"client":"{client_id}"'
    name = f'"creditAccountName":{q(account_name)}'
    return ",".join(
        [
            f'{{"id":"{prefix}{r[0]:012x}",{client},"action":{q(r[1])},"amount":{n(r[2])},'
            f'"target":{q(r[3])},"targetType":{q(r[4])},"targetBalanceIn":{n(r[5])},'
            f'"targetBalanceOut":{n(r[6])},"initiator":{q(r[7])},"initiatorType":{q(r[8])},'
            f'{name},"source":{q(r[9])},"sourceType":{q(r[10])},"sourceBalanceIn":{n(r[11])},'
            f'"sourceBalanceOut":{n(r[12])},"timestamp":"{t}","updatedAt":"{t}"}}'
            for r in rows
            for t in (ts(r[13]),)
        ]
    )


def page_info_json(per_page: int, cursor: str | None, total: int, has_more: bool) -> str:
    """A ``CursorPageInfo`` object."""
    more = "true" if has_more else "false"
    return f'{{"perPage":{per_page},"cursor":{jstr(cursor)},"total":{total},"hasMore":{more}}}'


def envelope(operation: str, payload: str) -> bytes:
    """``{"data": {"<operation>": payload}}`` as UTF-8 bytes."""
    return f'{{"data":{{"{operation}":{payload}}}}}'.encode()


def dumps(value: object) -> str:
    """Encode a JSON-able value; ``Decimal`` is written digit for digit."""
    if isinstance(value, Decimal):
        return num(value)
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)
