"""The local server's endpoint table: one row per credit endpoint, and everything derives
from it: the routes and their names (``Fault.route``, the request log), the answers'
envelopes and statuses, and ``/_fake/openapi.json``.

The table is the server's own, written from the seed pages: it never imports the SDK's, so
each checks the other. Adding an endpoint is one row here and its handler in :mod:`.handlers`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from .._ledger.fields import MAX_DAYS
from . import handlers as h
from .schemas import (
    ACCOUNT,
    ACTION,
    AMOUNT,
    BATCH,
    CLIENT_QUERY,
    INT,
    PAGING,
    STRINGS,
    TIME,
    UUID,
    Schema,
    listing,
    nullable,
    obj,
    param,
)

__all__ = ["API_PATH", "ENDPOINTS", "ROUTES", "Endpoint", "Handler"]

API_PATH: Final = "/incoming/v2"
"""Where the credit endpoints live; every ``Endpoint.path`` is under it."""

Handler = Callable[[h.Served, web.Request], str]
"""Validates a request, acts on the ledger and returns the answer's payload as JSON text."""

_PATH_PARAM: Final = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One credit endpoint as the local server serves and documents it."""

    name: str
    """The route name: ``Fault.route``, ``RecordedRequest.route`` and the operationId."""
    method: str
    path: str
    """Under :data:`API_PATH`, with ``{name}`` path parameters (each a UUID)."""
    operation: str
    """The key of the answer's ``{"data": {...}}`` envelope."""
    status: int
    """The status of a successful answer."""
    handler: Handler
    payload: Schema
    """The JSON Schema of the envelope's payload."""
    query: tuple[Schema, ...] = ()
    """The query parameters, as OpenAPI parameter objects."""
    body: Schema | None = None
    """The JSON Schema of the request body, when there is one."""

    @property
    def path_params(self) -> list[str]:
        """The names of the path parameters, in order."""
        return _PATH_PARAM.findall(self.path)


_BATCH_BODY: Final = obj(
    ["startingBalance"],
    clientId=UUID,
    startingBalance=AMOUNT,
    creditAccountId=UUID,
    name={"type": "string"},
    expiresOn=TIME,
)
_UPDATE_BODY: Final = obj([], name={"type": "string"}, expiresOn=nullable(TIME), currentBalance=INT)
_ACCOUNT_BODY: Final = obj(
    ["name", "startingBalance", "notifyEmails", "licenseIds"],
    clientId=UUID,
    name={"type": "string"},
    startingBalance=AMOUNT,
    notifyEmails=STRINGS,
    licenseIds=STRINGS,
    type={"enum": ["client", "company"]},
    batchDaysUntilExpire={"type": "integer", "minimum": 0, "maximum": MAX_DAYS},
    minimumBatchAmount=INT,
    creditBatchName={"type": "string"},
)
_ACTION_TYPE: Final = param("actionType", "query", {"type": "string", "minLength": 1},
                            required=True)  # fmt: skip

ENDPOINTS: Final = (
    Endpoint("list_credit_batches", "GET", "/clients/{id}/creditBatches",
             "APICreditBatchesByClientAndCreditAccount", 200, h.list_batches,
             listing("creditBatches", BATCH, nullable(UUID)),
             query=(CLIENT_QUERY, param("creditAccountId", "query", UUID), *PAGING)),
    Endpoint("create_credit_batch", "POST", "/clients/{id}/creditBatches",
             "CreateCreditBatch", 201, h.create_batch, BATCH, body=_BATCH_BODY),
    Endpoint("update_credit_batch", "PUT", "/clients/creditBatches/{id}",
             "UpdateCreditBatch", 200, h.update_batch, BATCH, body=_UPDATE_BODY),
    Endpoint("list_credit_actions", "GET",
             "/clients/{id}/creditAccount/{creditAccountId}/creditActions",
             "APICreditActionsByClientIdAndAccountIdAndActionType", 200, h.list_actions,
             listing("creditActions", ACTION, UUID),
             query=(CLIENT_QUERY, _ACTION_TYPE, *PAGING)),
    Endpoint("create_credit_account", "POST", "/clients/{id}/creditAccounts",
             "APICreateCreditAccount", 201, h.create_account, ACCOUNT, body=_ACCOUNT_BODY),
)  # fmt: skip
"""Every credit endpoint the local server serves."""

ROUTES: Final = frozenset(endpoint.name for endpoint in ENDPOINTS)
"""The route names a :class:`~.faults.Fault` may target."""
