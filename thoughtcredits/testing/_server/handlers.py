"""The credit endpoints' handlers: validate as the seed pages' parameter tables say, then act.

Each handler takes the server's state (:class:`Served`) and the request, and returns the
answer's payload as JSON text; :mod:`.table` names the route, and the server wraps the payload
in the seed page's ``{"data": {"<Operation>": ...}}`` envelope. Handlers are plain functions
with no ``await``: a change to the ledger is never interleaved with another request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from aiohttp import web

from .._ledger import fields as f
from .._ledger.ledger import Ledger
from .._ledger.records import REGISTER_HINT, BatchRecord, ClientRecord, UnknownEntityError
from . import validate as v
from .http import BODY
from .render import account_json, actions_json, batch_json, jstr, page_info_json

__all__ = [
    "Served",
    "create_account",
    "create_batch",
    "list_actions",
    "list_batches",
    "update_batch",
]

_ACCOUNT_TYPES = ("client", "company")


class Served(Protocol):
    """What a handler reads from its server."""

    ledger: Ledger
    per_page: int
    strict_clients: bool


@contextmanager
def _client_of(
    served: Served, request: web.Request, given: object, *, required: bool
) -> Iterator[ClientRecord]:
    """The client named by the path ``:id``; ``clientId``, when given, must agree.

    An unknown client is registered (unless the server is strict), and forgotten again
    if the request fails: a refused request leaves nothing behind.
    """
    path_id = f.uuid_value("id", request.match_info["id"])
    if given is None:
        if required:
            raise f.FieldError("clientId", "required")
    elif f.uuid_value("clientId", given) != path_id:
        raise f.FieldError("clientId", "does not match the client id in the path")
    ledger = served.ledger
    known = ledger.clients.get(path_id)
    if known is not None:
        yield known
        return
    if served.strict_clients:
        raise UnknownEntityError("id", f"no client {path_id}; {REGISTER_HINT}")
    ledger.add_client(path_id)
    try:
        yield ledger.clients[path_id]
    except BaseException:
        del ledger.clients[path_id]
        raise


def _page(served: Served, request: web.Request, items: Any, seq_of: Any) -> tuple[Any, str]:
    """The requested page of ``items``, and its ``pageInfo`` object."""
    window, per_page, cursor, more = v.page_window(items, seq_of, request.query, served.per_page)
    return window, page_info_json(per_page, cursor, len(items), more)


def list_batches(served: Served, request: web.Request) -> str:
    """``GET /clients/:id/creditBatches``: the client's batches (of one account if asked)."""
    query = request.query
    account_id = v.optional(query, "creditAccountId", f.uuid_value)
    with _client_of(served, request, query.get("clientId"), required=True) as client:
        items = client.batches
        if account_id is not None:
            items = served.ledger.account(account_id, client.id).batches
        window, page_info = _page(served, request, items, _batch_seq)
    return (
        f'{{"clientId":"{client.id}","creditAccountId":{jstr(account_id)},'
        f'"creditBatches":[{",".join(map(batch_json, window))}],"pageInfo":{page_info}}}'
    )


def create_batch(served: Served, request: web.Request) -> str:
    """``POST /clients/:id/creditBatches``: issue a batch into one of the client's accounts."""
    body = v.body_object(BODY.get())
    starting = v.required(body, "startingBalance", f.number)
    account_id = v.optional(body, "creditAccountId", f.uuid_value)
    name = v.optional(body, "name", f.string)
    expires_on = v.optional(body, "expiresOn", f.timestamp)
    with _client_of(served, request, body.get("clientId"), required=False) as client:
        batch = served.ledger.create_batch(
            client.id, starting_balance=starting, credit_account_id=account_id, name=name,
            expires_on=expires_on,
        )  # fmt: skip
    return batch_json(batch)


def update_batch(served: Served, request: web.Request) -> str:
    """``PUT /clients/creditBatches/:id``: rename, re-date or set the balance of a batch."""
    batch_id = f.uuid_value("id", request.match_info["id"])
    body = v.body_object(BODY.get())
    name = v.optional(body, "name", f.string)
    expires_on = v.optional(body, "expiresOn", f.timestamp)
    balance = v.optional(body, "currentBalance", f.integer)
    batch = served.ledger.update_batch(
        batch_id,
        name=name,
        expires_on=expires_on,
        clear_expires_on="expiresOn" in body and body["expiresOn"] is None,
        current_balance=balance,
    )
    return batch_json(batch)


def list_actions(served: Served, request: web.Request) -> str:
    """``GET /clients/:id/creditAccount/:creditAccountId/creditActions``: one type's actions."""
    query = request.query
    account_id = f.uuid_value("creditAccountId", request.match_info["creditAccountId"])
    action_type = v.required(query, "actionType", f.string)
    if not action_type:
        raise f.FieldError("actionType", "required")
    with _client_of(served, request, query.get("clientId"), required=True) as client:
        account = served.ledger.account(account_id, client.id)
    items = account.actions.get(action_type, [])
    window, page_info = _page(served, request, items, _row_seq)
    rows = actions_json(window, client.id, account.name, served.ledger.action_id_prefix)
    return (
        f'{{"clientId":"{client.id}","creditAccountId":"{account.id}",'
        f'"creditActions":[{rows}],"pageInfo":{page_info}}}'
    )


def create_account(served: Served, request: web.Request) -> str:
    """``POST /clients/:id/creditAccounts``: an account with its first batch."""
    body = v.body_object(BODY.get())
    account_type = v.optional(body, "type", f.string) or "client"
    if account_type not in _ACCOUNT_TYPES:
        raise f.FieldError("type", f"expected one of {', '.join(_ACCOUNT_TYPES)}")
    fields: dict[str, Any] = {
        "name": v.required(body, "name", f.string),
        "starting_balance": v.required(body, "startingBalance", f.number),
        "notify_emails": v.required(body, "notifyEmails", f.string_list),
        "license_ids": v.required(body, "licenseIds", f.string_list),
        "batch_days_until_expire": v.optional(body, "batchDaysUntilExpire", _days),
        "minimum_batch_amount": v.optional(body, "minimumBatchAmount", _non_negative),
        "credit_batch_name": v.optional(body, "creditBatchName", f.string),
    }
    with _client_of(served, request, body.get("clientId"), required=False) as client:
        account = served.ledger.create_account(client.id, type=account_type, **fields)
    return account_json(account)


def _days(name: str, value: object) -> int:
    return f.integer(name, value, minimum=0, maximum=f.MAX_DAYS)


def _non_negative(name: str, value: object) -> int:
    return f.integer(name, value, minimum=0)


def _batch_seq(batch: BatchRecord) -> int:
    return batch.seq


def _row_seq(row: tuple[Any, ...]) -> int:
    seq: int = row[0]
    return seq
