"""The fake server's request log: a ring buffer of :class:`RecordedRequest`, bounded in size.

Memory stays bounded whatever callers send: at most ``size`` entries, each body cut to
:data:`MAX_BODY_KEPT` bytes, at most :data:`MAX_HEADERS_KEPT` bytes of headers, no body at all
for a request without the right key (the server does not even read it), and at most
:data:`MAX_BODIES_KEPT` bytes of bodies in all: past that, the oldest entries lose their body
(``body_size`` still says how large it was).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from .jsonio import JSONError, loads

__all__ = [
    "DEFAULT_LOG_SIZE",
    "MAX_BODIES_KEPT",
    "MAX_BODY_KEPT",
    "MAX_HEADERS_KEPT",
    "RecordedRequest",
    "RequestLog",
    "capped_headers",
    "escape",
]

DEFAULT_LOG_SIZE: Final = 10_000
"""Requests kept by default; older ones are dropped first."""
MAX_BODY_KEPT: Final = 64 * 1024
"""Bytes of each request body kept in the log (``body_size`` has the full size)."""
MAX_BODIES_KEPT: Final = 64 * 2**20
"""Bytes of bodies the whole log keeps (10,000 bodies of 64 KiB, decoded too, took 1.2 GB)."""
MAX_HEADERS_KEPT: Final = 8 * 1024
"""Bytes of names and values of each request's headers kept in the log."""


@dataclass(slots=True)
class RecordedRequest:
    """One request as the server received it, and the status it answered (0: dropped)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    """The body, cut to :data:`MAX_BODY_KEPT` bytes; empty when unauthenticated."""
    json: object = field(repr=False)
    """The body decoded (exact ``Decimal`` numbers), or None when cut, empty or not JSON."""
    route: str | None
    status: int = 0
    fault: str | None = None
    """The kind of the injected fault that answered it, if any."""
    body_size: int = 0
    """The size of the body received, in bytes (0 when it was not read)."""

    def keep_body(self, raw: bytes) -> None:
        """Record ``raw`` as the body, within the bounds."""
        self.body_size = len(raw)
        self.body = raw[:MAX_BODY_KEPT]
        if raw and len(raw) <= MAX_BODY_KEPT:
            try:
                self.json = loads(raw)
            except JSONError:
                self.json = None

    def line(self, *, secret: str) -> str:
        """The request as one printable line, ``METHOD /path -> status [fault]``, with
        ``secret`` (the server's key) shown as ``***`` wherever a caller put it."""
        fault = f" [{self.fault}]" if self.fault else ""
        text = f"{escape(self.method)} {escape(self.path)}"
        if secret:
            text = text.replace(escape(secret), "***")
        return f"{text} -> {self.status}{fault}"

    def to_json(self, *, bodies: bool, secret: str) -> dict[str, object]:
        """The entry as ``GET /_fake/requests`` lists it: never the key, bodies if asked."""

        def clean(text: str) -> str:
            return text.replace(secret, "***") if secret else text

        entry: dict[str, object] = {
            "method": clean(self.method),
            "path": clean(self.path),
            "query": {clean(k): clean(v) for k, v in self.query.items()},
            "status": self.status,
            "route": self.route,
            "fault": self.fault,
            "bodySize": self.body_size,
        }
        if bodies:
            entry["body"] = clean(self.body.decode("utf-8", "replace")) if self.body else None
            entry["bodyTruncated"] = self.body_size > len(self.body)
        return entry


def escape(text: str) -> str:
    """``text`` with backslashes, control characters and non-printable text escaped, so a
    caller cannot forge log lines or send terminal escapes."""
    if text.isprintable() and "\\" not in text:
        return text
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")  # fmt: skip
    return "".join(out)


def capped_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The first headers that fit in :data:`MAX_HEADERS_KEPT` bytes (names and values)."""
    kept: dict[str, str] = {}
    budget = MAX_HEADERS_KEPT
    for name, value in headers.items():
        budget -= len(name) + len(value)
        if budget < 0:
            break
        kept[name] = value
    return kept


class RequestLog:
    """The last ``size`` requests, oldest first; ``total`` counts every request ever logged.

    Bodies are kept (:meth:`keep_body`) up to ``body_bytes`` in all, the newest first.
    """

    def __init__(self, size: int = DEFAULT_LOG_SIZE, body_bytes: int = MAX_BODIES_KEPT) -> None:
        if size < 1:
            raise ValueError("log_size: must be at least 1")
        self._entries: deque[RecordedRequest] = deque(maxlen=size)
        self._bodies: deque[tuple[RecordedRequest, int]] = deque()  # in the order kept
        self._body_bytes = 0
        self._budget = body_bytes
        self.total = 0

    def keep_body(self, entry: RecordedRequest, raw: bytes) -> None:
        """Record ``raw`` as the body of ``entry`` (logged already); older bodies go when
        the log holds more than its bytes of bodies."""
        entry.keep_body(raw)
        if not entry.body:
            return
        self._bodies.append((entry, len(entry.body)))
        self._body_bytes += len(entry.body)
        while len(self._bodies) > self.size:  # its entry has left the ring by now
            self._body_bytes -= self._bodies.popleft()[1]
        while self._body_bytes > self._budget and len(self._bodies) > 1:
            old, size = self._bodies.popleft()
            self._body_bytes -= size
            old.body, old.json = b"", None

    @property
    def size(self) -> int:
        """How many entries the log keeps."""
        return self._entries.maxlen or 0

    def append(self, entry: RecordedRequest) -> None:
        """Log a request, dropping the oldest when full."""
        self._entries.append(entry)
        self.total += 1

    def clear(self) -> None:
        """Forget every entry (``total`` keeps counting)."""
        self._entries.clear()
        self._bodies.clear()
        self._body_bytes = 0

    def recent(self, limit: int | None = None) -> list[RecordedRequest]:
        """The last ``limit`` entries (all when None), oldest first."""
        if limit is None or limit >= len(self._entries):
            return list(self._entries)
        return list(self._entries)[len(self._entries) - limit :]

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)
