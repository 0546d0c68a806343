"""(a), (b), (d): the SDK against hand-written aiohttp and httpx loops doing the same work.

Every loop sends the same requests (same path, query, page size and headers), decodes the
body and touches every item; only the SDK also structures items into models.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx

import thoughtcredits as tc

ACTIONS_OP = "APICreditActionsByClientIdAndAccountIdAndActionType"
BATCHES_OP = "APICreditBatchesByClientAndCreditAccount"


def _headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}


def actions_url(base: str, client_id: str, account_id: str) -> str:
    """The credit actions listing URL of one account."""
    return f"{base}/incoming/v2/clients/{client_id}/creditAccount/{account_id}/creditActions"


def batches_url(base: str, client_id: str) -> str:
    """The credit batches listing URL of one client."""
    return f"{base}/incoming/v2/clients/{client_id}/creditBatches"


async def measure(run: Callable[[], Awaitable[int]]) -> dict[str, float]:
    """CPU seconds (this process) and wall seconds of one run, and what it counted."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    count = await run()
    return {
        "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - wall,
        "count": float(count),
    }


# --- (a)/(b): one cursor walk through a listing ---


async def sdk_walk(client: tc.Client, info: dict[str, Any], page_size: int, limit: int) -> int:
    """Auto-paginate ``limit`` debit actions of the big account through the SDK."""
    count = 0
    async for _item in client.credit_actions.list(
        info["big_client"],
        info["big_account"],
        action_type="debit",
        page_size=page_size,
        max_items=limit,
    ):
        count += 1
    return count


def _walk_params(info: dict[str, Any], page_size: int) -> dict[str, str]:
    return {"clientId": info["big_client"], "actionType": "debit", "perPage": str(page_size)}


def _next(body: Any, count: int, limit: int) -> tuple[int, str | None]:
    """Touch each item of a decoded page; the count so far and the next cursor (or None)."""
    payload = body["data"][ACTIONS_OP]
    for _item in payload["creditActions"]:
        count += 1
        if count >= limit:
            return count, None
    info = payload["pageInfo"]
    return count, (info["cursor"] if info.get("hasMore") else None)


async def aiohttp_walk(
    session: aiohttp.ClientSession, info: dict[str, Any], page_size: int, limit: int
) -> int:
    """The same walk with aiohttp and ``json.loads``."""
    url = actions_url(info["urls"]["plain"], info["big_client"], info["big_account"])
    params, headers = _walk_params(info, page_size), _headers(info["api_key"])
    count, cursor = 0, None
    while True:
        query = params if cursor is None else {**params, "cursor": cursor}
        async with session.get(url, params=query, headers=headers) as response:
            response.raise_for_status()
            body = json.loads(await response.read())
        count, cursor = _next(body, count, limit)
        if cursor is None:
            return count


async def httpx_walk(
    client: httpx.AsyncClient, info: dict[str, Any], page_size: int, limit: int
) -> int:
    """The same walk with ``httpx.AsyncClient`` and ``json.loads``."""
    url = actions_url(info["urls"]["plain"], info["big_client"], info["big_account"])
    params, headers = _walk_params(info, page_size), _headers(info["api_key"])
    count, cursor = 0, None
    while True:
        query = params if cursor is None else {**params, "cursor": cursor}
        response = await client.get(url, params=query, headers=headers)
        response.raise_for_status()
        count, cursor = _next(json.loads(response.content), count, limit)
        if cursor is None:
            return count


