"""(e) prefetch against fetch-only time, (f) a bulk job under a rate limit, (g) streaming memory."""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import resource
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

import thoughtcredits as tc

# --- (e): prefetch ---


async def bench_prefetch(
    info: dict[str, Any], *, pages: int, page_size: int, work: float, rounds: int
) -> dict[str, Any]:
    """(e): wall time of ``pages`` pages from the slow server, with ``work`` s per page."""

    async def walk(client: tc.Client, prefetch: bool, caller_work: float) -> float:
        listing = client.credit_actions.list(
            info["big_client"],
            info["big_account"],
            action_type="debit",
            page_size=page_size,
            max_items=pages * page_size,
            prefetch=prefetch,
        )
        started, count = time.perf_counter(), 0
        async for _page in listing.pages():
            count += 1
            if caller_work:
                await asyncio.sleep(caller_work)  # the caller's work on this page
        if count != pages:
            raise RuntimeError(f"listed {count} pages, not {pages}")
        return time.perf_counter() - started

    runs: dict[str, Callable[[tc.Client], Awaitable[float]]] = {
        "fetch_only": lambda c: walk(c, True, 0.0),
        "prefetch": lambda c: walk(c, True, work),
        "no_prefetch": lambda c: walk(c, False, work),
    }
    samples: dict[str, list[float]] = {name: [] for name in runs}
    async with tc.Client(info["urls"]["slow"], info["api_key"]) as client:
        await walk(client, True, 0.0)  # warm up the connections
        for _ in range(rounds):
            for name, run in runs.items():
                samples[name].append(await run(client))
    wall = {name: statistics.median(values) for name, values in samples.items()}
    return {
        "pages": pages,
        "page_size": page_size,
        "server_latency_s": 0.02,
        "caller_work_s": work,
        "rounds": rounds,
        "wall_seconds": wall,
        "e_ratio_prefetch_vs_fetch_only": wall["prefetch"] / wall["fetch_only"],
        "ratio_no_prefetch_vs_fetch_only": wall["no_prefetch"] / wall["fetch_only"],
        "samples": samples,
    }


# --- (f): a bulk job against a server rate limit (in full, per limiter model: quota.py) ---


async def bench_rate_limit(
    info: dict[str, Any],
    statuses: Callable[[], dict[str, int]],
    *,
    rate: int,
    burst: int,
    seconds: float,
    tasks: int,
    client_limiter: str = "given",
) -> dict[str, Any]:
    """(f): ``tasks`` tasks list batches for ``seconds`` against a server allowing ``rate``/s.

    ``client_limiter``: ``"given"`` passes ``RateLimit(per_minute=rate * 60, burst=burst)``,
    the server's own quota; ``"auto"`` is the client's default (it learns the quota from the
    first answer's headers); ``"none"`` has only 429s to go by.
    """
    await asyncio.sleep(2 * burst / rate)  # let the server's bucket refill from any earlier job
    statuses()  # forget anything logged before the job
    pauses = _PauseLog()
    logger = logging.getLogger("thoughtcredits")
    logger.addHandler(pauses)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        limit: tc.RateLimit | str | None = {
            "given": tc.RateLimit(per_minute=rate * 60, burst=burst),
            "auto": "auto",
            "none": None,
        }[client_limiter]
        return await _rate_job(info, statuses, pauses, limit, rate, burst, seconds, tasks)
    finally:
        logger.removeHandler(pauses)
        logger.setLevel(level)


