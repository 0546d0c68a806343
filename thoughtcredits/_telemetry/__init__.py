"""OpenTelemetry traces and metrics of every request, when ``opentelemetry-api`` is installed.

``pip install 'thoughtcredits[otel]'`` installs the API alone; the application installs the SDK
and its exporters and sets the global providers, as OpenTelemetry's guidance for libraries
says. :data:`TELEMETRY` is None without the API: then every seam in the pipeline is one test
for None, and nothing else runs. With the API but no provider configured, each operation costs
one look at the two global providers.

What is recorded, and why, is in ``docs/observability.md``: one span per SDK call, one child
span per HTTP attempt, the listing's pages under one listing span, the waits as events, the
``http.client.request.duration`` histogram, and the client's counters and quota as observable
instruments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .setup import Telemetry

__all__ = ["TELEMETRY"]

TELEMETRY: Telemetry | None
try:
    import opentelemetry.metrics
    import opentelemetry.trace  # noqa: F401 - only whether it imports
except ImportError:  # the optional extra is not installed
    TELEMETRY = None
else:
    from .setup import Telemetry

    TELEMETRY = Telemetry()
