"""The five credit endpoints: ``client.credit_batches``, ``.credit_actions``, ``.credit_accounts``.

Each method checks every argument, builds the path, query and body exactly as the seed pages
show, and leaves optional arguments that are ``NOT_GIVEN`` (or None) out of the body.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from .. import _args
from .._args import NOT_GIVEN, Id, NotGiven, given
from .._http.interpreter import Listing
from .._models import CreditAccount, CreditAccountType, CreditAction, CreditBatch
from .base import Resource
from .pagination import AsyncPaginator
from .raw import to_raw

__all__ = [
    "CreditAccounts",
    "CreditAccountsWithRawResponse",
    "CreditActions",
    "CreditBatches",
    "CreditBatchesWithRawResponse",
]

Amount = int | Decimal

_BATCHES = Listing(CreditBatch, "APICreditBatchesByClientAndCreditAccount", "creditBatches")
_ACTIONS = Listing(
    CreditAction, "APICreditActionsByClientIdAndAccountIdAndActionType", "creditActions"
)


class CreditBatches(Resource):
    """``client.credit_batches``: list, create and update credit batches."""

    @cached_property
    def with_raw_response(self) -> CreditBatchesWithRawResponse:
        """The same methods, returning the :class:`APIResponse` (status, headers, request id)."""
        return CreditBatchesWithRawResponse(self)

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
            credit_account_id: only batches of this credit account.
            cursor: start from this saved ``pageInfo.cursor`` instead of the first page.
            page: start at this page number (sent as ``page``); how the pages after it are
                asked for is the client's ``pagination`` setting.
            resume_from: continue after a saved :attr:`AsyncPaginator.checkpoint`.
            max_items: stop after this many items.
            page_size: sent as ``perPage``; the server may ignore it.
            prefetch: fetch the next page while the caller handles this one.
        """
        cid = _args.uuid_arg("client_id", client_id)
        query = {"clientId": cid}
        if credit_account_id is not None:
            query["creditAccountId"] = _args.uuid_arg("credit_account_id", credit_account_id)
        return self._paginate(
            ("clients", cid, "creditBatches"), query, _BATCHES, cursor=cursor, page=page,
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

        Not retried after a 5xx or timeout (it could issue the credits twice) unless the
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
        return await self._single(
            "POST", ("clients", cid, "creditBatches"), body, CreditBatch, "CreateCreditBatch"
        )

    async def update(
        self,
        batch_id: Id,
        *,
        name: str | NotGiven | None = NOT_GIVEN,
        expires_on: datetime | NotGiven | None = NOT_GIVEN,
        current_balance: Amount | NotGiven | None = NOT_GIVEN,
    ) -> CreditBatch:
        """``PUT /clients/creditBatches/:id``: rename, re-date or set the balance of a batch.

        Only the arguments given are sent. ``current_balance`` must be a whole number.
        """
        bid = _args.uuid_arg("batch_id", batch_id)
        body: dict[str, object] = {}
        if given(name):
            body["name"] = _args.non_empty_str("name", name)
        if given(expires_on):
            body["expiresOn"] = _args.aware_datetime("expires_on", expires_on)
        if given(current_balance):
            body["currentBalance"] = _args.amount("current_balance", current_balance, integral=True)
        if not body:
            raise ValueError("update: give at least one of name, expires_on, current_balance")
        return await self._single(
            "PUT", ("clients", "creditBatches", bid), body, CreditBatch, "UpdateCreditBatch"
        )


class CreditBatchesWithRawResponse:
    """``client.credit_batches.with_raw_response``: ``create`` and ``update`` as responses."""

    def __init__(self, batches: CreditBatches) -> None:
        self.create = to_raw(batches.create)
        self.update = to_raw(batches.update)


class CreditActions(Resource):
    """``client.credit_actions``: list the ledger of a credit account."""

    def list(
        self,
        client_id: Id,
        credit_account_id: Id,
        *,
        action_type: str,
        cursor: str | None = None,
        page: int | None = None,
        resume_from: str | None = None,
        max_items: int | None = None,
        page_size: int | None = None,
        prefetch: bool = True,
    ) -> AsyncPaginator[CreditAction]:
        """``GET /clients/:id/creditAccount/:creditAccountId/creditActions``.

        Args:
            client_id: the client (fills ``:id`` and ``clientId``).
            credit_account_id: the credit account.
            action_type: required by the API, e.g. ``"debit"`` or ``"credit"``.
            cursor, page, resume_from, max_items, page_size, prefetch: as for
                :meth:`CreditBatches.list`.
        """
        cid = _args.uuid_arg("client_id", client_id)
        aid = _args.uuid_arg("credit_account_id", credit_account_id)
        query = {"clientId": cid, "actionType": _args.non_empty_str("action_type", action_type)}
        return self._paginate(
            ("clients", cid, "creditAccount", aid, "creditActions"), query, _ACTIONS,
            cursor=cursor, page=page, resume_from=resume_from, max_items=max_items,
            page_size=page_size, prefetch=prefetch,
        )  # fmt: skip


class CreditAccounts(Resource):
    """``client.credit_accounts``: create credit accounts."""

    @cached_property
    def with_raw_response(self) -> CreditAccountsWithRawResponse:
        """The same methods, returning the :class:`APIResponse` (status, headers, request id)."""
        return CreditAccountsWithRawResponse(self)

    async def create(
        self,
        client_id: Id,
        *,
        name: str,
        starting_balance: Amount,
        notify_emails: Iterable[str],
        license_ids: Iterable[str],
        batch_days_until_expire: int | NotGiven | None = NOT_GIVEN,
        minimum_batch_amount: int | NotGiven | None = NOT_GIVEN,
        type: CreditAccountType | str | NotGiven | None = NOT_GIVEN,
        credit_batch_name: str | NotGiven | None = NOT_GIVEN,
    ) -> CreditAccount:
        """``POST /clients/:id/creditAccounts``: create an account (and its first batch).

        Not retried after a 5xx or timeout unless ``retry_unsafe_methods`` is set.
        """
        cid = _args.uuid_arg("client_id", client_id)
        body: dict[str, object] = {
            "clientId": cid,
            "name": _args.non_empty_str("name", name),
            "startingBalance": _args.amount("starting_balance", starting_balance),
            "notifyEmails": _args.string_list("notify_emails", notify_emails),
            "licenseIds": _args.string_list("license_ids", license_ids),
        }
        if given(batch_days_until_expire):
            body["batchDaysUntilExpire"] = _args.integer(
                "batch_days_until_expire", batch_days_until_expire, minimum=1
            )
        if given(minimum_batch_amount):
            body["minimumBatchAmount"] = _args.integer("minimum_batch_amount", minimum_batch_amount)
        if given(type):
            body["type"] = _account_type(type)
        if given(credit_batch_name):
            body["creditBatchName"] = _args.non_empty_str("credit_batch_name", credit_batch_name)
        return await self._single(
            "POST",
            ("clients", cid, "creditAccounts"),
            body,
            CreditAccount,
            "APICreateCreditAccount",
        )


class CreditAccountsWithRawResponse:
    """``client.credit_accounts.with_raw_response``: ``create`` as a response."""

    def __init__(self, accounts: CreditAccounts) -> None:
        self.create = to_raw(accounts.create)


def _account_type(value: object) -> str:
    if isinstance(value, CreditAccountType):
        return value.value
    return _args.non_empty_str("type", value)
