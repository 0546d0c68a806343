"""The SDK's metric instruments: one histogram per attempt, and what the clients' own counters
and quota say, read when the meter collects.

* ``http.client.request.duration`` (s): every attempt, by method, server, ``url.template``,
  status and ``error.type``;
* ``thoughtcredits.client.retries`` ({retry}), ``thoughtcredits.client.rate_limited``
  ({response}, the 429s) and ``thoughtcredits.client.throttle.wait_time`` (s, waited for the
  pause, the rate limit and the concurrency cap): each client's :attr:`Client.stats`, summed by
  server; a closed or collected client's totals stay counted, so the sums never go down;
* ``thoughtcredits.quota.limit`` and ``thoughtcredits.quota.remaining`` ({request}) and
  ``thoughtcredits.quota.paused`` (1 while every request waits out a 429): each open client's
  :attr:`Client.quota`, the key's quota as the client sees it.

Only the public ``quota`` and ``stats`` of a client are read, never the limiter itself.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol
from urllib.parse import urlsplit

from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.util.types import AttributeValue

from .._events import ClientStats, Quota

__all__ = ["Instruments", "Watchable", "Watched", "server", "server_attributes"]

# The HTTP conventions' advice for http.client.request.duration, in seconds.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)

Attributes = Mapping[str, AttributeValue]


class Watchable(Protocol):
    """What the observable instruments read of a client: its public properties only."""

    @property
    def base_url(self) -> str: ...

    @property
    def closed(self) -> bool: ...

    @property
    def quota(self) -> Quota: ...

    @property
    def stats(self) -> ClientStats: ...


def server(base_url: str) -> tuple[str, int]:
    """The host and port of a client's base URL."""
    parts = urlsplit(base_url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def server_attributes(key: tuple[str, int]) -> dict[str, AttributeValue]:
    """``server.address`` and ``server.port``."""
    return {"server.address": key[0], "server.port": key[1]}


class Watched:
    """The clients whose quota and counters the observable instruments report.

    Read from the meter's collection thread while clients are made in their loops: a lock
    guards the list. A client is held weakly; its stats object (a few numbers) strongly, so
    that its totals are kept when it is closed or collected.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: list[tuple[weakref.ref[Watchable], ClientStats, tuple[str, int]]] = []
        self._retired: dict[tuple[str, int], tuple[int, int, float]] = {}
        self._sweep_at = 64

    def add(self, client: Watchable) -> None:
        """Report ``client`` until it is closed or collected."""
        entry = (weakref.ref(client), client.stats, server(client.base_url))
        with self._lock:
            self._live.append(entry)
            sweep = len(self._live) >= self._sweep_at
        if sweep:  # no meter may ever collect: closed clients are folded here too
            live = len(self._open())
            with self._lock:
                self._sweep_at = max(64, 2 * live)

    def _open(self) -> list[tuple[Watchable, ClientStats, tuple[str, int]]]:
        """The open clients; the totals of the others are folded into the retired sums."""
        found, kept = [], []
        with self._lock:
            for entry in self._live:
                ref, stats, key = entry
                client = ref()
                if client is None or client.closed:
                    retries, refused, waited = self._retired.get(key, (0, 0, 0.0))
                    self._retired[key] = (
                        retries + stats.retries,
                        refused + stats.rate_limited,
                        waited + stats.throttle_wait,
                    )
                else:
                    kept.append(entry)
                    found.append((client, stats, key))
            self._live = kept
        return found

    def totals(self) -> dict[tuple[str, int], tuple[int, int, float]]:
        """Retries, 429s and seconds waited, by server, over every client ever watched."""
        sums: dict[tuple[str, int], tuple[int, int, float]] = {}
        for _client, stats, key in self._open():
            retries, refused, waited = sums.get(key, (0, 0, 0.0))
            sums[key] = (
                retries + stats.retries,
                refused + stats.rate_limited,
                waited + stats.throttle_wait,
            )
        with self._lock:
            for key, (retries, refused, waited) in self._retired.items():
                live = sums.get(key, (0, 0, 0.0))
                sums[key] = (live[0] + retries, live[1] + refused, live[2] + waited)
        return sums

    def quotas(self) -> list[tuple[Quota, Attributes]]:
        """Each open client's quota, with its server's attributes."""
        return [(client.quota, server_attributes(key)) for client, _stats, key in self._open()]


class Instruments:
    """The SDK's instruments on one meter."""

    __slots__ = ("duration",)

    def __init__(self, meter: Meter, clients: Watched) -> None:
        self.duration = meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests (each attempt).",
            explicit_bucket_boundaries_advisory=_BUCKETS,
        )

        for name, unit, index, description in (
            ("thoughtcredits.client.retries", "{retry}", 0, "Attempts that were retried."),
            ("thoughtcredits.client.rate_limited", "{response}", 1, "429 answers received."),
            (
                "thoughtcredits.client.throttle.wait_time", "s", 2,
                "Time requests waited for the pause, the rate limit and the concurrency cap.",
            ),
        ):  # fmt: skip
            meter.create_observable_counter(
                name, callbacks=[_counted(clients, index)], unit=unit, description=description
            )
        for name, read, description in (
            ("thoughtcredits.quota.limit", "limit", "Requests the key may make per window."),
            ("thoughtcredits.quota.remaining", "remaining", "Requests left in the window."),
            ("thoughtcredits.quota.paused", "paused", "1 while every request waits out a 429."),
        ):
            meter.create_observable_gauge(
                name,
                callbacks=[_quota(clients, read)],
                unit="1" if read == "paused" else "{request}",
                description=description,
            )

    def attempt_done(
        self, seconds: float, target: Attributes, status: int | None, error: str | None
    ) -> None:
        """Record one attempt's duration."""
        attributes = dict(target)
        if status is not None:
            attributes["http.response.status_code"] = status
        if error is not None:
            attributes["error.type"] = error
        self.duration.record(seconds, attributes)


Callback = Callable[[CallbackOptions], Iterable[Observation]]


def _counted(clients: Watched, index: int) -> Callback:
    """The callback reporting one of the summed counters (retries, 429s, seconds waited)."""

    def observe(_options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(values[index], server_attributes(key))
            for key, values in clients.totals().items()
        ]

    return observe


def _quota(clients: Watched, read: str) -> Callback:
    """The callback reporting one field of each open client's quota (``paused``: 1 or 0)."""

    def observe(_options: CallbackOptions) -> Iterable[Observation]:
        found = []
        for seen, attributes in clients.quotas():
            if read == "paused":
                found.append(Observation(int(seen.paused_until is not None), attributes))
            elif (value := getattr(seen, read)) is not None:
                found.append(Observation(value, attributes))
        return found

    return observe