class _PauseLog(logging.Handler):
    """Collects the client's "pausing all requests" records (after 429s or Remaining: 0)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.pauses: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        pause = getattr(record, "tc_pause", None)
        if pause is not None:
            self.pauses.append(pause)


async def _rate_job(
    info: dict[str, Any],
    statuses: Callable[[], dict[str, int]],
    pauses: _PauseLog,
    limit: tc.RateLimit | str | None,
    rate: int,
    burst: int,
    seconds: float,
    tasks: int,
) -> dict[str, Any]:
    done = failed = 0
    async with tc.Client(info["urls"]["limited"], info["api_key"], rate_limit=limit) as client:  # type: ignore[arg-type]
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal done, failed
            while time.perf_counter() < deadline:
                try:
                    async for _batch in client.credit_batches.list(
                        info["small_client"], credit_account_id=info["small_account"]
                    ):
                        pass
                except tc.RateLimitError:
                    failed += 1  # every attempt of this listing was refused with a 429
                else:
                    done += 1

        await asyncio.gather(*(worker() for _ in range(tasks)))
        elapsed = time.perf_counter() - started
        stats = client.stats
    server = statuses()
    # The server allows a full bucket at once, then `rate` per second.
    allowed = burst + rate * elapsed
    return {
        "rate_per_s": rate,
        "burst": burst,
        "client_limiter": limit is not None,
        "tasks": tasks,
        "seconds": elapsed,
        "completed": done,
        "failed_after_retries": failed,
        "achieved_per_s": done / elapsed,
        "f_ratio_achieved_vs_allowed": done / allowed,
        "ratio_rate_vs_R": done / elapsed / rate,
        "client_429s": stats.rate_limited,
        "server_429s": server.get("429", 0),
        "server_statuses": server,
        "client_requests": stats.requests,
        "client_retries": stats.retries,
        "client_throttle_wait_s": stats.throttle_wait,
        "client_pauses": len(pauses.pauses),
        "client_pause_seconds": sum(pauses.pauses),
    }


# --- (g): memory while streaming, in a fresh client process ---


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def _stream(
    client: tc.Client, info: dict[str, Any], kinds: list[tuple[str, int | None]]
) -> int:
    count = 0
    for kind, limit in kinds:
        async for _action in client.credit_actions.list(
            info["big_client"], info["big_account"], action_type=kind, page_size=1000,
            max_items=limit,
        ):  # fmt: skip
            count += 1  # each item is dropped at once, as a streaming export would
    return count


async def _memory(info: dict[str, Any], small: int) -> dict[str, Any]:
    everything = [(kind, None) for kind in sorted(info["big_counts"])]
    plans = {"small": [("debit", small)], "large": everything}
    result: dict[str, Any] = {}
    async with tc.Client(info["urls"]["plain"], info["api_key"]) as client:
        await _stream(client, info, [("debit", 1000)])  # warm up: hooks, caches, connection
        for label, kinds in plans.items():
            gc.collect()
            tracemalloc.reset_peak()
            base, rss = tracemalloc.get_traced_memory()[0], _rss_mb()
            started = time.perf_counter()
            items = await _stream(client, info, kinds)  # type: ignore[arg-type]
            result[label] = {
                "items": items,
                "tracemalloc_peak_mb": (tracemalloc.get_traced_memory()[1] - base) / 2**20,
                "rss_growth_mb": _rss_mb() - rss,
                "wall_seconds": time.perf_counter() - started,
            }
    return result


def _memory_child(conn: Connection, info: dict[str, Any], small: int) -> None:
    tracemalloc.start()
    conn.send(asyncio.run(_memory(info, small)))
    conn.close()


def bench_memory(info: dict[str, Any], *, small: int) -> dict[str, Any]:
    """(g): peak traced memory streaming every action of the big account against ``small``."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_memory_child, args=(child, info, small), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(600):
            raise RuntimeError("the memory benchmark did not finish within 600 s")
        result: dict[str, Any] = parent.recv()
    except EOFError:
        process.join(10)
        raise RuntimeError(f"the memory benchmark exited (code {process.exitcode})") from None
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()
        parent.close()
    small_run, large_run = result["small"], result["large"]
    return {
        **result,
        "g_growth_mb": large_run["tracemalloc_peak_mb"] - small_run["tracemalloc_peak_mb"],
        "rss_growth_mb": large_run["rss_growth_mb"],
    }
