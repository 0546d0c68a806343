"""An OpenAPI 3.1 description of the five credit endpoints exactly as the fake server serves
them (``GET /_fake/openapi.json``), for users' own contract tests.

Written from the routes and the validation rules of this package, not from the SDK's models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from . import validate as v
from .routes import API_PATH

if TYPE_CHECKING:
    from .server import FakeCreditsServer

__all__ = ["openapi"]

Schema = dict[str, object]

_UUID: Final[Schema] = {"type": "string", "format": "uuid"}
_TIME: Final[Schema] = {"type": "string", "format": "date-time"}
_AMOUNT: Final[Schema] = {
    "type": "number",
    "minimum": 0,
    "description": f"Exact decimal: at most {v.MAX_INTEGER_DIGITS} integer digits and "
    f"{v.MAX_DECIMALS} decimal places; integral amounts are written as integers.",
}
_INT: Final[Schema] = {"type": "integer", "minimum": 0, "maximum": 10**v.MAX_INT_DIGITS - 1}


def _null(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def _object(required: list[str], **properties: object) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


def _all(**properties: object) -> Schema:
    return _object(list(properties), **properties)


_STRINGS: Final[Schema] = {"type": "array", "items": {"type": "string"}}
_PAGE_INFO: Final = _all(
    perPage={"type": "integer", "minimum": 1, "maximum": v.MAX_PER_PAGE},
    cursor=_null({"type": "string"}),
    total={"type": "integer", "minimum": 0},
    hasMore={"type": "boolean"},
)
_BATCH: Final = _all(
    id=_UUID,
    name=_null({"type": "string"}),
    expiresOn=_null(_TIME),
    startingBalance=_AMOUNT,
    currentBalance=_AMOUNT,
    clientId=_UUID,
    status={"type": "string"},
    createdAt=_TIME,
    updatedAt=_TIME,
    creditAccountId=_UUID,
    allocatedCredits=_AMOUNT,
)
_ACCOUNT: Final = _all(
    id=_UUID,
    clientId=_UUID,
    sublicenses={"type": "array", "items": _all(id=_UUID, deleted={"type": "boolean"})},
    currentBalance=_AMOUNT,
    status={"type": "string"},
    notifyEmails=_STRINGS,
    batchDaysUntilExpire=_null(_INT),
    minimumBatchAmount=_null(_INT),
    createdAt=_TIME,
    updatedAt=_TIME,
    type={"enum": ["client", "company"]},
    name={"type": "string"},
)
_TEXT: Final = _null({"type": "string"})
_ACTION: Final = _all(
    id=_UUID,
    client=_UUID,
    action={"type": "string"},
    amount=_AMOUNT,
    target=_TEXT,
    targetType=_TEXT,
    targetBalanceIn=_null(_AMOUNT),
    targetBalanceOut=_null(_AMOUNT),
    initiator=_TEXT,
    initiatorType=_TEXT,
    creditAccountName={"type": "string"},
    source=_TEXT,
    sourceType=_TEXT,
    sourceBalanceIn=_null(_AMOUNT),
    sourceBalanceOut=_null(_AMOUNT),
    timestamp=_TIME,
    updatedAt=_TIME,
)
_ERROR: Final = _all(error={"type": "string"}, message={"type": "string"})


def _envelope(operation: str, payload: Schema) -> Schema:
    return _all(data=_all(**{operation: payload}))


def _param(name: str, where: str, schema: Schema, *, required: bool = False) -> Schema:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS: Final = {
    "400": _json(_ERROR, "invalid parameters or body; the message names the field"),
    "401": {"description": "missing or wrong bearer key (empty body)"},
    "404": _json(_ERROR, "unknown client (strict mode), account or batch"),
    "413": _json(_ERROR, "body too large"),
    "429": _json(
        _all(
            error={"const": "rate_limit_exceeded"},
            message={"type": "string"},
            retryAfter={"type": "integer"},
        ),
        "rate limited; see Retry-After",
    ),
}
_PAGING: Final = [
    _param("perPage", "query", {"type": "integer", "minimum": 1, "maximum": v.MAX_PER_PAGE}),
    _param("page", "query", {"type": "integer", "minimum": 1}),
    _param("cursor", "query", {"type": "string"}),
]


def _operation(
    operation_id: str,
    params: list[Schema],
    ok: str,
    operation: str,
    payload: Schema,
    body: Schema | None = None,
) -> Schema:
    result: Schema = {
        "operationId": operation_id,
        "parameters": params,
        "responses": {ok: _json(_envelope(operation, payload), "success"), **_ERRORS},
    }
    if body is not None:
        content = {"application/json": {"schema": body}}
        result["requestBody"] = {"required": True, "content": content}
    return result


def _listing(key: str, item: Schema, account: Schema) -> Schema:
    return _all(
        clientId=_UUID,
        creditAccountId=account,
        **{key: {"type": "array", "items": item}},
        pageInfo=_PAGE_INFO,
    )


def openapi(server: FakeCreditsServer) -> Schema:
    """The OpenAPI 3.1 document of the five endpoints served by ``server``."""
    client = _param("id", "path", _UUID)
    client_q = _param("clientId", "query", _UUID, required=True)
    batch_body = _object(
        ["startingBalance"],
        clientId=_UUID,
        startingBalance=_AMOUNT,
        creditAccountId=_UUID,
        name={"type": "string"},
        expiresOn=_TIME,
    )
    update_body = _object(
        [],
        name={"type": "string"},
        expiresOn=_null(_TIME),
        currentBalance={"type": "integer", "minimum": 0, "maximum": 10**v.MAX_INT_DIGITS - 1},
    )
    account_body = _object(
        ["name", "startingBalance", "notifyEmails", "licenseIds"],
        clientId=_UUID,
        name={"type": "string"},
        startingBalance=_AMOUNT,
        notifyEmails=_STRINGS,
        licenseIds=_STRINGS,
        type={"enum": ["client", "company"]},
        batchDaysUntilExpire={"type": "integer", "minimum": 0, "maximum": 1_000_000},
        minimumBatchAmount=_INT,
        creditBatchName={"type": "string"},
    )
    batches = f"{API_PATH}/clients/{{id}}/creditBatches"
    paths: Schema = {
        batches.removeprefix(API_PATH): {
            "get": _operation(
                "list_credit_batches",
                [client, client_q, _param("creditAccountId", "query", _UUID), *_PAGING],
                "200",
                "APICreditBatchesByClientAndCreditAccount",
                _listing("creditBatches", _BATCH, _null(_UUID)),
            ),
            "post": _operation(
                "create_credit_batch", [client], "201", "CreateCreditBatch", _BATCH, batch_body
            ),
        },
        "/clients/creditBatches/{id}": {
            "put": _operation(
                "update_credit_batch",
                [_param("id", "path", _UUID)],
                "200",
                "UpdateCreditBatch",
                _BATCH,
                update_body,
            ),
        },
        "/clients/{id}/creditAccount/{creditAccountId}/creditActions": {
            "get": _operation(
                "list_credit_actions",
                [
                    client,
                    _param("creditAccountId", "path", _UUID),
                    client_q,
                    _param(
                        "actionType", "query", {"type": "string", "minLength": 1}, required=True
                    ),
                    *_PAGING,
                ],
                "200",
                "APICreditActionsByClientIdAndAccountIdAndActionType",
                _listing("creditActions", _ACTION, _UUID),
            ),
        },
        "/clients/{id}/creditAccounts": {
            "post": _operation(
                "create_credit_account",
                [client],
                "201",
                "APICreateCreditAccount",
                _ACCOUNT,
                account_body,
            ),
        },
    }
    base = server.url if server.running else ""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Thought Industries credits API (thoughtcredits fake server)",
            "version": "v2",
        },
        "servers": [{"url": f"{base}{API_PATH}"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }
