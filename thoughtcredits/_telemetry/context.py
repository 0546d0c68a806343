"""The traced listing whose page is being created: set around that one synchronous call.

Its own module, without OpenTelemetry: the pipeline reads it at every request.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .spans import ListingTrace

__all__ = ["LISTING", "current_listing"]

LISTING: ContextVar[ListingTrace | None] = ContextVar("thoughtcredits_listing", default=None)

current_listing: Callable[[], ListingTrace | None] = LISTING.get
"""The listing a page being created belongs to (None outside a traced listing)."""
