"""``client.credit_accounts``: create credit accounts."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

from .. import _args
from .._args import NOT_GIVEN, Amount, Id, NotGiven, given
from .._http.pipeline import call
from .._models import CreditAccount, CreditAccountType
from .base import Resource, as_raw
from .table import CREATE_CREDIT_ACCOUNT

__all__ = ["CreditAccounts", "CreditAccountsWithRawResponse"]


class CreditAccounts(Resource):
    """``client.credit_accounts``: create credit accounts."""

    @cached_property
    def with_raw_response(self) -> CreditAccountsWithRawResponse:
        """The same methods, returning the :class:`APIResponse` (status, headers, request id)."""
        return CreditAccountsWithRawResponse(CreditAccounts(self._view.as_raw()))

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

        An optional argument left out (``NOT_GIVEN``) or None is not sent. Not retried after
        a 5xx or timeout unless ``retry_unsafe_methods`` is set.
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
        return await call(self._view, CREATE_CREDIT_ACCOUNT, (cid,), body=body)


class CreditAccountsWithRawResponse:
    """``client.credit_accounts.with_raw_response``: ``create`` as a response."""

    def __init__(self, accounts: CreditAccounts) -> None:
        """``accounts`` is a resource on a raw view (its calls answer with the response)."""
        self.create = as_raw(accounts.create)


def _account_type(value: object) -> str:
    if isinstance(value, CreditAccountType):
        return value.value
    return _args.non_empty_str("type", value)
