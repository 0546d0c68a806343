"""Fixtures for the fake server's own tests: a server and a raw aiohttp client (no SDK)."""

from __future__ import annotations

import json
import json as _json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from thoughtcredits.testing import FakeCreditsServer

KEY = "test-key"
SAMPLES = Path(__file__).parent.parent / "samples"
API = "/incoming/v2"


@dataclass
class Reply:
    """One raw HTTP answer."""

    status: int
    headers: CIMultiDictProxy[str]
    raw: bytes

    @property
    def json(self) -> Any:
        """The body decoded with exact Decimals."""
        return json.loads(self.raw, parse_float=Decimal)

    def payload(self, operation: str) -> Any:
        """The object inside ``{"data": {operation: ...}}`` (and nothing else in the body)."""
        body = self.json
        assert list(body) == ["data"]
        assert list(body["data"]) == [operation]
        return body["data"][operation]


class Http:
    """Plain aiohttp requests to the server, so SDK bugs cannot mask server bugs."""

    def __init__(self, session: aiohttp.ClientSession, server: FakeCreditsServer) -> None:
        self.session = session
        self.server = server

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: object = None,
        data: bytes | None = None,
        key: str | None = KEY,
    ) -> Reply:
        """Send one request to ``/incoming/v2`` + ``path``."""
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        if json is not None:
            data = _json.dumps(json).encode()
            headers["Content-Type"] = "application/json"
        async with self.session.request(
            method, f"{self.server.url}{API}{path}", params=params, data=data, headers=headers
        ) as response:
            return Reply(response.status, response.headers, await response.read())

    async def get(self, path: str, **params: str) -> Reply:
        """GET with query parameters."""
        return await self.call("GET", path, params=params)

    async def post(self, path: str, body: object) -> Reply:
        """POST a JSON body."""
        return await self.call("POST", path, json=body)

    async def put(self, path: str, body: object) -> Reply:
        """PUT a JSON body."""
        return await self.call("PUT", path, json=body)


@pytest.fixture
async def fake() -> AsyncIterator[FakeCreditsServer]:
    """A running fake server with an empty ledger."""
    async with FakeCreditsServer(api_key=KEY) as running:
        yield running


@pytest.fixture
async def http(fake: FakeCreditsServer) -> AsyncIterator[Http]:
    """A raw HTTP client for ``fake``."""
    async with aiohttp.ClientSession() as session:
        yield Http(session, fake)


@pytest.fixture
def cid(fake: FakeCreditsServer) -> str:
    """A registered client id."""
    return str(fake.ledger.add_client())


def seed_sample(name: str) -> Any:
    """The seed page's example response, from ``tests/samples/<name>.json``."""
    return json.loads((SAMPLES / f"{name}.json").read_text())


def same_shape(actual: object, example: object) -> None:
    """``actual`` has the example's keys in the example's order, and JSON types (or null)."""
    if isinstance(example, dict):
        assert isinstance(actual, dict)
        assert list(actual) == list(example)
        for key, value in example.items():
            same_shape(actual[key], value)
    elif isinstance(example, list):
        assert isinstance(actual, list)
        for item in actual:
            same_shape(item, example[0])
    elif actual is not None:
        number = (int, Decimal)
        if isinstance(example, number) and not isinstance(example, bool):
            assert isinstance(actual, number)
            assert not isinstance(actual, bool)
        else:
            assert type(actual) is type(example)


def account_body(**overrides: object) -> dict[str, object]:
    """A valid create-account body."""
    body: dict[str, object] = {
        "name": "Sales",
        "startingBalance": 100,
        "notifyEmails": ["ops@example.com"],
        "licenseIds": ["lic-1"],
    }
    body.update(overrides)
    return body
