"""The five credit endpoints: ``client.credit_batches``, ``.credit_actions``, ``.credit_accounts``.

Each method checks every argument, builds the path, query and body exactly as the seed pages
show, and leaves unset optional arguments out of the body.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from . import _args
from ._args import UNSET, Id, Unset
from ._models import CreditAccount, CreditAccountType, CreditAction, CreditBatch
from ._pagination import AsyncPaginator
from ._resource import Resource, single

if TYPE_CHECKING:
    pass

__all__ = ["CreditAccounts", "CreditActions", "CreditBatches"]

T = TypeVar("T")

Amount = int | Decimal


class CreditBatches(Resource):
    """``client.credit_batches``: list, create and update credit batches."""

    def list(
        self,
        client_id: Id,
        *,
        credit_account_id: Id | None = None,
        cursor: str | None = None,
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
            ("clients", cid, "creditBatches"),
            query,
            "creditBatches",
            CreditBatch,
            cursor=cursor,
            resume_from=resume_from,
            max_items=max_items,
            page_size=page_size,
            prefetch=prefetch,
        )

    async def create(
        self,
        client_id: Id,
        *,
        starting_balance: Amount,
        credit_account_id: Id | Unset = UNSET,
        name: str | Unset = UNSET,
        expires_on: datetime | Unset = UNSET,
    ) -> CreditBatch:
        """``POST /clients/:id/creditBatches``: issue a new batch of credits.

        Not retried after a 5xx or timeout (it could issue the credits twice) unless the
        client's ``RetryPolicy(retry_unsafe_methods=True)``.

        Raises:
            ValueError, TypeError: an argument is invalid; nothing was sent.
        """
        cid = _args.uuid_arg("client_id", client_id)
        body: dict[str, object] = {
            "clientId": cid,
            "startingBalance": _args.amount("starting_balance", starting_balance),
        }
        if credit_account_id is not UNSET:
            body["creditAccountId"] = _args.uuid_arg("credit_account_id", credit_account_id)
        if name is not UNSET:
            body["name"] = _args.non_empty_str("name", name)
        if expires_on is not UNSET:
            body["expiresOn"] = _args.aware_datetime("expires_on", expires_on)
        response = await self._client._request("POST", ("clients", cid, "creditBatches"), json=body)
        return single(response, CreditBatch)

    async def update(
        self,
        batch_id: Id,
        *,
        name: str | Unset = UNSET,
        expires_on: datetime | Unset = UNSET,
        current_balance: Amount | Unset = UNSET,
    ) -> CreditBatch:
        """``PUT /clients/creditBatches/:id``: rename, re-date or set the balance of a batch.

        Only the arguments given are sent. ``current_balance`` must be a whole number.
        """
        bid = _args.uuid_arg("batch_id", batch_id)
        body: dict[str, object] = {}
        if name is not UNSET:
            body["name"] = _args.non_empty_str("name", name)
        if expires_on is not UNSET:
            body["expiresOn"] = _args.aware_datetime("expires_on", expires_on)
        if current_balance is not UNSET:
            body["currentBalance"] = _args.amount("current_balance", current_balance, integral=True)
        if not body:
            raise ValueError("update: give at least one of name, expires_on, current_balance")
        response = await self._client._request("PUT", ("clients", "creditBatches", bid), json=body)
        return single(response, CreditBatch)


class CreditActions(Resource):
    """``client.credit_actions``: list the ledger of a credit account."""

    def list(
        self,
        client_id: Id,
        credit_account_id: Id,
        *,
        action_type: str,
        cursor: str | None = None,
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
            cursor, resume_from, max_items, page_size, prefetch: as for
                :meth:`CreditBatches.list`.
        """
        cid = _args.uuid_arg("client_id", client_id)
        aid = _args.uuid_arg("credit_account_id", credit_account_id)
        query = {"clientId": cid, "actionType": _args.non_empty_str("action_type", action_type)}
        return self._paginate(
            ("clients", cid, "creditAccount", aid, "creditActions"),
            query,
            "creditActions",
            CreditAction,
            cursor=cursor,
            resume_from=resume_from,
            max_items=max_items,
            page_size=page_size,
            prefetch=prefetch,
        )


class CreditAccounts(Resource):
    """``client.credit_accounts``: create credit accounts."""

    async def create(
        self,
        client_id: Id,
        *,
        name: str,
        starting_balance: Amount,
        notify_emails: Iterable[str],
        license_ids: Iterable[str],
        batch_days_until_expire: int | Unset = UNSET,
        minimum_batch_amount: int | Unset = UNSET,
        type: CreditAccountType | str | Unset = UNSET,
        credit_batch_name: str | Unset = UNSET,
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
        if batch_days_until_expire is not UNSET:
            body["batchDaysUntilExpire"] = _args.integer(
                "batch_days_until_expire", batch_days_until_expire, minimum=1
            )
        if minimum_batch_amount is not UNSET:
            body["minimumBatchAmount"] = _args.integer("minimum_batch_amount", minimum_batch_amount)
        if type is not UNSET:
            body["type"] = _account_type(type)
        if credit_batch_name is not UNSET:
            body["creditBatchName"] = _args.non_empty_str("credit_batch_name", credit_batch_name)
        response = await self._client._request(
            "POST", ("clients", cid, "creditAccounts"), json=body
        )
        return single(response, CreditAccount)


def _account_type(value: object) -> str:
    if isinstance(value, CreditAccountType):
        return value.value
    return _args.non_empty_str("type", value)
