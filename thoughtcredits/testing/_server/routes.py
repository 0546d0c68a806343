"""The five credit routes: validate as the seed pages' parameter tables say, then answer.

Paths are those of the seed pages under ``/incoming/v2``; every answer is the seed page's
``{"data": {"<Operation>": ...}}`` envelope, written by :mod:`._render`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .._ledger.records import REGISTER_HINT, BatchRecord, ClientRecord, UnknownEntityError
from . import validate as v
from .http import BODY
from .render import account_json, actions_json, batch_json, envelope, jstr, page_info_json

if TYPE_CHECKING:
    from .server import FakeCreditsServer

__all__ = ["API_PATH", "Routes"]

API_PATH = "/incoming/v2"
_ACCOUNT_TYPES = ("client", "company")
_MAX_DAYS = 1_000_000  # an expiry date must stay within year 9999


def _ok(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, content_type="application/json")


def _batch_seq(batch: BatchRecord) -> int:
    return batch.seq


class Routes:
    """The route handlers of one :class:`FakeCreditsServer` (its ledger and page size)."""

    def __init__(self, server: FakeCreditsServer) -> None:
        self._server = server

    def register(self, app: web.Application) -> None:
        """Add the five routes, named as fault routes are."""
        add, clients = app.router.add_route, f"{API_PATH}/clients"
        add("GET", f"{clients}/{{id}}/creditBatches", self._list_batches,
            name="list_credit_batches")  # fmt: skip
        add("POST", f"{clients}/{{id}}/creditBatches", self._create_batch,
            name="create_credit_batch")  # fmt: skip
        add("PUT", f"{clients}/creditBatches/{{id}}", self._update_batch,
            name="update_credit_batch")  # fmt: skip
        add("GET", f"{clients}/{{id}}/creditAccount/{{creditAccountId}}/creditActions",
            self._list_actions, name="list_credit_actions")  # fmt: skip
        add("POST", f"{clients}/{{id}}/creditAccounts", self._create_account,
            name="create_credit_account")  # fmt: skip

    @contextmanager
    def _client_of(
        self, request: web.Request, given: object, *, required: bool
    ) -> Iterator[ClientRecord]:
        """The client named by the path ``:id``; ``clientId``, when given, must agree.

        An unknown client is registered (unless the server is strict), and forgotten again
        if the request fails: a refused request leaves nothing behind.
        """
        path_id = v.uuid_value("id", request.match_info["id"])
        if given is None:
            if required:
                raise v.BadRequestError("clientId", "required")
        elif v.uuid_value("clientId", given) != path_id:
            raise v.BadRequestError("clientId", "does not match the client id in the path")
        ledger = self._server.ledger
        known = ledger.clients.get(path_id)
        if known is not None:
            yield known
            return
        if self._server.strict_clients:
            raise UnknownEntityError("id", f"no client {path_id}; {REGISTER_HINT}")
        ledger.add_client(path_id)
        try:
            yield ledger.clients[path_id]
        except BaseException:
            del ledger.clients[path_id]
            raise

    async def _list_batches(self, request: web.Request) -> web.Response:
        query = request.query
        account_id = v.optional(query, "creditAccountId", v.uuid_value)
        with self._client_of(request, query.get("clientId"), required=True) as client:
            items = client.batches
            if account_id is not None:
                items = self._server.ledger.account(account_id, client.id).batches
            window, per_page, cursor, more = v.page_window(
                items, _batch_seq, query, self._server.per_page
            )
        payload = (
            f'{{"clientId":"{client.id}","creditAccountId":{jstr(account_id)},'
            f'"creditBatches":[{",".join(map(batch_json, window))}],'
            f'"pageInfo":{page_info_json(per_page, cursor, len(items), more)}}}'
        )
        return _ok(envelope("APICreditBatchesByClientAndCreditAccount", payload))

    async def _create_batch(self, request: web.Request) -> web.Response:
        body = v.body_object(BODY.get())
        starting = v.required(body, "startingBalance", v.number)
        account_id = v.optional(body, "creditAccountId", v.uuid_value)
        name = v.optional(body, "name", v.string)
        expires_on = v.optional(body, "expiresOn", v.timestamp)
        with self._client_of(request, body.get("clientId"), required=False) as client:
            batch = self._server.ledger.create_batch(
                client.id, starting_balance=starting, credit_account_id=account_id, name=name,
                expires_on=expires_on,
            )  # fmt: skip
        return _ok(envelope("CreateCreditBatch", batch_json(batch)), 201)

    async def _update_batch(self, request: web.Request) -> web.Response:
        batch_id = v.uuid_value("id", request.match_info["id"])
        body = v.body_object(BODY.get())
        name = v.optional(body, "name", v.string)
        expires_on = v.optional(body, "expiresOn", v.timestamp)
        balance = v.optional(body, "currentBalance", v.integer)
        batch = self._server.ledger.update_batch(
            batch_id,
            name=name,
            expires_on=expires_on,
            clear_expires_on="expiresOn" in body and body["expiresOn"] is None,
            current_balance=balance,
        )
        return _ok(envelope("UpdateCreditBatch", batch_json(batch)))

    async def _list_actions(self, request: web.Request) -> web.Response:
        query = request.query
        account_id = v.uuid_value("creditAccountId", request.match_info["creditAccountId"])
        action_type = v.required(query, "actionType", v.string)
        if not action_type:
            raise v.BadRequestError("actionType", "required")
        with self._client_of(request, query.get("clientId"), required=True) as client:
            account = self._server.ledger.account(account_id, client.id)
        items = account.actions.get(action_type, [])
        window, per_page, cursor, more = v.page_window(
            items, _row_seq, query, self._server.per_page
        )
        rows = actions_json(window, client.id, account.name, self._server.ledger.action_id_prefix)
        payload = (
            f'{{"clientId":"{client.id}","creditAccountId":"{account.id}",'
            f'"creditActions":[{rows}],'
            f'"pageInfo":{page_info_json(per_page, cursor, len(items), more)}}}'
        )
        return _ok(envelope("APICreditActionsByClientIdAndAccountIdAndActionType", payload))

    async def _create_account(self, request: web.Request) -> web.Response:
        body = v.body_object(BODY.get())
        account_type = v.optional(body, "type", v.string) or "client"
        if account_type not in _ACCOUNT_TYPES:
            raise v.BadRequestError("type", f"expected one of {', '.join(_ACCOUNT_TYPES)}")
        fields: dict[str, Any] = {
            "name": v.required(body, "name", v.string),
            "starting_balance": v.required(body, "startingBalance", v.number),
            "notify_emails": v.required(body, "notifyEmails", v.string_list),
            "license_ids": v.required(body, "licenseIds", v.string_list),
            "batch_days_until_expire": v.optional(body, "batchDaysUntilExpire", _days),
            "minimum_batch_amount": v.optional(body, "minimumBatchAmount", _non_negative),
            "credit_batch_name": v.optional(body, "creditBatchName", v.string),
        }
        with self._client_of(request, body.get("clientId"), required=False) as client:
            account = self._server.ledger.create_account(client.id, type=account_type, **fields)
        return _ok(envelope("APICreateCreditAccount", account_json(account)), 201)


def _days(name: str, value: object) -> int:
    return v.integer(name, value, minimum=0, maximum=_MAX_DAYS)


def _non_negative(name: str, value: object) -> int:
    return v.integer(name, value, minimum=0)


def _row_seq(row: tuple[Any, ...]) -> int:
    seq: int = row[0]
    return seq
