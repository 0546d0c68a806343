"""``client.credit_batches``: list, create and update credit batches."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from .. import _args
from .._args import NOT_GIVEN, Amount, Id, NotGiven, given
from .._http.pipeline import call
from .._models import CreditBatch
from .base import Resource, as_raw
from .pagination import AsyncPaginator
from .table import CREATE_CREDIT_BATCH, LIST_CREDIT_BATCHES, UPDATE_CREDIT_BATCH

__all__ = ["CreditBatches", "CreditBatchesWithRawResponse"]


class CreditBatches(Resource):
    """``client.credit_batches``: list, create and update credit batches."""

    @cached_property
    def with_raw_response(self) -> CreditBatchesWithRawResponse:
        """The same methods, returning the :class:`APIResponse` (status, headers, request id)."""
        return CreditBatchesWithRawResponse(CreditBatches(self._view.as_raw()))

    def list(
        self,
        client_id: Id,
        *,
        credit_account_id: Id | None = None,
        cursor: str | None = None,
        page: int | None = None,
        resume_from: str | None = None,
        max_items: int | None = None,
        page_size: int | None = None,
        prefetch: bool = True,
    ) -> AsyncPaginator[CreditBatch]:
        """``GET /clients/:id/creditBatches``: the client's batches, optionally of one account.

        Returns at once; nothing is sent until the paginator is iterated.

        Args:
            client_id: the client (fills the ``:id`` path segment and ``clientId``).
            credit_account_id: only batches of this credit account (None: of every account).
            cursor: start from this saved ``pageInfo.cursor`` instead of the first page.
            page: start at this page number (sent as ``page``); how the pages after it are
                asked for is the client's ``pagination`` setting.
            resume_from: continue after a saved :attr:`AsyncPaginator.checkpoint`.
            max_items: stop after this many items (None: no limit).
            page_size: sent as ``perPage``; the server may ignore it.
            prefetch: fetch the next page while the caller handles this one.
        """
        cid = _args.uuid_arg("client_id", client_id)
        query = {"clientId": cid}
        if credit_account_id is not None:
            query["creditAccountId"] = _args.uuid_arg("credit_account_id", credit_account_id)
        return self._list(
            LIST_CREDIT_BATCHES, (cid,), query, cursor=cursor, page=page,
            resume_from=resume_from, max_items=max_items, page_size=page_size, prefetch=prefetch,
        )  # fmt: skip

    async def create(
        self,
        client_id: Id,
        *,
        starting_balance: Amount,
        credit_account_id: Id | NotGiven | None = NOT_GIVEN,
        name: str | NotGiven | None = NOT_GIVEN,
        expires_on: datetime | NotGiven | None = NOT_GIVEN,
    ) -> CreditBatch:
        """``POST /clients/:id/creditBatches``: issue a new batch of credits.

        An optional argument left out (``NOT_GIVEN``) or None is not sent: the new batch has
        none. Not retried after a 5xx or timeout (it could issue the credits twice) unless the
        client's ``RetryPolicy(retry_unsafe_methods=True)``.

        Raises:
            ValueError, TypeError: an argument is invalid; nothing was sent.
            ResponseValidationError: with ``applied=True`` when the batch was created but the
                answer cannot be read: do not create it again.
        """
        cid = _args.uuid_arg("client_id", client_id)
        body: dict[str, object] = {
            "clientId": cid,
            "startingBalance": _args.amount("starting_balance", starting_balance),
        }
        if given(credit_account_id):
            body["creditAccountId"] = _args.uuid_arg("credit_account_id", credit_account_id)
        if given(name):
            body["name"] = _args.non_empty_str("name", name)
        if given(expires_on):
            body["expiresOn"] = _args.aware_datetime("expires_on", expires_on)
        return await call(self._view, CREATE_CREDIT_BATCH, (cid,), body=body)

    async def update(
        self,
        batch_id: Id,
        *,
        name: str | NotGiven = NOT_GIVEN,
        expires_on: datetime | NotGiven = NOT_GIVEN,
        current_balance: Amount | NotGiven = NOT_GIVEN,
    ) -> CreditBatch:
        """``PUT /clients/creditBatches/:id``: rename, re-date or set the balance of a batch.

        Only the arguments given are sent; one left out (``NOT_GIVEN``) stays unchanged. None
        is refused: clearing a field is not something the API documents. ``current_balance``
        must be a whole number.
        """
        bid = _args.uuid_arg("batch_id", batch_id)
        body: dict[str, object] = {}
        if _args.changed("name", name):
            body["name"] = _args.non_empty_str("name", name)
        if _args.changed("expires_on", expires_on):
            body["expiresOn"] = _args.aware_datetime("expires_on", expires_on)
        if _args.changed("current_balance", current_balance):
            body["currentBalance"] = _args.amount("current_balance", current_balance, integral=True)
        if not body:
            raise ValueError("update: give at least one of name, expires_on, current_balance")
        return await call(self._view, UPDATE_CREDIT_BATCH, (bid,), body=body)


class CreditBatchesWithRawResponse:
    """``client.credit_batches.with_raw_response``: ``create`` and ``update`` as responses."""

    def __init__(self, batches: CreditBatches) -> None:
        """``batches`` is a resource on a raw view (its calls answer with the response)."""
        self.create = as_raw(batches.create)
        self.update = as_raw(batches.update)
