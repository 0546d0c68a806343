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

from collections.abc import Callable, Iterable, Mapping

from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.util.types import AttributeValue

from .clients import Watched, server_attributes

__all__ = ["Instruments"]

# The HTTP conventions' advice for http.client.request.duration, in seconds.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)

Attributes = Mapping[str, AttributeValue]


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
