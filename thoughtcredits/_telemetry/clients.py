"""The clients whose quota and counters the metrics report, and where each one talks to.

No OpenTelemetry import here: clients are registered whether or not the application ever
loads OpenTelemetry's API.
"""

from __future__ import annotations

import threading
import weakref
from typing import Protocol
from urllib.parse import urlsplit

from .._events import ClientStats, Quota

__all__ = ["Watchable", "Watched", "server", "server_attributes"]


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


def server_attributes(key: tuple[str, int]) -> dict[str, str | int]:
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
                    _add(self._retired, key, stats)
                else:
                    kept.append(entry)
                    found.append((client, stats, key))
            self._live = kept
        return found

    def totals(self) -> dict[tuple[str, int], tuple[int, int, float]]:
        """Retries, 429s and seconds waited, by server, over every client ever watched."""
        sums: dict[tuple[str, int], tuple[int, int, float]] = {}
        for _client, stats, key in self._open():
            _add(sums, key, stats)
        with self._lock:
            for key, (retries, refused, waited) in self._retired.items():
                live = sums.get(key, (0, 0, 0.0))
                sums[key] = (live[0] + retries, live[1] + refused, live[2] + waited)
        return sums

    def quotas(self) -> list[tuple[Quota, dict[str, str | int]]]:
        """Each open client's quota, with its server's attributes."""
        return [(client.quota, server_attributes(key)) for client, _stats, key in self._open()]


def _add(
    sums: dict[tuple[str, int], tuple[int, int, float]], key: tuple[str, int], stats: ClientStats
) -> None:
    """Add one client's retries, 429s and seconds waited to its server's sums."""
    retries, refused, waited = sums.get(key, (0, 0, 0.0))
    sums[key] = (
        retries + stats.retries,
        refused + stats.rate_limited,
        waited + stats.throttle_wait,
    )
