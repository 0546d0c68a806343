"""Separate worker processes share one key against ``serve-fake --rate-limit``: the short
version of ``benchmarks/shared_quota.py`` (about 12 s in all).

The server allows 20 requests a second with a burst of 10; each configuration runs its worker
processes (8 tasks each) for 3 s from a common start, then compares what was answered with
what the server allows (burst + rate * time).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import RedisServer

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "shared_quota.py"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    # The script imports its sibling modules (``_processes``), as when it is run.
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        yield importlib.import_module("shared_quota")
    finally:
        sys.path.remove(str(SCRIPT.parent))


def test_four_processes_sharing_redis_use_the_quota_with_no_429(
    bench: ModuleType, redis_server: RedisServer
) -> None:
    redis_server.ensure_running()
    result = bench.run_config(
        "redis", seconds=3.0, rate="1200/10", tasks=8, redis_url=redis_server.url
    )
    assert result.processes == 4
    assert result.rate_limited == 0
    assert result.ratio >= 0.9, result


def test_two_processes_on_the_defaults_stay_under_the_quota_together(bench: ModuleType) -> None:
    result = bench.run_config("auto", seconds=3.0, rate="1200/10", tasks=8, redis_url=None)
    assert result.processes == 2
    assert result.share_429 <= 0.05, result
    assert result.ratio >= 0.8, result