async def bench_walks(
    info: dict[str, Any], *, page_size: int, limit: int, rounds: int
) -> dict[str, Any]:
    """(a) and (b): CPU time of the SDK walk against aiohttp and httpx, rounds interleaved."""
    samples: dict[str, list[dict[str, float]]] = {"sdk": [], "aiohttp": [], "httpx": []}
    async with (
        tc.Client(info["urls"]["plain"], info["api_key"]) as client,
        aiohttp.ClientSession() as session,
        httpx.AsyncClient() as hx,
    ):
        runs: dict[str, Callable[[int], Awaitable[int]]] = {
            "sdk": lambda n: sdk_walk(client, info, page_size, n),
            "aiohttp": lambda n: aiohttp_walk(session, info, page_size, n),
            "httpx": lambda n: httpx_walk(hx, info, page_size, n),
        }
        for run in runs.values():  # warm up: connections, imports, caches
            await run(page_size)
        for _ in range(rounds):
            for name, run in runs.items():
                sample = await measure(lambda run=run: run(limit))  # type: ignore[misc]
                if sample["count"] != limit:
                    raise RuntimeError(f"{name} walked {sample['count']} items, not {limit}")
                samples[name].append(sample)
    cpu = {name: statistics.median(s["cpu"] for s in runs_) for name, runs_ in samples.items()}
    wall = {name: statistics.median(s["wall"] for s in runs_) for name, runs_ in samples.items()}
    return {
        "items": limit,
        "page_size": page_size,
        "rounds": rounds,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "cpu_us_per_item": {name: value / limit * 1e6 for name, value in cpu.items()},
        "a_ratio_sdk_vs_aiohttp": cpu["sdk"] / cpu["aiohttp"],
        "b_ratio_sdk_vs_httpx": cpu["sdk"] / cpu["httpx"],
        "samples": samples,
    }


# --- (d): 64 tasks sharing one client / one session ---


async def _sdk_small(client: tc.Client, info: dict[str, Any]) -> int:
    count = 0
    async for _batch in client.credit_batches.list(
        info["small_client"], credit_account_id=info["small_account"]
    ):
        count += 1
    return count


async def _aiohttp_small(session: aiohttp.ClientSession, info: dict[str, Any]) -> int:
    url = batches_url(info["urls"]["plain"], info["small_client"])
    params = {"clientId": info["small_client"], "creditAccountId": info["small_account"]}
    async with session.get(url, params=params, headers=_headers(info["api_key"])) as response:
        response.raise_for_status()
        body = json.loads(await response.read())
    count = 0
    for _batch in body["data"][BATCHES_OP]["creditBatches"]:
        count += 1
    return count


async def _fan_out(one: Callable[[], Awaitable[int]], tasks: int, per_task: int) -> int:
    async def worker() -> int:
        for _ in range(per_task):
            if await one() != 1:
                raise RuntimeError("expected exactly one batch in the small account")
        return per_task

    return sum(await asyncio.gather(*(worker() for _ in range(tasks))))


async def bench_concurrency(
    info: dict[str, Any],
    server_cpu: Callable[[], float],
    *,
    tasks: int,
    per_task: int,
    rounds: int,
) -> dict[str, Any]:
    """(d): requests/s of ``tasks`` tasks on one SDK client against one aiohttp session.

    The server's CPU per request is recorded too: with 2 cores, a client that is cheaper
    than the server can only go as fast as the server.
    """
    samples: dict[str, list[dict[str, float]]] = {"sdk": [], "aiohttp": []}
    async with (
        tc.Client(info["urls"]["plain"], info["api_key"]) as client,
        aiohttp.ClientSession() as session,
    ):
        runs = {
            "sdk": lambda n: _fan_out(lambda: _sdk_small(client, info), tasks, n),
            "aiohttp": lambda n: _fan_out(lambda: _aiohttp_small(session, info), tasks, n),
        }
        for run in runs.values():  # warm up: open the connections both will reuse
            await run(2)
        for _ in range(rounds):
            for name, run in runs.items():
                before = server_cpu()
                sample = await measure(lambda run=run: run(per_task))
                sample["server_cpu"] = server_cpu() - before
                samples[name].append(sample)
    total = tasks * per_task
    rps = {name: statistics.median(total / s["wall"] for s in v) for name, v in samples.items()}
    cpu = {
        name: statistics.median(s["cpu"] / total * 1e6 for s in v) for name, v in samples.items()
    }
    server = {
        name: statistics.median(s["server_cpu"] / total * 1e6 for s in v)
        for name, v in samples.items()
    }
    return {
        "tasks": tasks,
        "requests": total,
        "rounds": rounds,
        "requests_per_second": rps,
        "client_cpu_us_per_request": cpu,
        "server_cpu_us_per_request": server,
        "d_ratio_sdk_vs_aiohttp": rps["sdk"] / rps["aiohttp"],
        "cpu_ratio_sdk_vs_aiohttp": cpu["sdk"] / cpu["aiohttp"],
        "samples": samples,
    }
