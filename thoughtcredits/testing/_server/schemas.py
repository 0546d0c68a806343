"""JSON Schema pieces for ``/_fake/openapi.json``: the records, envelopes and parameters.

Written from the seed pages and this package's own validation bounds, not from the SDK's
models, so a contract test against the document checks the SDK independently.
"""

from __future__ import annotations

from typing import Final

from .._ledger import fields as f
from .validate import MAX_PER_PAGE

__all__ = [
    "ACCOUNT",
    "ACTION",
    "AMOUNT",
    "BATCH",
    "CLIENT_QUERY",
    "ERROR",
    "INT",
    "PAGING",
    "STRINGS",
    "TIME",
    "UUID",
    "Schema",
    "every",
    "listing",
    "nullable",
    "obj",
    "param",
]

Schema = dict[str, object]

UUID: Final[Schema] = {"type": "string", "format": "uuid"}
TIME: Final[Schema] = {"type": "string", "format": "date-time"}
AMOUNT: Final[Schema] = {
    "type": "number",
    "minimum": 0,
    "description": f"Exact decimal: at most {f.MAX_INTEGER_DIGITS} integer digits and "
    f"{f.MAX_DECIMALS} decimal places; integral amounts are written as integers.",
}
INT: Final[Schema] = {"type": "integer", "minimum": 0, "maximum": 10**f.MAX_INT_DIGITS - 1}
STRINGS: Final[Schema] = {"type": "array", "items": {"type": "string"}}


def nullable(schema: Schema) -> Schema:
    """``schema`` or null."""
    return {"oneOf": [schema, {"type": "null"}]}


def obj(required: list[str], **properties: object) -> Schema:
    """An object with these properties, of which ``required`` must be present."""
    return {"type": "object", "required": required, "properties": properties}


def every(**properties: object) -> Schema:
    """An object whose properties are all present."""
    return obj(list(properties), **properties)


def param(name: str, where: str, schema: Schema, *, required: bool = False) -> Schema:
    """An OpenAPI parameter (a path parameter is always required)."""
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema}


_PAGE_INFO: Final = every(
    perPage={"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
    cursor=nullable({"type": "string"}),
    total={"type": "integer", "minimum": 0},
    hasMore={"type": "boolean"},
)
BATCH: Final = every(
    id=UUID,
    name=nullable({"type": "string"}),
    expiresOn=nullable(TIME),
    startingBalance=AMOUNT,
    currentBalance=AMOUNT,
    clientId=UUID,
    status={"type": "string"},
    createdAt=TIME,
    updatedAt=TIME,
    creditAccountId=UUID,
    allocatedCredits=AMOUNT,
)
ACCOUNT: Final = every(
    id=UUID,
    clientId=UUID,
    sublicenses={"type": "array", "items": every(id=UUID, deleted={"type": "boolean"})},
    currentBalance=AMOUNT,
    status={"type": "string"},
    notifyEmails=STRINGS,
    batchDaysUntilExpire=nullable(INT),
    minimumBatchAmount=nullable(INT),
    createdAt=TIME,
    updatedAt=TIME,
    type={"enum": ["client", "company"]},
    name={"type": "string"},
)
_TEXT: Final = nullable({"type": "string"})
ACTION: Final = every(
    id=UUID,
    client=UUID,
    action={"type": "string"},
    amount=AMOUNT,
    target=_TEXT,
    targetType=_TEXT,
    targetBalanceIn=nullable(AMOUNT),
    targetBalanceOut=nullable(AMOUNT),
    initiator=_TEXT,
    initiatorType=_TEXT,
    creditAccountName={"type": "string"},
    source=_TEXT,
    sourceType=_TEXT,
    sourceBalanceIn=nullable(AMOUNT),
    sourceBalanceOut=nullable(AMOUNT),
    timestamp=TIME,
    updatedAt=TIME,
)
ERROR: Final = every(error={"type": "string"}, message={"type": "string"})
CLIENT_QUERY: Final = param("clientId", "query", UUID, required=True)
PAGING: Final = (
    param("perPage", "query", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}),
    param("page", "query", {"type": "integer", "minimum": 1}),
    param("cursor", "query", {"type": "string"}),
)


def listing(key: str, item: Schema, account: Schema) -> Schema:
    """A page of ``item`` under ``key``, with the client, the account filter and pageInfo."""
    return every(
        clientId=UUID,
        creditAccountId=account,
        **{key: {"type": "array", "items": item}},
        pageInfo=_PAGE_INFO,
    )
