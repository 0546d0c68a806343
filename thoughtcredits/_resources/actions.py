"""``client.credit_actions``: the ledger of a credit account."""

from __future__ import annotations

from .. import _args
from .._args import Id
from .._models import CreditAction
from .base import Resource
from .pagination import AsyncPaginator
from .table import LIST_CREDIT_ACTIONS

__all__ = ["CreditActions"]


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
        return self._list(
            LIST_CREDIT_ACTIONS, (cid, aid), query, cursor=cursor, page=page,
            resume_from=resume_from, max_items=max_items, page_size=page_size, prefetch=prefetch,
        )  # fmt: skip
