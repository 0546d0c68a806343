"""``thoughtcredits job-status``: how far a sharded reconciliation (``thoughtcredits.workers``)
has got, read from its Redis; ``--wait`` follows it to the end and writes the merged report."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from ..._serde.converter import to_json
from ...reconcile import ReconciliationReport
from ...workers import JobProgress, JobStateError, ShardedJob
from ..context import Env
from ..errors import OutputError, UsageError
from ..exports.tempfiles import write_atomically
from ..options import add_output_options, add_progress
from ..parser import Subcommands
from .reconcile import DISCREPANCIES_FOUND, NOT_VERIFIED, exit_code, plural

__all__ = ["register"]


def register(commands: Subcommands) -> None:
    """Add ``job-status``."""
    parser = commands.add_parser(
        "job-status",
        help="how far a sharded reconciliation job has got (thoughtcredits.workers)",
        description="Read a sharded reconciliation's progress from its Redis: accounts and "
        "shards done, discrepancies so far. With --wait, follow it until every account is "
        f"done, then exit {DISCREPANCIES_FOUND} if anything was found ({NOT_VERIFIED} if "
        "nothing was but an account kept changing while it was read).",
    )
    parser.add_argument("job_id", metavar="JOB_ID", help="the job's name, e.g. nightly-2026-01-31")
    parser.add_argument("--redis", metavar="URL", help="the job's Redis (default: $REDIS_URL)")
    parser.add_argument(
        "--wait", action="store_true", help="follow the job until every account is done"
    )
    parser.add_argument(
        "--report", metavar="FILE", help="with --wait: write the merged report (JSON) to FILE"
    )
    add_progress(parser, parser)
    add_output_options(parser, formats=("text", "json"), output=False, columns=False, wide=False)
    parser.set_defaults(handler=_status)


async def _status(env: Env) -> int:
    args: argparse.Namespace = env.args
    url = args.redis or os.environ.get("REDIS_URL")
    if not url:
        raise UsageError("job-status needs the job's Redis: --redis URL or $REDIS_URL")
    if not url.isascii() or not url.isprintable():
        # Never shown: it may hold a password.
        raise UsageError("the job's Redis URL (--redis or $REDIS_URL) is not printable ASCII")
    if args.report and not args.wait:
        raise UsageError("--report needs --wait (the report exists once every account is done)")
    as_json = args.format == "json"
    try:
        from redis.exceptions import RedisError  # the workers extra; imported when used
    except ModuleNotFoundError:
        raise UsageError("job-status needs redis-py: pip install 'thoughtcredits[redis]'") from None
    try:
        progress, report = await _follow(env, url)
    except (RedisError, OSError) as exc:
        raise UsageError(
            f"the job's Redis (--redis or $REDIS_URL) did not answer: {type(exc).__name__}"
        ) from None
    except (LookupError, JobStateError) as exc:  # never planned, or state it cannot use
        raise OutputError(str(exc)) from None
    if args.report and report is not None:
        # Out of the Redis errors' reach: a full disk is a disk's error, not Redis's.
        write_atomically(Path(args.report), report.to_json() + b"\n")
    sys.stdout.write(to_json(progress).decode() + "\n" if as_json else line(progress))
    return 0 if report is None else exit_code(report)


async def _follow(env: Env, url: str) -> tuple[JobProgress, ReconciliationReport | None]:
    """The job's progress; with --wait, once done, and its merged report."""
    args: argparse.Namespace = env.args
    async with ShardedJob(url, args.job_id) as job:
        progress = await job.progress()  # a Redis that does not answer fails before any bar
        if not args.wait:
            return progress, None
        with env.progress(f"job {args.job_id}", stdout_used=False, unit="accounts") as bar:

            def show(progress: JobProgress) -> None:
                if bar is not None:
                    bar.update(progress.accounts_done, total=progress.accounts)

            report = await job.wait(on_progress=show)
            return await job.progress(), report


def line(progress: JobProgress, now: datetime | None = None) -> str:
    """One line a person reads: accounts and shards done, findings, and how fresh it is."""
    percent = f"{progress.fraction:.0%}"
    state = "done" if progress.done else f"{percent} done"
    text = (
        f"job {progress.job_id}: {state}, {progress.accounts_done:,} of "
        f"{plural(progress.accounts, 'account')}, {progress.shards_done:,} of "
        f"{plural(progress.shards, 'shard')}, "
        f"{plural(progress.discrepancies, 'discrepancy', 'discrepancies')} so far"
    )
    if progress.updated_at is not None:
        age = ((now or datetime.now(UTC)) - progress.updated_at).total_seconds()
        text += f"; last account {max(0, round(age)):,} s ago"
    return text + "\n"
