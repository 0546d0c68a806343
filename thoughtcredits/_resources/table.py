"""The endpoint table: every endpoint the SDK types, one row each.

A row is the method, the path as the API's pages write it, the operation name that keys the
answer (``data.<operation>``), the model (or the shape of a listing's pages), whether the
request may be sent again after a failure that could have reached the server, and the SDK's
name of the call (its traces' name). Adding an endpoint is one row here plus one thin method on
its resource.
"""

from __future__ import annotations

from typing import Any

from .._http.endpoint import Endpoint, PageOf
from .._models import CreditAccount, CreditAction, CreditBatch

__all__ = [
    "CREATE_CREDIT_ACCOUNT",
    "CREATE_CREDIT_BATCH",
    "ENDPOINTS",
    "LIST_CREDIT_ACTIONS",
    "LIST_CREDIT_BATCHES",
    "UPDATE_CREDIT_BATCH",
]

LIST_CREDIT_BATCHES = Endpoint(
    "GET", "/clients/:id/creditBatches", "APICreditBatchesByClientAndCreditAccount",
    PageOf(CreditBatch, "creditBatches"), resend=True, name="credit_batches.list",
)  # fmt: skip
CREATE_CREDIT_BATCH = Endpoint(
    "POST", "/clients/:id/creditBatches", "CreateCreditBatch", CreditBatch, resend=False,
    name="credit_batches.create",
)  # fmt: skip
# PUT sets absolute values: sent twice, it leaves the batch as sent once.
UPDATE_CREDIT_BATCH = Endpoint(
    "PUT", "/clients/creditBatches/:id", "UpdateCreditBatch", CreditBatch, resend=True,
    name="credit_batches.update",
)  # fmt: skip
LIST_CREDIT_ACTIONS = Endpoint(
    "GET", "/clients/:id/creditAccount/:creditAccountId/creditActions",
    "APICreditActionsByClientIdAndAccountIdAndActionType", PageOf(CreditAction, "creditActions"),
    resend=True, name="credit_actions.list",
)  # fmt: skip
CREATE_CREDIT_ACCOUNT = Endpoint(
    "POST", "/clients/:id/creditAccounts", "APICreateCreditAccount", CreditAccount, resend=False,
    name="credit_accounts.create",
)  # fmt: skip

ENDPOINTS: tuple[Endpoint[Any], ...] = (
    LIST_CREDIT_BATCHES,
    CREATE_CREDIT_BATCH,
    UPDATE_CREDIT_BATCH,
    LIST_CREDIT_ACTIONS,
    CREATE_CREDIT_ACCOUNT,
)
"""Every row, in the order of the API's pages."""
