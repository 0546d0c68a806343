"""Separate worker processes share one key against ``serve-fake --rate-limit``: the short
version of ``benchmarks/shared_quota.py`` (about 12 s in all).

The server allows 20 requests a second with a burst of 10; each configuration runs its worker
processes (8 tasks each) for 3 s from a common start, then compares what was answered with
what the server allows (burst + rate * time).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import RedisServer

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "shared_quota.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shared_quota", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["shared_quota"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


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
