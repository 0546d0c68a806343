"""One side of ``compare.py``: whichever ``thoughtcredits`` is on ``PYTHONPATH``, measured on ask.

Started by ``compare.py`` with ``PYTHONPATH`` set to one tree of the SDK (a git revision, or the
working tree), it uses the public API only, so any revision can be measured. It speaks JSON
lines: it reads the server's details, answers ``{"ready": ...}`` with the file it imported,
then answers each ``{"section": "a"|"d"}`` with one measurement of this process:

* ``a``: the walk of ``walk_items`` debit actions of the big account, ``page_size`` a page;
* ``d``: ``tasks`` tasks each listing the small account's batches ``per_task`` times.

It reads its commands in a thread, so nothing blocks the event loop between runs.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import thoughtcredits as tc


async def walk(client: tc.Client, info: dict[str, Any]) -> int:
    """(a): auto-paginate the big account's debit actions."""
    count = 0
    async for _item in client.credit_actions.list(
        info["big_client"],
        info["big_account"],
        action_type="debit",
        page_size=info["page_size"],
        max_items=info["walk_items"],
    ):
        count += 1
    return count


async def fan_out(client: tc.Client, info: dict[str, Any]) -> int:
    """(d): ``tasks`` tasks, each listing the small account's one batch ``per_task`` times."""

    async def worker() -> int:
        count = 0
        for _ in range(info["per_task"]):
            async for _batch in client.credit_batches.list(
                info["small_client"], credit_account_id=info["small_account"]
            ):
                count += 1
        return count

    return sum(await asyncio.gather(*(worker() for _ in range(info["tasks"]))))


async def measure(run: Callable[[], Awaitable[int]]) -> dict[str, float]:
    """This process's CPU seconds and the wall seconds of one run, and what it counted."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    count = await run()
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, "count": count}


async def main() -> None:
    """Answer the orchestrator's commands until stdin closes."""
    info = json.loads(sys.stdin.readline())
    sections = {"a": walk, "d": fan_out}
    async with tc.Client(info["urls"]["plain"], info["api_key"]) as client:
        for run in sections.values():  # warm up: connections, caches, generated code
            await run(client, {**info, "walk_items": info["page_size"], "per_task": 1})
        print(json.dumps({"ready": tc.__file__}), flush=True)
        while line := await asyncio.to_thread(sys.stdin.readline):
            run = sections[json.loads(line)["section"]]
            sample = await measure(lambda run=run: run(client, info))
            print(json.dumps(sample), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
