"""The seams the pipeline, the listings and the client call; OpenTelemetry loaded on demand.

An application that never loads OpenTelemetry's API sets no provider, so there is nothing to
record: every seam then costs a dictionary lookup, and the API (70 modules, about 9,000
objects) is not imported by the SDK. Once the application has loaded it, the first operation
loads the SDK's spans and instruments (``setup``), which look the global providers up at each
operation from then on. This is the cost the extra promises to keep off an application that has
``opentelemetry-api`` installed (often for another library) but does not use it: measured in
``benchmarks/compare.py --otel installed`` against ``--otel imported``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .clients import Watchable, Watched
from .context import current_listing

if TYPE_CHECKING:
    from .setup import Providers, Row
    from .spans import ListingTrace, Operation

__all__ = ["Telemetry"]

_API = ("opentelemetry.trace", "opentelemetry.metrics")


class Telemetry:
    """The SDK's telemetry, bound to OpenTelemetry once the application has loaded its API."""

    def __init__(self) -> None:
        self.clients = Watched()
        self.parent = current_listing  # the traced listing whose page is being created now
        self._providers: Providers | None = None

    def watch(self, client: Watchable) -> None:
        """Report ``client``'s quota and counters while it is open."""
        self.clients.add(client)

    def _bound(self) -> Providers | None:
        providers = self._providers
        if providers is None:
            modules = sys.modules
            if _API[0] not in modules and _API[1] not in modules:
                return None  # the application has not loaded OpenTelemetry: nothing is set
            from .setup import Providers  # on demand: see the module's docstring

            providers = self._providers = Providers(self.clients)
        return providers

    def operation(
        self, endpoint: Row, base_url: str, base_path: str, listing: ListingTrace | None
    ) -> Operation | None:
        """The telemetry of one SDK call (None when no provider is configured)."""
        providers = self._providers or self._bound()
        return (
            None
            if providers is None
            else providers.operation(endpoint, base_url, base_path, listing)
        )

    def listing(self, endpoint: Row, base_url: str, base_path: str) -> ListingTrace | None:
        """The span of one walk through a listing (None when not tracing)."""
        providers = self._providers or self._bound()
        return None if providers is None else providers.listing(endpoint, base_url, base_path)
