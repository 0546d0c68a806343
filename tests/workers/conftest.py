"""The worker tests' Redis: a real ``redis-server`` on a free loopback port, emptied per test.

These tests run under ``make test-workers``, in one environment per engine (arq and Celery
pin conflicting redis-py versions); a test of an engine that is not installed is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis.conftest import REDIS_SERVER, RedisServer, running_redis


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "arq: needs arq (make test-workers)")
    config.addinivalue_line("markers", "celery: needs celery (make test-workers)")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if REDIS_SERVER is None:
        pytest.fail("the worker tests need a redis-server binary (apt-get install redis-server)")
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The server's URL, emptied before each test."""
    import redis

    redis_server.ensure_running()
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url
