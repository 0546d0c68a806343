"""The request log is bounded by the bytes of the bodies it keeps, not only by its entries:
10,000 bodies of 60 KB took 1.2 GB of the server's memory."""

from __future__ import annotations

import json

from thoughtcredits.testing import FakeCreditsServer
from thoughtcredits.testing._server.log import MAX_BODIES_KEPT, RecordedRequest, RequestLog

from .conftest import Http, account_body
from .test_admin import admin


async def test_past_its_bytes_the_oldest_bodies_go_and_their_size_stays(
    http: Http, fake: FakeCreditsServer, cid: str
) -> None:
    """20 creates of about 20 kB, a log of 100 entries and 100 kB of bodies: the newest 4
    keep their body, the older 16 keep their entry and ``bodySize`` (``bodyTruncated``)."""
    fake.log = RequestLog(100, body_bytes=100_000)
    bodies = [account_body(name=f"{n:02d}" + "x" * 20_000) for n in range(20)]
    for body in bodies:
        assert (await http.post(f"/clients/{cid}/creditAccounts", body)).status == 201
    entries = (await admin(http, "GET", "/requests?bodies=1")).json["requests"]
    assert [e["bodySize"] for e in entries] == [len(json.dumps(b)) for b in bodies]
    assert [e["body"] is not None for e in entries] == [False] * 16 + [True] * 4
    assert [e["bodyTruncated"] for e in entries] == [True] * 16 + [False] * 4
    assert [json.loads(e["body"]) for e in entries[16:]] == bodies[16:]
    assert [r.json for r in fake.requests[16:]] == bodies[16:]
    assert {r.json for r in fake.requests[:16]} == {None}


def test_the_default_log_keeps_at_most_64_mib_of_bodies() -> None:
    """A log of 10,000 entries given 2,000 bodies of 64 KiB keeps the newest 1,024 of them."""
    log = RequestLog()
    assert MAX_BODIES_KEPT == 64 * 2**20
    body = b'"' + b"x" * (64 * 1024 - 2) + b'"'
    for _ in range(2_000):
        entry = _entry()
        log.append(entry)
        log.keep_body(entry, body)
    assert [len(entry.body) for entry in log] == [0] * 976 + [len(body)] * 1_024
    assert {entry.body_size for entry in log} == {len(body)}


def _entry() -> RecordedRequest:
    return RecordedRequest("POST", "/", {}, {}, b"", None, "create_credit_account")
