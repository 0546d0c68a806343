"""The thoughtcredits benchmark: (a) and (c)-(h) in one run against a local server process.

    .venv/bin/python benchmarks/run.py            # full run, a few minutes on 2 cores
    .venv/bin/python benchmarks/run.py --quick    # tiny sizes, a few seconds (the test uses it)

The server (``FakeCreditsServer`` over a seeded ledger) runs in a separate process; every
figure is measured in this (client) process, except (g) which uses a fresh client process so
its memory high-water marks start clean. Prints a table and writes ``results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib.metadata
import json
import os
import platform
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import aiohttp
from _bench_decode import bench_decode
from _bench_flow import bench_memory, bench_prefetch, bench_rate_limit
from _bench_http import ACTIONS_OP, actions_url, bench_concurrency, bench_walks
from _bench_server import ServerConfig, ServerProcess
from _bench_shapes import bench_shapes

HERE = Path(__file__).resolve().parent

FULL: dict[str, Any] = {
    "big_actions": 1_000_000,
    "walk_items": 30_000, "walk_page_size": 100, "walk_rounds": 9,
    "decode_pages": 12, "decode_page_size": 1000, "decode_repeat": 7,
    "shape_pages": 30, "shape_repeat": 5,
    "tasks": 64, "per_task": 40, "concurrency_rounds": 9,
    "prefetch_pages": 50, "prefetch_page_size": 100, "prefetch_rounds": 3,
    "rate": 50, "burst": 10, "rate_seconds": 10.0, "rate_tasks": 16, "rate_compare": True,
    "memory_small": 10_000,
}  # fmt: skip
QUICK: dict[str, Any] = {
    **FULL,
    "big_actions": 10_000,
    "walk_items": 500, "walk_rounds": 1,
    "decode_pages": 2, "decode_repeat": 2,
    "shape_pages": 2, "shape_repeat": 1,
    "per_task": 2, "concurrency_rounds": 1,
    "prefetch_pages": 4, "prefetch_rounds": 1,
    "rate_seconds": 0.6, "rate_compare": False,
    "memory_small": 1000,
}  # fmt: skip

TARGETS = {
    "a": ("<= 1.9", lambda r: r <= 1.9),
    "c": ("<= 1.0", lambda r: r <= 1.0),
    "d": (">= 0.75", lambda r: r >= 0.75),
    "e": ("<= 1.05", lambda r: r <= 1.05),
    "f": (">= 0.95, 0 x 429", None),
    "g": ("< 20 MB", lambda r: r < 20),
}


def machine() -> dict[str, Any]:
    """Where the numbers were taken."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in ("thoughtcredits", "aiohttp", "httpx", "pydantic", "msgspec", "orjson", "cattrs"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions,
    }


async def fetch_pages(info: dict[str, Any], page_size: int, count: int) -> list[bytes]:
    """``count`` consecutive real pages of debit actions, as bytes, for (c)."""
    url = actions_url(info["urls"]["plain"], info["big_client"], info["big_account"])
    params = {"clientId": info["big_client"], "actionType": "debit", "perPage": str(page_size)}
    headers = {"Authorization": f"Bearer {info['api_key']}"}
    pages: list[bytes] = []
    async with aiohttp.ClientSession() as session:
        while len(pages) < count:
            async with session.get(url, params=params, headers=headers) as response:
                response.raise_for_status()
                pages.append(await response.read())
            page_info = json.loads(pages[-1])["data"][ACTIONS_OP]["pageInfo"]
            params["cursor"] = page_info["cursor"]
    return pages


async def client_side(server: ServerProcess, size: dict[str, Any]) -> dict[str, Any]:
    """(a)-(f), in this process's event loop; each section notes how long it took."""
    info = server.info
    results: dict[str, Any] = {}

    async def section(name: str, work: Awaitable[dict[str, Any]]) -> None:
        started = time.perf_counter()
        results[name] = await work
        results[name]["section_seconds"] = time.perf_counter() - started

    async def decode() -> dict[str, Any]:
        pages = await fetch_pages(info, size["decode_page_size"], size["decode_pages"])
        return bench_decode(pages, size["decode_page_size"], repeat=size["decode_repeat"])

    async def structuring() -> dict[str, Any]:
        pages = await fetch_pages(info, size["walk_page_size"], size["shape_pages"])
        return {"shapes": bench_shapes(
            pages, pages=size["shape_pages"], per_page=size["walk_page_size"],
            repeat=size["shape_repeat"],
        )}  # fmt: skip

    def statuses() -> dict[str, int]:
        return server.statuses("limited")

    await section("a_walk", bench_walks(
        info, page_size=size["walk_page_size"], limit=size["walk_items"],
        rounds=size["walk_rounds"],
    ))  # fmt: skip
    await section("c_decode", decode())
    await section("h_structuring", structuring())
    await section("d_concurrency", bench_concurrency(
        info, server.cpu_seconds, tasks=size["tasks"], per_task=size["per_task"],
        rounds=size["concurrency_rounds"],
    ))  # fmt: skip
    await section("e_prefetch", bench_prefetch(
        info, pages=size["prefetch_pages"], page_size=size["prefetch_page_size"], work=0.01,
        rounds=size["prefetch_rounds"],
    ))  # fmt: skip
    await section("f_rate_limit", bench_rate_limit(
        info, statuses, rate=size["rate"], burst=size["burst"], seconds=size["rate_seconds"],
        tasks=size["rate_tasks"],
    ))  # fmt: skip
    if not size["rate_compare"]:
        return results
    # For comparison: the client's default (the quota learned from headers), and no limiter.
    await section("f_rate_limit_auto", bench_rate_limit(
        info, statuses, rate=size["rate"], burst=size["burst"],
        seconds=size["rate_seconds"] / 2, tasks=size["rate_tasks"], client_limiter="auto",
    ))  # fmt: skip
    await section("f_rate_limit_without_limiter", bench_rate_limit(
        info, statuses, rate=size["rate"], burst=size["burst"],
        seconds=size["rate_seconds"] / 2, tasks=size["rate_tasks"], client_limiter="none",
    ))  # fmt: skip
    return results


