"""(a) the walk and (d) 64 tasks: the SDK against hand-written aiohttp loops, as paired ratios.

Every loop sends the same requests (same path, query, page size and headers), decodes the
body and touches every item. Each figure is the median of paired ratios: in every round the
reference (raw aiohttp + ``json.loads``) runs, then the contender, and the round's ratio is
contender / reference. On a shared 2-core machine the load drifts over minutes but hardly
between two runs a second apart, so pairing cancels most of it.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
from _bench_decode import msgspec_decoder
from _bench_variants import VARIANTS, structure_variant
from _measure import measure

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


# --- (a): one cursor walk through a listing ---


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


def _plain(body: bytes) -> tuple[list[Any], dict[str, Any]]:
    payload = json.loads(body)["data"][ACTIONS_OP]
    return payload["creditActions"], payload["pageInfo"]


def _orjson(body: bytes) -> tuple[list[Any], dict[str, Any]]:
    payload = orjson.loads(body)["data"][ACTIONS_OP]
    return payload["creditActions"], payload["pageInfo"]


def _msgspec(body: bytes) -> tuple[tuple[Any, ...], dict[str, Any]]:
    payload = msgspec_decoder.decode(body).data.APICreditActionsByClientIdAndAccountIdAndActionType
    info = payload.page_info
    return payload.credit_actions, {"hasMore": info.has_more, "cursor": info.cursor}


def _typed_as(name: str) -> Callable[[bytes], tuple[tuple[Any, ...], dict[str, Any]]]:
    def decode(body: bytes) -> tuple[tuple[Any, ...], dict[str, Any]]:
        items, info = _orjson(body)
        return structure_variant(items, name), info

    return decode


DECODERS: dict[str, Callable[[bytes], tuple[Any, dict[str, Any]]]] = {
    "aiohttp_json": _plain,
    "aiohttp_orjson": _orjson,
    "aiohttp_msgspec": _msgspec,
    **{f"aiohttp_orjson_{name}": _typed_as(name) for name in VARIANTS},
}
"""Raw loops: aiohttp, then one way of decoding (and, for the variants, structuring)."""


async def raw_walk(
    session: aiohttp.ClientSession,
    info: dict[str, Any],
    page_size: int,
    limit: int,
    decode: Callable[[bytes], tuple[Any, dict[str, Any]]],
) -> int:
    """The same walk with aiohttp and ``decode``."""
    url = actions_url(info["urls"]["plain"], info["big_client"], info["big_account"])
    params = {"clientId": info["big_client"], "actionType": "debit", "perPage": str(page_size)}
    headers = _headers(info["api_key"])
    count, cursor = 0, None
    while True:
        query = params if cursor is None else {**params, "cursor": cursor}
        async with session.get(url, params=query, headers=headers) as response:
            response.raise_for_status()
            items, page_info = decode(await response.read())
        for _item in items:
            count += 1
            if count >= limit:
                return count
        if not page_info.get("hasMore"):
            return count
        cursor = page_info["cursor"]


async def _paired(
    reference: Callable[[], Awaitable[int]],
    contenders: dict[str, Callable[[], Awaitable[int]]],
    rounds: int,
    expected: int | None,
) -> tuple[dict[str, list[float]], dict[str, list[dict[str, float]]]]:
    """``rounds`` rounds of (reference, contender) for each contender: CPU ratios and samples."""
    ratios: dict[str, list[float]] = {name: [] for name in contenders}
    samples: dict[str, list[dict[str, float]]] = {"reference": [], **{n: [] for n in contenders}}
    for _ in range(rounds):
        for name, run in contenders.items():
            base, sample = await measure(reference), await measure(run)
            for which, got in (("reference", base), (name, sample)):
                if expected is not None and got["count"] != expected:
                    raise RuntimeError(f"{which} counted {got['count']}, not {expected}")
                samples[which].append(got)
            ratios[name].append(sample["cpu"] / base["cpu"])
    return ratios, samples


async def bench_walks(
    info: dict[str, Any], *, page_size: int, limit: int, rounds: int
) -> dict[str, Any]:
    """(a): client CPU of each walk over the raw aiohttp + ``json.loads`` walk, paired."""
    async with (
        tc.Client(info["urls"]["plain"], info["api_key"]) as client,
        aiohttp.ClientSession() as session,
    ):

        def raw(decode: Callable[[bytes], Any]) -> Callable[[], Awaitable[int]]:
            return lambda: raw_walk(session, info, page_size, limit, decode)

        contenders = {"sdk": lambda: sdk_walk(client, info, page_size, limit)}
        contenders.update({name: raw(decode) for name, decode in DECODERS.items()})
        del contenders["aiohttp_json"]  # that is the reference itself
        for run in (raw(_plain), *contenders.values()):  # warm up: connections, hooks
            await run()
        ratios, samples = await _paired(raw(_plain), contenders, rounds, limit)
    reference_cpu = statistics.median(s["cpu"] for s in samples["reference"])
    return {
        "items": limit,
        "page_size": page_size,
        "rounds": rounds,
        "a_ratio_sdk_vs_aiohttp": statistics.median(ratios["sdk"]),
        "cpu_ratio_vs_aiohttp_json": {n: statistics.median(r) for n, r in ratios.items()},
        "cpu_ratio_range": {n: [min(r), max(r)] for n, r in ratios.items()},
        "cpu_us_per_item": {
            "aiohttp_json": reference_cpu / limit * 1e6,
            **{n: statistics.median(s["cpu"] for s in samples[n]) / limit * 1e6 for n in ratios},
        },
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
    """(d): requests/s of ``tasks`` tasks on one SDK client over one aiohttp session, paired.

    The server's CPU per request is recorded too: with 2 cores, a client that is cheaper
    than the server can only go as fast as the server.
    """
    total = tasks * per_task
    samples: dict[str, list[dict[str, float]]] = {"sdk": [], "aiohttp": []}
    ratios: list[float] = []
    async with (
        tc.Client(info["urls"]["plain"], info["api_key"]) as client,
        aiohttp.ClientSession() as session,
    ):
        runs = {
            "aiohttp": lambda n: _fan_out(lambda: _aiohttp_small(session, info), tasks, n),
            "sdk": lambda n: _fan_out(lambda: _sdk_small(client, info), tasks, n),
        }
        for run in runs.values():  # warm up: open the connections both will reuse
            await run(2)
        for _ in range(rounds):
            for name, run in runs.items():
                before = server_cpu()
                sample = await measure(lambda run=run: run(per_task))
                sample["server_cpu"] = server_cpu() - before
                samples[name].append(sample)
            ratios.append(samples["aiohttp"][-1]["wall"] / samples["sdk"][-1]["wall"])

    def median(name: str, key: str, scale: float) -> float:
        return statistics.median(s[key] / total * scale for s in samples[name])

    return {
        "tasks": tasks,
        "requests": total,
        "rounds": rounds,
        "requests_per_second": {n: 1 / median(n, "wall", 1) for n in samples},
        "client_cpu_us_per_request": {n: median(n, "cpu", 1e6) for n in samples},
        "server_cpu_us_per_request": {n: median(n, "server_cpu", 1e6) for n in samples},
        "d_ratio_sdk_vs_aiohttp": statistics.median(ratios),
        "d_ratio_range": [min(ratios), max(ratios)],
        "cpu_ratio_sdk_vs_aiohttp": statistics.median(
            s["cpu"] / a["cpu"] for s, a in zip(samples["sdk"], samples["aiohttp"], strict=True)
        ),
        "samples": samples,
    }
