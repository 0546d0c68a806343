"""One timed run: this process's CPU seconds and the wall seconds, and what the run counted.

Standard library only: ``_compare_worker.py`` imports it under any revision of the SDK.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable

__all__ = ["measure"]


async def measure(run: Callable[[], Awaitable[int]]) -> dict[str, float]:
    """This process's CPU seconds and the wall seconds of one run, and what it counted."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    count = await run()
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, "count": count}
