"""(f) The key's quota in one process: how much of what the server allows does a job get?

One process, 16 tasks, each sending GETs as fast as its client lets it, against
``thoughtcredits serve-fake`` running each limiter model in turn: token buckets of burst 1,
10 and 100, a fixed and a sliding 60 s window. Three client settings: the defaults
(``rate_limit="auto"``), an explicit ``RateLimit`` five times the server's rate, and
``rate_limit=None``. The figures, per run:

- **done ÷ allowed**: requests answered 2xx ÷ what a perfect client gets from the same
  server in the same time (``TokenBucket.allowance`` and friends: a full burst plus the
  rate; the limit once per window touched);
- **429 share**: answers refused ÷ all answers;
- **failed**: requests that raised (none should).

    .venv/bin/python benchmarks/quota.py [--only bucket-600/1 ...] [--settings default 5x]
        [--seconds 20] [--json FILE]

A token-bucket job lasts ``--seconds``; a window job two windows (about 2 minutes).

``make bench-quota`` runs this, then ``benchmarks/shared_quota.py`` (several processes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import time
import uuid
from typing import Any

import aiohttp
from _processes import serve_fake

import thoughtcredits as tc
from thoughtcredits.testing._server.limits import (
    FixedWindow,
    LimiterSpec,
    SlidingWindow,
    TokenBucket,
    parse_limit,
)

MODELS: dict[str, str] = {
    "bucket-1200/10": "1200/10",
    "bucket-1200/100": "1200/100",
    "bucket-600/1": "600/1",
    "fixed-300/60": "fixed-window:300/60",
    "sliding-300/60": "sliding-window:300/60",
}
SETTINGS = ("default", "5x", "none")
TASKS = 16


def per_minute(spec: LimiterSpec) -> float:
    """The server's sustained rate, per minute."""
    if isinstance(spec, TokenBucket):
        return float(spec.per_minute)
    return spec.limit * 60.0 / spec.seconds


def allowance(spec: LimiterSpec, seconds: float, start: float) -> float:
    """What a perfect client gets in ``seconds`` from epoch ``start`` (a fresh limiter)."""
    if isinstance(spec, FixedWindow):
        return spec.allowance(seconds, start=start)
    return spec.allowance(seconds)


def client_limit(spec: LimiterSpec, setting: str) -> tc.RateLimit | str | None:
    return {
        "default": "auto",
        "5x": tc.RateLimit(per_minute=5 * per_minute(spec)),
        "none": None,
    }[setting]


def deadline(spec: LimiterSpec, start: float, seconds: float) -> float:
    """When a job started at epoch ``start`` stops: after ``seconds``, or for a window, 2 s
    before the end of its second window (a perfect client gets the whole limit in each
    window it touches, however late in it; stopping just after a window began would count
    a window no client could have used)."""
    if isinstance(spec, FixedWindow):
        return (math.floor(start / spec.seconds) + 2) * spec.seconds - 2.0
    if isinstance(spec, SlidingWindow):
        return start + 2 * spec.seconds - 2.0
    return start + seconds


async def job(
    url: str, api_key: str, spec: LimiterSpec, setting: str, seconds: float
) -> dict[str, Any]:
    """``TASKS`` tasks send GETs until the deadline; returns the counts.

    A request still waiting or in flight at the deadline is cancelled and not counted.
    """
    client_id = str(uuid.uuid4())  # the server registers it on first use
    path, query = f"/clients/{client_id}/creditBatches", {"clientId": client_id}
    done = failed = 0
    errors: dict[str, int] = {}
    limit: Any = client_limit(spec, setting)
    async with tc.Client(url, api_key, rate_limit=limit) as client:
        start = time.time()
        stop = deadline(spec, start, seconds)
        loop = asyncio.get_running_loop()

        async def task() -> None:
            nonlocal done, failed
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(loop.time() + stop - time.time()):
                    while True:
                        try:
                            await client.request("GET", path, query=query)
                        except tc.ThoughtCreditsError as error:
                            failed += 1
                            name = type(error).__name__
                            errors[name] = errors.get(name, 0) + 1
                            continue
                        done += 1

        await asyncio.gather(*(task() for _ in range(TASKS)))
        stats = client.stats
    allowed = allowance(spec, stop - start, start)
    return {
        "model": str(spec),
        "setting": setting,
        "seconds": round(stop - start, 3),
        "done": done,
        "allowed": allowed,
        "ratio": round(done / allowed, 4),
        "answers": stats.requests,
        "rate_limited": stats.rate_limited,
        "share_429": round(stats.rate_limited / max(1, stats.requests), 4),
        "failed": failed,
        "errors": errors,
        "retries": stats.retries,
    }


async def reset(url: str, api_key: str) -> None:
    """A fresh limiter (full bucket, new window) for the next job."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/_fake/reset", headers={"Authorization": f"Bearer {api_key}"}) as r,
    ):
        r.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--settings", nargs="*", choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument("--seconds", type=float, default=20.0, help="per token-bucket job")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    rows = []
    print(f"{'server':34} {'client':8} {'done/allowed':>12} {'429s':>12} {'failed':>6}")
    for name in args.only:
        spec = parse_limit(MODELS[name])
        seconds = args.seconds
        with serve_fake(MODELS[name]) as exported:
            url, key = exported["THOUGHTCREDITS_BASE_URL"], exported["THOUGHTCREDITS_API_KEY"]
            for setting in args.settings:
                asyncio.run(reset(url, key))
                row = asyncio.run(job(url, key, spec, setting, seconds))
                rows.append(row)
                print(
                    f"{row['model']:34} {setting:8} {row['ratio']:12.3f} "
                    f"{row['rate_limited']:5d} ({row['share_429']:5.1%}) {row['failed']:6d}",
                    flush=True,
                )
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"tasks": TASKS, "runs": rows}, file, indent=2)


if __name__ == "__main__":
    main()
