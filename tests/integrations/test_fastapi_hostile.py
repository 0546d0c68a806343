"""Hostile request ids and server text on their way to an app's caller and its log.

The credits service's answer comes from a raw loopback server (its header bytes exactly as
written, a byte that is not UTF-8 included); the app is called through ``httpx.ASGITransport``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

import thoughtcredits as tc
from thoughtcredits.fastapi import install_error_handlers

from ..conftest import API_KEY, CLIENT_ID

ESC = "\x1b"


@pytest.fixture
async def service() -> AsyncIterator[str]:
    """A loopback service answering every request 500, with hostile id and message bytes."""
    body = json.dumps({"message": f"boom {ESC}]0;owned{ESC}\\ {ESC}[2J"}).encode()
    answer = (
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
        b"X-Request-Id: svc\xff" + ESC.encode() + b"[2Jid\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(reply, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    async with server:
        yield f"http://{host}:{port}"


async def call(service: str, own_id: str, path: str = "/issue/n") -> httpx.Response:
    """POST ``path`` of an app whose one route issues credits through ``service``."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/issue/{note}")
    async def issue(note: str) -> None:
        async with tc.Client(service, API_KEY, retry=None) as client:
            await client.credit_batches.create(CLIENT_ID, starting_balance=1)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        return await http.post(path, headers={"X-Request-ID": own_id.encode("latin-1")})


def handled(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    """The one WARNING of the app's error handler."""
    (record,) = [r for r in caplog.records if r.name == "thoughtcredits.fastapi"]
    return record


async def test_an_undecodable_service_request_id_still_tells_the_caller_applied_null(
    service: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A 0xFF byte in the service's X-Request-Id made the handler's JSON encoder raise: the
    caller got a bare 500 without "applied", and nothing was logged. It is escaped now."""
    with caplog.at_level(logging.WARNING, logger="thoughtcredits"):
        response = await call(service, "app-1")
    assert response.status_code == 424
    body = response.json()
    assert body["applied"] is None
    assert body["request_id"] == "svc\\udcff\\x1b[2Jid"
    message = handled(caplog).getMessage()
    assert "service request id svc\\udcff\\x1b[2Jid; this request id app-1" in message
    assert "boom \\x1b]0;owned\\x1b\\ \\x1b[2J" in message  # the service's text, escaped
    assert ESC not in caplog.text
    assert "\udcff" not in caplog.text
    caplog.text.encode("utf-8")  # a UTF-8 log file takes every line
    assert API_KEY not in caplog.text


@pytest.mark.parametrize(
    "own_id",
    [f"a{ESC}[2J{ESC}[1;1Hforged line", "\x00\x07\x7f\x85\xa0", "x" * 1_000_000],
    ids=["ansi", "controls", "1mb"],
)
async def test_the_callers_request_id_is_logged_printable_and_bounded(
    service: str, caplog: pytest.LogCaptureFixture, own_id: str
) -> None:
    """The app's own X-Request-ID is the caller's text: escaped, and 200 characters at most."""
    with caplog.at_level(logging.WARNING, logger="thoughtcredits.fastapi"):
        response = await call(service, own_id)
    assert response.status_code == 424
    record = handled(caplog)
    logged = record.tc_app_request_id  # type: ignore[attr-defined]
    assert logged.isprintable()
    assert len(logged) <= 200 * 6 + 1  # (each escape is at most 6 characters)
    assert logged in record.getMessage()
    assert len(record.getMessage()) < 3_000
    if own_id.startswith("x"):
        assert logged == "x" * 200 + "…"


async def test_the_path_the_caller_asked_for_is_logged_printable_and_bounded(
    service: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A path with an escape sequence (%1B, decoded by the server) is logged escaped and cut."""
    with caplog.at_level(logging.WARNING, logger="thoughtcredits.fastapi"):
        await call(service, "app-1", "/issue/n%1B[2J%1B]0;owned%07")
        await call(service, "app-2", "/issue/" + "p" * 5000)
    handler = [r.getMessage() for r in caplog.records if r.name == "thoughtcredits.fastapi"]
    first, second = handler
    assert first.startswith("POST /issue/n\\x1b[2J\\x1b]0;owned\\x07 answered 424")
    assert second.startswith(f"POST /issue/{'p' * 993}… answered 424")
    assert ESC not in caplog.text
