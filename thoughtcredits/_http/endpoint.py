"""``Endpoint``: one row of the endpoint table, and the URL it makes from path values and query.

A row says everything the pipeline needs to call an endpoint: the method, the path template
(``/clients/:id/creditBatches``, as the API's own pages write it), the operation name that
keys its answer, the model it answers with (or the shape of its pages), and whether it is safe
to send again after a failure that may have reached the server. The rows themselves are in
``thoughtcredits._resources.table``; :func:`request_endpoint` makes the row of one
``Client.request`` call.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Generic, TypeVar, overload
from urllib.parse import quote

import attrs

from .._models import Page
from .interpreter import Listing, RawJSON, Single

__all__ = ["Endpoint", "PageOf", "request_endpoint"]

R = TypeVar("R")
T = TypeVar("T")

# Methods whose request, sent twice, leaves the server as sent once (PUT sets absolute values).
_RESENDABLE = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


@attrs.frozen
class PageOf(Generic[T]):
    """A listing's answer: pages whose ``items`` array holds ``model`` objects."""

    model: type[T]
    items: str


class Endpoint(Generic[R]):
    """One endpoint of the API; calling it gives an ``R`` (a model, or a :class:`Page` of them).

    Args:
        method: the HTTP method.
        path: the path after ``/incoming/v2``; a ``:name`` segment is filled from the call's
            path values, in order.
        operation: the key of the answer in ``data`` (``data.CreateCreditBatch``).
        model: the model of the answer, a :class:`PageOf` for a listing, or :class:`RawJSON`.
        resend: whether sending the request twice does no harm, so that a 5xx, a timeout or a
            drop after sending may be retried (a POST that creates credits may not).
        name: the SDK's name of the call (``credit_batches.create``), for traces; empty for a
            ``Client.request`` call, whose path is concrete, not a template.
    """

    __slots__ = ("answer", "method", "name", "operation", "path", "resend")

    @overload
    def __init__(
        self: Endpoint[Page[T]],
        method: str,
        path: str,
        operation: str,
        model: PageOf[T],
        *,
        resend: bool,
        name: str = "",
    ) -> None: ...

    @overload
    def __init__(
        self: Endpoint[T],
        method: str,
        path: str,
        operation: str,
        model: type[T],
        *,
        resend: bool,
        name: str = "",
    ) -> None: ...

    @overload
    def __init__(
        self: Endpoint[Any], method: str, path: str, operation: str, model: RawJSON, *, resend: bool
    ) -> None: ...

    def __init__(
        self, method: str, path: str, operation: str, model: object, *, resend: bool, name: str = ""
    ) -> None:
        self.name = name
        self.method = method
        self.path = path
        self.operation = operation
        self.resend = resend
        self.answer: Single[Any] | Listing[Any] | RawJSON
        if isinstance(model, PageOf):
            self.answer = Listing(model.model, operation, model.items)
        elif isinstance(model, RawJSON):
            self.answer = model
        else:
            self.answer = Single(model, operation)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"<Endpoint {self.method} {self.path}>"

    def target(
        self,
        base: str,
        base_path: str,
        values: tuple[str, ...],
        query: Mapping[str, str] | None,
    ) -> tuple[str, str]:
        """The request's URL under ``base``, and its path (no query) for logs and events."""
        # Only short texts go through the caches (a cursor or a caller's path can be long).
        template = self.path
        path = _fill(template, values) if len(template) <= _PATH else _fill_long(template, values)
        url = base + path
        if query:
            url += "?" + "&".join([
                f"{_quote(name) if len(name) <= _TEXT else _quote_long(name)}="
                f"{_quote(text) if len(text) <= _TEXT else _quote_long(text)}"
                for name, text in query.items()
            ])  # fmt: skip
        return url, base_path + path


# Ids and route names repeat on every request: quoting them, or filling the same path, anew
# each time was a visible cost, so both are cached, for short texts only: a cache of the
# server's cursors or of the caller's paths could hold megabytes. At worst 4,096 texts of 64
# characters and 1,024 paths of 256 (quoted, up to 9 times as long): about 6 MB.
_TEXT = 64
_PATH = 256


@lru_cache(maxsize=4096)
def _quote(text: str) -> str:
    return quote(text, safe="")


def _quote_long(text: str) -> str:
    return quote(text, safe="")


@lru_cache(maxsize=1024)
def _fill(template: str, values: tuple[str, ...]) -> str:
    """``template`` with its ``:name`` segments replaced by ``values``, every segment quoted."""
    return _fill_long(template, values)


def _fill_long(template: str, values: tuple[str, ...]) -> str:
    """:func:`_fill` without its cache."""
    segments = template.strip("/").split("/")
    holes = [index for index, segment in enumerate(segments) if segment.startswith(":")]
    if len(holes) != len(values):
        raise TypeError(f"{template}: expected {len(holes)} path values, got {len(values)}")
    for index, value in zip(holes, values, strict=True):
        segments[index] = value
    return "/" + "/".join(
        [_quote(part) if len(part) <= _TEXT else _quote_long(part) for part in segments]
    )


def request_endpoint(method: str, path: str) -> Endpoint[Any]:
    """The row of one ``Client.request`` call; anything odd in ``method`` or ``path`` is refused.

    An absolute URL, ``//host``, a backslash or a dot segment could send the key elsewhere than
    the API, so only a plain path under ``/incoming/v2`` is accepted. A ``:name`` segment is a
    template left unfilled (``/clients/:id/licenses``), so it is refused too.
    """
    verb = method.upper() if isinstance(method, str) else method
    if verb not in _METHODS:
        raise ValueError(f"method: expected one of {sorted(_METHODS)}, got {method!r}")
    if not isinstance(path, str) or not path.startswith("/") or "//" in path or "\\" in path:
        raise ValueError(f"path: expected a path like '/clients/ID/licenses', got {path!r}")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("path: is not valid text (a lone surrogate?)") from None
    segments = path.strip("/").split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise ValueError(f"path: empty, '.' or '..' segment in {path!r}")
    unfilled = [segment for segment in segments if segment.startswith(":")]
    if unfilled:
        raise ValueError(f"path: fill in {unfilled[0]!r} (e.g. with an f-string) in {path!r}")
    return Endpoint(verb, path, "", RawJSON(), resend=verb in _RESENDABLE)
