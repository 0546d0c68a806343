"""OpenTelemetry traces and metrics of every request, when ``opentelemetry-api`` is installed.

``pip install 'thoughtcredits[otel]'`` installs the API alone; the application installs the SDK
and its exporters and sets the global providers, as OpenTelemetry's guidance for libraries
says. :data:`TELEMETRY` is None without the API: then every seam in the pipeline is one test
for None, and nothing else runs. With the API installed, nothing of it is imported until the
application has imported it (``seams``), and each operation looks at the two global providers.

What is recorded, and why, is in ``docs/observability.md``: one span per SDK call, one child
span per HTTP attempt, the listing's pages under one listing span, the waits as events, the
``http.client.request.duration`` histogram, and the client's counters and quota as observable
instruments.
"""

from __future__ import annotations

from importlib.util import find_spec

from .seams import Telemetry

__all__ = ["TELEMETRY"]


def _installed() -> bool:
    """Whether OpenTelemetry's API can be imported (without importing it)."""
    try:
        return find_spec("opentelemetry.trace") is not None
    except (ImportError, ValueError):  # its namespace package is missing, or blocked
        return False


TELEMETRY: Telemetry | None = Telemetry() if _installed() else None
