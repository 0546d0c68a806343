"""The spans of one operation, of its attempts and of a listing, after the HTTP client conventions.

* An **operation** (``credit_batches.create``) is one ``INTERNAL`` span over every attempt and
  wait of one SDK call; waits for the pause, the rate limiter and a retry are its events.
* An **attempt** is one ``CLIENT`` span per HTTP exchange, named ``{method} {url.template}``,
  with ``http.request.method``, ``http.response.status_code``, ``http.request.resend_count``
  (from the second attempt on) and ``error.type``; its duration is also recorded in the
  ``http.client.request.duration`` histogram. While it is current, aiohttp's own
  instrumentation is told to stay quiet (as botocore's instrumentation does), so an attempt is
  not traced twice, and its context is injected into the request's headers.
* A **listing** (``credit_actions.list``) is one ``INTERNAL`` span whose children are its
  pages, each an operation (``credit_actions.list page``).

Nothing here reads a header: the key is never an attribute, an event or a status text, and an
exception is recorded only when it is the SDK's own (whose text never holds the key).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar, Token
from typing import ParamSpec, TypeVar

import attrs
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from .._exceptions import CHANGING_METHODS, APIStatusError, ThoughtCreditsError
from .._printable import request_id as _request_id
from .._transports.base import HTTPRequest, HTTPResponse, Transport
from .metrics import Instruments

__all__ = ["Attempt", "ListingTrace", "Operation", "Target", "quiet"]

P = TypeVar("P")
R = TypeVar("R")
D = TypeVar("D")
A = ParamSpec("A")

logger = logging.getLogger("thoughtcredits")
_told = False


def quiet(default: D) -> Callable[[Callable[A, R]], Callable[A, R | D]]:
    """A telemetry seam that never breaks a request: a failure in it is logged, not raised.

    The first failure is logged at WARNING with its traceback, later ones at DEBUG; the seam
    then answers ``default`` (no telemetry for that call).
    """

    def wrap(method: Callable[A, R]) -> Callable[A, R | D]:
        @functools.wraps(method)
        def guarded(*args: A.args, **kwargs: A.kwargs) -> R | D:
            global _told
            try:
                return method(*args, **kwargs)
            except Exception:
                level = logging.DEBUG if _told else logging.WARNING
                _told = True
                logger.log(level, "thoughtcredits telemetry failed; requests go on", exc_info=True)
                return default

        return guarded

    return wrap


# Where aiohttp's (and every HTTP client's) instrumentation looks for "not this request"; an
# API older than the instrumentations that read it has none.
_SUPPRESS_HTTP: str | None = getattr(otel_context, "_SUPPRESS_HTTP_INSTRUMENTATION_KEY", None)

_APPLIED = {True: "true", False: "false", None: "unknown"}


@attrs.frozen
class Target:
    """What the spans and measurements of one endpoint on one client say of it.

    Attributes:
        name: the operation's name (``credit_batches.create``; ``client.request``).
        method: the HTTP method.
        http_name: an attempt span's name: ``{method} {url.template}``, or the method alone.
        attributes: ``http.request.method``, ``server.address``, ``server.port`` and, for the
            rows of the endpoint table, ``url.template`` (never a concrete id).
    """

    name: str
    method: str
    http_name: str
    attributes: Mapping[str, AttributeValue]


def error_type(error: BaseException) -> str:
    """``error.type``: the status code of a status error, else the exception's class name."""
    if isinstance(error, APIStatusError):
        return str(error.status)
    return type(error).__qualname__


def _fail(span: Span, error: BaseException) -> None:
    span.set_attribute("error.type", error_type(error))
    if isinstance(error, ThoughtCreditsError):  # its text holds no key; a user's might
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, str(error)[:500]))
    else:
        span.set_status(Status(StatusCode.ERROR, type(error).__qualname__))


class ListingTrace:
    """One traced listing: the parent of its pages' operations."""

    __slots__ = ("_current", "context", "pages", "span")

    def __init__(
        self, tracer: Tracer, target: Target, current: ContextVar[ListingTrace | None]
    ) -> None:
        self.span = tracer.start_span(
            target.name, kind=SpanKind.INTERNAL, attributes=target.attributes
        )
        self.context = trace.set_span_in_context(self.span)
        self.pages = 0
        self._current = current  # where the pipeline's entry looks for the listing of a page

    def around(self, fetch: Callable[[P], Awaitable[R]]) -> Callable[[P], Awaitable[R]]:
        """``fetch``, making each page it creates an operation under this listing."""

        def traced(request: P) -> Awaitable[R]:
            token = self._current.set(self)  # read by the pipeline's entry, synchronously
            try:
                return fetch(request)
            finally:
                self._current.reset(token)

        return traced

    @quiet(None)
    def end(self, error: BaseException | None) -> None:
        """End the listing; ``error`` is what ended it (None: done, or stopped by the caller)."""
        self.span.set_attribute("thoughtcredits.pages", self.pages)
        if error is not None:
            _fail(self.span, error)
        self.span.end()


