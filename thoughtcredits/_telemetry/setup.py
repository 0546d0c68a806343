"""The OpenTelemetry providers in force, and what one operation or listing records on them.

Loaded by ``seams`` once the application has loaded OpenTelemetry's API. The global tracer and
meter providers are looked up at each operation, so an application may configure OpenTelemetry
before or after it builds its clients. While neither is configured (the API's proxies, or its
no-op providers), an operation gets no telemetry object at all.
"""

from __future__ import annotations

import os
import re
import threading
import types
from functools import lru_cache
from typing import Protocol

from opentelemetry import metrics, trace
from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider, Tracer
from opentelemetry.util.types import AttributeValue

from .._version import version
from .clients import Watched, server, server_attributes
from .context import LISTING
from .metrics import Instruments
from .spans import ListingTrace, Operation, Target, quiet

__all__ = ["Providers", "Row"]

_PROXY_METERS: tuple[type[metrics.MeterProvider], ...]
_metrics_state: types.ModuleType
try:  # private, as OpenTelemetry's own test utilities find it; without it, any provider counts
    from opentelemetry.metrics import _internal as _metrics_state
    from opentelemetry.metrics._internal import _ProxyMeterProvider

    _PROXY_METERS = (_ProxyMeterProvider,)
except ImportError:  # pragma: no cover - a future API that moved it
    _metrics_state = metrics
    _PROXY_METERS = ()

_UNKNOWN = object()
# A provider named by these variables is loaded by the API's getter, on first use.
_FROM_ENVIRONMENT = any(
    name in os.environ for name in ("OTEL_PYTHON_TRACER_PROVIDER", "OTEL_PYTHON_METER_PROVIDER")
)


class Row(Protocol):
    """What the spans read of an endpoint table row (``_http.endpoint.Endpoint``)."""

    @property
    def name(self) -> str: ...

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...


_SCOPE = "thoughtcredits"
_HOLE = re.compile(r"/:([A-Za-z_]\w*)")
# The API's stand-ins until an application sets a provider: nothing would be recorded.
_UNSET_TRACING = (ProxyTracerProvider, NoOpTracerProvider)
_UNSET_METRICS = (*_PROXY_METERS, metrics.NoOpMeterProvider)


class Providers:
    """The SDK's tracer and instruments on the global providers in force (rebound on a change)."""

    def __init__(self, clients: Watched) -> None:
        self.clients = clients
        self._lock = threading.Lock()
        self._tracer_provider: object = _UNKNOWN  # (None is "none set", a state of its own)
        self._tracer: Tracer | None = None
        self._meter_provider: object = _UNKNOWN
        self._instruments: Instruments | None = None

    def _bound(self) -> tuple[Tracer | None, Instruments | None]:
        """The tracer and instruments of the global providers; None for one that is not set.

        ``get_tracer_provider()`` and ``get_meter_provider()`` read the environment on each
        call until a provider is set (1.6 and 1.9 µs here): at every operation that was a
        quarter of the SDK's own CPU per call. The API keeps the providers in module globals,
        which is what they read too (as OpenTelemetry's test utilities do), None until one is
        set; the getters remain the way when the globals are not found or a provider is named
        in the environment.
        """
        tracers = getattr(trace, "_TRACER_PROVIDER", _UNKNOWN)
        meters = getattr(_metrics_state, "_METER_PROVIDER", _UNKNOWN)
        if tracers is _UNKNOWN or meters is _UNKNOWN or _FROM_ENVIRONMENT:
            tracers, meters = trace.get_tracer_provider(), metrics.get_meter_provider()
        if tracers is not self._tracer_provider or meters is not self._meter_provider:
            self._bind(tracers, meters)
        return self._tracer, self._instruments

    @quiet(None)
    def _bind(self, tracer_provider: object, meter_provider: object) -> None:
        # Once per provider: a meter refuses a second instrument of the same name.
        with self._lock:
            if tracer_provider is not self._tracer_provider:
                self._tracer = (
                    tracer_provider.get_tracer(_SCOPE, version())
                    if isinstance(tracer_provider, trace.TracerProvider)
                    and not isinstance(tracer_provider, _UNSET_TRACING)
                    else None
                )
                self._tracer_provider = tracer_provider
            if meter_provider is not self._meter_provider:
                self._instruments = (
                    Instruments(meter_provider.get_meter(_SCOPE, version()), self.clients)
                    if isinstance(meter_provider, metrics.MeterProvider)
                    and not isinstance(meter_provider, _UNSET_METRICS)
                    else None
                )
                self._meter_provider = meter_provider

    @quiet(None)
    def operation(
        self,
        endpoint: Row,
        base_url: str,
        base_path: str,
        listing: ListingTrace | None,
    ) -> Operation | None:
        """The telemetry of one SDK call (None when no provider is configured)."""
        tracer, instruments = self._bound()
        if tracer is None and instruments is None:
            return None  # the common case, and the cheapest: nothing more runs
        return _operation(tracer, instruments, target(endpoint, base_url, base_path), listing)

    def listing(self, endpoint: Row, base_url: str, base_path: str) -> ListingTrace | None:
        """The span of one walk through a listing (None when not tracing)."""
        tracer = self._bound()[0]
        if tracer is None:
            return None
        return _listing(tracer, target(endpoint, base_url, base_path), LISTING)


_operation = quiet(None)(Operation)
_listing = quiet(None)(ListingTrace)


def target(endpoint: Row, base_url: str, base_path: str) -> Target:
    """What the spans of ``endpoint`` on the client at ``base_url`` say of it."""
    if endpoint.name:
        return _row(endpoint.name, endpoint.method, endpoint.path, base_url, base_path)
    return _request(endpoint.method, base_url)


@lru_cache(maxsize=256)
def _row(name: str, method: str, path: str, base_url: str, base_path: str) -> Target:
    # "/clients/:id/creditBatches" -> "/incoming/v2/clients/{id}/creditBatches": no id, ever.
    template = base_path + _HOLE.sub(r"/{\1}", path)
    attributes: dict[str, AttributeValue] = {
        "http.request.method": method,
        **server_attributes(server(base_url)),
        "url.template": template,
    }
    return Target(name, method, f"{method} {template}", attributes)


@lru_cache(maxsize=64)
def _request(method: str, base_url: str) -> Target:
    # Client.request's path is the caller's, ids filled in: it is no template, so none is said.
    attributes = {"http.request.method": method, **server_attributes(server(base_url))}
    return Target("client.request", method, method, attributes)
