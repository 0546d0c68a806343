"""thoughtcredits: the async Python SDK for the Thought Industries credits API.

>>> import thoughtcredits as tc
>>> tc.CreditBatchStatus("active") is tc.CreditBatchStatus.ACTIVE
True
"""

from __future__ import annotations

from ._arrow import to_arrow
from ._client import Client
from ._config import DEFAULT_TIMEOUT
from ._converter import to_json
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ThoughtCreditsError,
    UnprocessableEntityError,
)
from ._models import (
    CreditAccount,
    CreditAccountStatus,
    CreditAccountType,
    CreditAction,
    CreditBatch,
    CreditBatchStatus,
    Page,
    PageInfo,
    Sublicense,
)
from ._pagination import AsyncPaginator
from ._ratelimit import ClientStats, RateLimit
from ._redis import RedisRateLimit
from ._resource import RequestContext
from ._retry import RetryPolicy

__all__ = [
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ClientStats",
    "ConflictError",
    "CreditAccount",
    "CreditAccountStatus",
    "CreditAccountType",
    "CreditAction",
    "CreditBatch",
    "CreditBatchStatus",
    "InternalServerError",
    "NotFoundError",
    "Page",
    "PageInfo",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "RedisRateLimit",
    "RequestContext",
    "ResponseValidationError",
    "RetryPolicy",
    "Sublicense",
    "ThoughtCreditsError",
    "UnprocessableEntityError",
    "__version__",
    "to_arrow",
    "to_json",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from ._version import version

        return version()
    raise AttributeError(f"module 'thoughtcredits' has no attribute {name!r}")