class Operation:
    """One SDK call's span (when tracing) and its attempts' measurements (when metering)."""

    __slots__ = ("attempts", "instruments", "span", "target", "tracer")

    def __init__(
        self,
        tracer: Tracer | None,
        instruments: Instruments | None,
        target: Target,
        listing: ListingTrace | None,
    ) -> None:
        self.tracer, self.instruments, self.target = tracer, instruments, target
        self.attempts = 0
        self.span: Span | None = None
        if tracer is None:
            return
        if listing is None:
            self.span = tracer.start_span(
                target.name, kind=SpanKind.INTERNAL, attributes=target.attributes
            )
            return
        listing.pages += 1
        self.span = tracer.start_span(
            f"{target.name} page",
            context=listing.context,
            kind=SpanKind.INTERNAL,
            attributes={**target.attributes, "thoughtcredits.page": listing.pages},
        )

    @quiet(None)
    def attempt(self, url: str) -> Attempt | None:
        """Start the next attempt's span and clock (``url`` without its query is ``url.full``)."""
        self.attempts += 1
        return Attempt(self, url)

    @quiet(None)
    def waited(self, seconds: float, reason: str, error: BaseException | None = None) -> None:
        """A wait before an attempt, as an event: ``reason`` is retry, pause or rate_limit."""
        if self.span is None:
            return
        attributes: dict[str, AttributeValue] = {
            "thoughtcredits.wait.reason": reason,
            "thoughtcredits.wait.seconds": seconds,
        }
        if error is not None:
            attributes["error.type"] = error_type(error)
        self.span.add_event("thoughtcredits.wait", attributes)

    @quiet(None)
    def end(self, error: BaseException | None, applied: bool | None = False) -> None:
        """End the operation: ``error`` ended it (None: it succeeded); ``applied`` as errors say."""
        span = self.span
        if span is None:
            return
        span.set_attribute("thoughtcredits.attempts", self.attempts)
        if error is not None:
            if self.target.method in CHANGING_METHODS:
                span.set_attribute("thoughtcredits.applied", _APPLIED[applied])
            _fail(span, error)
        span.end()


class Attempt:
    """One HTTP exchange: its ``CLIENT`` span and the start of its duration."""

    __slots__ = ("_ended", "_started", "operation", "span")

    def __init__(self, operation: Operation, url: str) -> None:
        self.operation = operation
        self._ended = False
        self.span: Span | None = None
        tracer, op_span = operation.tracer, operation.span
        if tracer is not None and op_span is not None:
            target = operation.target
            attributes = {**target.attributes, "url.full": url.partition("?")[0]}
            if operation.attempts > 1:
                attributes["http.request.resend_count"] = operation.attempts - 1
            self.span = tracer.start_span(
                target.http_name,
                context=trace.set_span_in_context(op_span),
                kind=SpanKind.CLIENT,
                attributes=attributes,
            )
        self._started = time.perf_counter()

    async def send(self, transport: Transport, request: HTTPRequest) -> HTTPResponse:
        """``transport.send(request)`` with this attempt's span current (and in the headers)."""
        token = None
        if self.span is not None:
            request, token = self._current(request)
        try:
            return await transport.send(request)
        except BaseException as error:
            self.end(None, error)
            raise
        finally:
            if token is not None:
                otel_context.detach(token)

    def _current(self, request: HTTPRequest) -> tuple[HTTPRequest, Token[Context] | None]:
        """Make the span current (HTTP instrumentations quiet) and put it in the headers."""
        try:
            context = trace.set_span_in_context(self.span)  # type: ignore[arg-type]
            if _SUPPRESS_HTTP is not None:
                context = otel_context.set_value(_SUPPRESS_HTTP, True, context)
            headers = dict(request.headers)
            propagate.inject(headers, context=context)
            return attrs.evolve(request, headers=headers), otel_context.attach(context)
        except Exception:  # a propagator's failure: sent as it was, untraced downstream
            logger.debug("thoughtcredits: could not make the attempt's span current", exc_info=True)
            return request, None

    @quiet(None)
    def end(self, response: HTTPResponse | None, error: BaseException | None) -> None:
        """Record the attempt's answer (or error) on its span and in the duration histogram."""
        if self._ended:
            return
        self._ended = True
        operation = self.operation
        status = None if response is None else response.status
        instruments = operation.instruments
        if instruments is not None:
            instruments.attempt_done(
                time.perf_counter() - self._started,
                operation.target.attributes,
                status,
                None if error is None else error_type(error),
            )
        span = self.span
        if span is None:
            return
        if status is not None:
            span.set_attribute("http.response.status_code", status)
            request_id = _request_id(response.headers) if response is not None else None
            if request_id:
                span.set_attribute("thoughtcredits.request_id", request_id)
        if error is not None:
            _fail(span, error)
        span.end()
