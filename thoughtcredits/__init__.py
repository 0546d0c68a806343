"""thoughtcredits: the async Python SDK for the Thought Industries credits API.

>>> import thoughtcredits as tc
>>> tc.CreditBatchStatus("active") is tc.CreditBatchStatus.ACTIVE
True
"""

from __future__ import annotations

from ._args import NOT_GIVEN, NotGiven
from ._client import JSON, Client
from ._config import DEFAULT_TIMEOUT
from ._events import ClientStats, Event, Hook, PauseEvent, Quota, RetryEvent
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConflictError,
    EventLoopError,
    InternalServerError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ResponseValidationError,
    ThoughtCreditsError,
    UnprocessableEntityError,
)
from ._http.raw import APIResponse
from ._http.retry import RetryPolicy
from ._logs import setup_from_env as _setup_logging
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
from ._options import ClientOptions
from ._quota.rate_limit import RateLimit
from ._quota.redis_limit import RedisRateLimit
from ._resources.pagination import AsyncPaginator
from ._serde.arrow import to_arrow
from ._serde.converter import to_json
from ._transports.base import HTTPRequest, HTTPResponse, RequestContext, Transport
from ._transports.default import AiohttpTransport

__all__ = [
    "DEFAULT_TIMEOUT",
    "JSON",
    "NOT_GIVEN",
    "APIConnectionError",
    "APIResponse",
    "APIStatusError",
    "APITimeoutError",
    "AiohttpTransport",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ClientClosedError",
    "ClientOptions",
    "ClientStats",
    "ConflictError",
    "CreditAccount",
    "CreditAccountStatus",
    "CreditAccountType",
    "CreditAction",
    "CreditBatch",
    "CreditBatchStatus",
    "Event",
    "EventLoopError",
    "HTTPRequest",
    "HTTPResponse",
    "Hook",
    "InternalServerError",
    "NotFoundError",
    "NotGiven",
    "Page",
    "PageInfo",
    "PaginationError",
    "PauseEvent",
    "PermissionDeniedError",
    "Quota",
    "RateLimit",
    "RateLimitError",
    "RedisRateLimit",
    "RequestContext",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "RetryEvent",
    "RetryPolicy",
    "Sublicense",
    "ThoughtCreditsError",
    "Transport",
    "UnprocessableEntityError",
    "__version__",
    "to_arrow",
    "to_json",
]


_setup_logging()


def __getattr__(name: str) -> str:
    if name == "__version__":
        from ._version import version

        return version()
    raise AttributeError(f"module 'thoughtcredits' has no attribute {name!r}")
