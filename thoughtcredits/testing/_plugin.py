"""pytest plugin (entry point ``pytest11: thoughtcredits``): ``credits_server``, ``credits_client``.

pytest imports this module in every project that installs thoughtcredits, so it imports
nothing heavy up front, and without pytest-asyncio the fixtures only fail when a test uses them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from thoughtcredits import Client
    from thoughtcredits.testing import FakeCreditsServer

# find_spec only looks the package up; pytest-asyncio is imported only when present.
HAS_PYTEST_ASYNCIO = importlib.util.find_spec("pytest_asyncio") is not None

_NEEDS_ASYNCIO = (
    "the {} fixture needs pytest-asyncio (pip install pytest-asyncio) to run async fixtures"
)

if HAS_PYTEST_ASYNCIO:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def credits_server() -> AsyncIterator[FakeCreditsServer]:
        """A running :class:`~thoughtcredits.testing.FakeCreditsServer`, stopped after the test.

        Its ledger is empty; client ids register on first use over HTTP, and
        ``credits_server.ledger.add_client()`` registers one for arranging data directly.
        """
        from thoughtcredits.testing import FakeCreditsServer

        async with FakeCreditsServer() as server:
            yield server

    @pytest_asyncio.fixture
    async def credits_client(credits_server: FakeCreditsServer) -> AsyncIterator[Client]:
        """A ``thoughtcredits.Client`` pointed at ``credits_server``, closed after the test."""
        async with credits_server.client() as client:
            yield client

else:  # pragma: no cover - exercised only without pytest-asyncio

    @pytest.fixture(name="credits_server")
    def _credits_server_unavailable() -> NoReturn:
        """Fails: async fixtures need pytest-asyncio."""
        pytest.fail(_NEEDS_ASYNCIO.format("credits_server"))

    @pytest.fixture(name="credits_client")
    def _credits_client_unavailable() -> NoReturn:
        """Fails: async fixtures need pytest-asyncio."""
        pytest.fail(_NEEDS_ASYNCIO.format("credits_client"))