def summary(results: dict[str, Any]) -> list[tuple[str, str, float, str, str]]:
    """(section, what, value, target, verdict) rows."""
    walk, dec, conc = results["a_walk"], results["c_decode"], results["d_concurrency"]
    pre, rate, mem = results["e_prefetch"], results["f_rate_limit"], results["g_memory"]
    bare = results.get("f_rate_limit_without_limiter")
    auto = results.get("f_rate_limit_auto")
    ratio = walk["cpu_ratio_vs_aiohttp_json"]
    rows = [
        ("a", f"SDK/aiohttp+json CPU, {walk['items']} items", walk["a_ratio_sdk_vs_aiohttp"]),
        *[
            ("a", f"  {name.removeprefix('aiohttp_')}/aiohttp+json CPU", value)
            for name, value in ratio.items()
            if name != "sdk"
        ],
        ("c", "SDK/pydantic per page", dec["c_ratio_sdk_vs_pydantic"]),
        ("c", "SDK/json.loads", dec["ratio_to_json_loads"]["sdk"]),
        ("c", "pydantic/json.loads", dec["ratio_to_json_loads"]["pydantic"]),
        ("c", "msgspec/json.loads", dec["ratio_to_json_loads"]["msgspec"]),
        ("d", f"SDK/aiohttp req/s, {conc['tasks']} tasks", conc["d_ratio_sdk_vs_aiohttp"]),
        ("d", "SDK/aiohttp client CPU per request", conc["cpu_ratio_sdk_vs_aiohttp"]),
        ("e", "prefetch/fetch-only wall", pre["e_ratio_prefetch_vs_fetch_only"]),
        ("e", "no-prefetch/fetch-only wall", pre["ratio_no_prefetch_vs_fetch_only"]),
        ("f", f"done/allowed at R={rate['rate_per_s']}/s", rate["f_ratio_achieved_vs_allowed"]),
        ("f", "429s (client / server)", float(rate["client_429s"] + rate["server_429s"])),
        (
            "g",
            f"peak growth MB, {mem['small']['items']} -> {mem['large']['items']}",
            mem["g_growth_mb"],
        ),
        *[
            ("h", f"structure {name}/json.loads", shape["ratio_to_json_loads"])
            for name, shape in results["h_structuring"]["shapes"].items()
        ],
    ]
    g_row = next(i for i, row in enumerate(rows) if row[0] == "g")
    if auto is not None:
        rows[g_row:g_row] = [
            ("f", "default (learned) limit: done/allowed", auto["f_ratio_achieved_vs_allowed"]),
            ("f", "default (learned) limit: 429s", float(auto["server_429s"])),
        ]
    if bare is not None:
        g_row = next(i for i, row in enumerate(rows) if row[0] == "g")
        rows[g_row:g_row] = [
            ("f", "no client limiter: done/allowed", bare["f_ratio_achieved_vs_allowed"]),
            ("f", "no client limiter: 429s", float(bare["server_429s"])),
        ]
    out = []
    seen: set[str] = set()
    for section, what, value in rows:
        target, check = TARGETS.get(section, ("", None)) if section not in seen else ("", None)
        seen.add(section)
        if section == "f" and target:
            ok = value >= 0.95 and rate["client_429s"] == rate["server_429s"] == 0
        else:
            ok = check(value) if check else None
        verdict = "" if ok is None else ("met" if ok else "MISSED")
        out.append((section, what, value, target, verdict))
    return out


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark; print the table and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a few seconds)")
    parser.add_argument("--output", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    config = ServerConfig(size["big_actions"], size["rate"] * 60, size["burst"])
    with ServerProcess(config) as server:
        results = asyncio.run(client_side(server, size))
        started = time.perf_counter()
        results["g_memory"] = bench_memory(server.info, small=size["memory_small"])
        results["g_memory"]["section_seconds"] = time.perf_counter() - started
        results["server"] = {"seed_seconds": server.info["seed_seconds"],
                             "big_counts": server.info["big_counts"]}  # fmt: skip
    results = {"mode": "quick" if args.quick else "full", "machine": machine(), "sizes": size,
               **results}  # fmt: skip
    rows = summary(results)
    results["summary"] = [
        {"section": s, "what": w, "value": v, "target": t, "verdict": x} for s, w, v, t, x in rows
    ]
    print(f"{'':2} {'measure':44} {'value':>9}  {'target':22} verdict")
    for section, what, value, target, verdict in rows:
        print(f"{section:2} {what:44} {value:9.3f}  {target:22} {verdict}")
    args.output.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
