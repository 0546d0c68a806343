"""The pure response interpreter: status, headers and bytes in; a model, a page or an error out.

Like gidgethub's ``sansio.decipher_response``, nothing here does I/O, so every rule is a
table test. The rules:

* a status of 300 or more is the typed :class:`APIStatusError` for it;
* a body over the size cap is a :class:`ResponseTooLargeError`;
* the body is decoded once, exactly (``exact_json.decode``);
* the payload is found **by name**: the endpoint's documented operation key first, then the
  other shapes of ``research/ti-api.md`` §5; extra keys anywhere are ignored;
* a 2xx answer to POST or PUT that cannot be read still raises, with ``applied=True``: the
  change was made on the server and must not be sent again (and it is logged at WARNING).
  So is one whose body broke off on the wire after the status line (a short Content-Length, a
  cut chunk, bad gzip); a request that may be resent (a read, a PUT) then retries instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

from .._exceptions import (
    CHANGING_METHODS,
    APIConnectionError,
    ResponseTooLargeError,
    ResponseValidationError,
    without_note,
)
from .._models import Page
from .._printable import request_id
from .._serde.converter import parse_page_info, structure, structure_many
from .._serde.exact_json import decode, loads_exact
from .._serde.scalars import decimal_hook
from .status import error_from_response

__all__ = [
    "Expect",
    "Listing",
    "RawJSON",
    "Single",
    "Unparsed",
    "decipher",
    "find_payload",
]

logger = logging.getLogger("thoughtcredits")

T = TypeVar("T")


@attrs.frozen
class Single(Generic[T]):
    """A create/update answer: one ``cls`` under ``data.<operation>``."""

    cls: type[T]
    operation: str


@attrs.frozen
class Listing(Generic[T]):
    """A listing answer: ``items_key`` items of ``cls`` plus ``pageInfo``."""

    cls: type[T]
    operation: str
    items_key: str
    request_cursor: str | None = None
    request_page: int | None = None


@attrs.frozen
class RawJSON:
    """Any answer of :meth:`Client.request`: the decoded JSON as it is."""


@attrs.frozen
class Unparsed:
    """A ``with_raw_response`` call: check the status and size now; read as ``inner`` on demand."""

    inner: Single[Any] | Listing[Any] | RawJSON


Expect = Single[Any] | Listing[Any] | RawJSON | Unparsed


def decipher(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    expect: Expect,
    *,
    method: str,
    url: str,
    complete: bool = True,
    max_body: int | None = None,
    body_error: APIConnectionError | None = None,
    resend: bool = False,
    sent: Mapping[str, str] | None = None,
) -> Any:
    """Interpret one response; return what ``expect`` asks for, or raise the typed error.

    Args:
        status, headers, body: the response.
        expect: :class:`Single`, :class:`Listing` or :class:`RawJSON`.
        method, url: the request, for errors.
        complete: False when the transport stopped reading at ``max_body``.
        max_body: the size cap, also checked here (a custom transport may not enforce it).
        body_error: why the body broke off after the status line, or None.
        resend: the request may be sent again (its row says so): a body that broke off is
            then the transport's error, to retry.
        sent: the request's headers: its key is never quoted from an error's body.

    Raises:
        APIStatusError: the status was 300 or more (a subclass per status).
        ResponseValidationError: a 2xx body that cannot be read; ``applied`` is True for POST
            and PUT.
        APIConnectionError: ``body_error``, for a 2xx answer to a request that may be resent.
    """
    too_large = not complete or (max_body is not None and len(body) > max_body)
    if status >= 300:
        if too_large or body_error is not None:
            body = b""  # not JSON we can trust; the status says what matters
        key = "" if sent is None else sent.get("Authorization", "").partition(" ")[2]
        raise error_from_response(status, headers, body, method=method, url=url, secret=key)
    if body_error is not None and resend:
        raise body_error  # a read, or a PUT: sending it again does no harm
    applied = method in CHANGING_METHODS
    try:
        if body_error is not None:
            raise ResponseValidationError(
                f"the {status} answer broke off while its body was read "
                f"({' '.join(body_error.message.split())})",
                method=method,
                url=url,
                status=status,
                applied=applied,
            ) from body_error
        if too_large:
            raise ResponseTooLargeError(
                f"response body is larger than max_response_size ({max_body} bytes)",
                method=method,
                url=url,
                status=status,
                applied=applied,
            )
        if isinstance(expect, Unparsed):
            return None
        return _payload(status, headers, body, expect, method=method, url=url)
    except ResponseValidationError as error:
        if applied and not error.applied:
            error = type(error)(
                error.message, method=method, url=url, body=error.body, status=status, applied=True
            )
        elif not error.status:
            error.status = status
        error.request_id = request_id(headers)
        if applied:
            logger.warning(
                "%s %s answered %d but the body cannot be read; the change was made on the "
                "server and must not be sent again: %s",
                method,
                url,
                status,
                without_note(error.message),
                extra={"tc_method": method, "tc_status": status, "tc_applied": True},
            )
        raise error from error.__cause__


def _payload(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    expect: Single[Any] | Listing[Any] | RawJSON,
    *,
    method: str,
    url: str,
) -> Any:
    if not body or body.isspace():  # isspace() stops at the first non-space byte
        if isinstance(expect, RawJSON):
            return None
        raise ResponseValidationError(
            f"empty {status} response", method=method, url=url, status=status
        )
    try:
        decoded, exact = decode(body)
        if isinstance(expect, RawJSON):
            if not exact and _has_float(decoded):
                decoded = loads_exact(body)  # an exponent or a 64-bit overflow: read it exactly
            _check_numbers(decoded, method=method, url=url)
            return decoded
        try:
            return _structured(decoded, headers, expect, method=method, url=url)
        except ResponseValidationError:
            if exact or not _has_float(decoded):
                raise
        # orjson made a float of an exponent-only or a 20-digit number, and the hooks refused
        # it: a rare body, read once more exactly (a truly bad body fails the same way again).
        return _structured(loads_exact(body), headers, expect, method=method, url=url)
    except ValueError as exc:
        raise ResponseValidationError(
            f"response is not valid JSON: {exc}", method=method, url=url, body=body[:200]
        ) from None


def _structured(
    decoded: object,
    headers: Mapping[str, str],
    expect: Single[Any] | Listing[Any],
    *,
    method: str,
    url: str,
) -> Any:
    if isinstance(expect, Single):
        found = find_payload(decoded, expect.operation)
        return structure(found, expect.cls, method=method, url=url)
    payload = find_payload(decoded, expect.operation, expect.items_key)
    items = payload.get(expect.items_key) if isinstance(payload, dict) else None
    if not isinstance(payload, dict) or not isinstance(items, list):
        raise ResponseValidationError(
            f"expected a {expect.items_key!r} array in the response",
            method=method,
            url=url,
            body=decoded,
        )
    return Page(
        items=structure_many(items, expect.cls, method=method, url=url),
        page_info=parse_page_info(payload.get("pageInfo"), method=method, url=url),
        request_cursor=expect.request_cursor,
        request_page=expect.request_page,
        headers=headers,
        request_id=request_id(headers),
    )


def _has_float(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is float:
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _check_numbers(value: object, *, method: str, url: str) -> None:
    """Refuse any number of ``Client.request`` JSON beyond the SDK's amount bounds."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Decimal | int) and not isinstance(item, bool):
            try:
                decimal_hook(item, Decimal)
            except ValueError as exc:
                raise ResponseValidationError(
                    f"number out of bounds: {exc}", method=method, url=url
                ) from None


def find_payload(body: object, operation: str, items_key: str | None = None) -> object:
    """The payload inside the shapes the API uses (``research/ti-api.md`` §5).

    1. ``data.<operation>``, the endpoint's documented key, whatever else ``data`` holds;
    2. ``data`` itself when it holds ``items_key`` (a listing without the operation level);
    3. ``data`` with one key whose value is an object (an undocumented operation name);
    4. ``data`` as a list: the items, with a top-level ``pageInfo``;
    5. otherwise the body as it is (a top-level payload).
    """
    if not isinstance(body, dict):
        return body
    data = body.get("data")
    if isinstance(data, dict):
        inner = data.get(operation)
        if isinstance(inner, dict):
            return inner
        if items_key is not None and items_key in data:
            return data
        if len(data) == 1:
            (only,) = data.values()
            if isinstance(only, dict):
                return only
        return data
    if isinstance(data, list) and items_key is not None:
        return {items_key: data, "pageInfo": body.get("pageInfo")}
    return body
