"""``thoughtcredits job-status``: a sharded job's progress from its Redis, and --wait."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from thoughtcredits._cli.app import run
from thoughtcredits._cli.commands.job_status import line
from thoughtcredits.reconcile import ReconciliationReport
from thoughtcredits.testing import FakeCreditsServer, plant_discrepancies, seed_ledger
from thoughtcredits.workers import JobProgress, ShardedJob


async def _half_done(redis_url: str, job_id: str, *, planted: bool = False) -> int:
    """A job of 6 accounts in 3 shards with shard 1 done; returns its shard count."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=6, actions_per_account=30, seed=1)
        if planted:
            plant_discrepancies(server.ledger, seeded.account_ids[2:4], kinds=("batch_balance",))
        async with server.client() as client, ShardedJob(redis_url, job_id) as job:
            plan = await job.plan(client, seeded.client_ids[0], shard_size=2)
            await job.run_shard(client, 1)
            return len(plan.shards)


def _cli(*argv: str) -> int:
    # run() owns its event loop (asyncio.run): call it off this test's loop.
    return run(list(argv))


async def test_prints_how_far_the_job_has_got(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await _half_done(redis_url, "nightly-1", planted=True)
    code = await asyncio.to_thread(_cli, "job-status", "nightly-1", "--redis", redis_url)
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(
        "job nightly-1: 33% done, 2 of 6 accounts, 1 of 3 shards, 1 discrepancy so far; "
        "last account "
    )
    code = await asyncio.to_thread(
        _cli, "job-status", "nightly-1", "--redis", redis_url, "--format", "json"
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (data["jobId"], data["accountsDone"], data["shardsDone"], data["shards"]) == (
        "nightly-1", 2, 1, 3
    )  # fmt: skip


async def test_wait_follows_the_job_and_writes_the_merged_report(
    redis_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--wait returns once the other shards are done elsewhere; exit 3 for the finding."""
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=4, actions_per_account=30, seed=2)
        plant_discrepancies(server.ledger, seeded.account_ids, kinds=("batch_balance",))
        async with server.client() as client, ShardedJob(redis_url, "waited") as job:
            await job.plan(client, seeded.client_ids[0], shard_size=2)
            monkeypatch.setenv("REDIS_URL", redis_url)
            report_file = tmp_path / "report.json"
            waiting = asyncio.ensure_future(asyncio.to_thread(
                _cli, "job-status", "waited", "--wait", "--report", str(report_file)
            ))  # fmt: skip
            for index in (1, 0):
                await job.run_shard(client, index)
            code = await waiting
    assert code == 3
    assert capsys.readouterr().out.startswith("job waited: done, 4 of 4 accounts, 2 of 2 shards")
    report = ReconciliationReport.from_json(report_file.read_bytes())
    assert [a.account_id for a in report.accounts] == list(seeded.account_ids)
    assert len(report.discrepancies) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["job-status", "x"], "needs the job's Redis"),
        (["job-status", "x", "--redis", "URL", "--report", "f"], "--report needs --wait"),
        (["job-status", "x", "--redis", "redis://u:p\udcffw@h/0"], "URL .* is not printable"),
        (["job-status", "x", "--redis", "redis://u:pw@h/0\n"], "URL .* is not printable ASCII"),
    ],
)
def test_refusals_exit_2_with_one_line(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert re.search(message, err)
    assert "pw" not in err


async def test_an_unknown_job_exits_1_naming_it(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await asyncio.to_thread(_cli, "job-status", "never-ran", "--redis", redis_url)
    assert code == 1
    assert "no plan for job 'never-ran'" in capsys.readouterr().err


def test_the_line_says_when_an_account_was_last_done() -> None:
    now = datetime(2026, 1, 31, 3, 0, tzinfo=UTC)
    progress = JobProgress(
        "j", uuid4(), 80, 80, 2000, 2000, 0, now - timedelta(hours=1), now - timedelta(seconds=4)
    )
    assert line(progress, now) == (
        "job j: done, 2,000 of 2,000 accounts, 80 of 80 shards, 0 discrepancies so far; "
        "last account 4 s ago\n"
    )


def test_an_unreachable_redis_is_one_line_without_its_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A Redis that does not answer ends in one line, exit 2, and the URL's password stays out."""
    code = run(["job-status", "nightly-1", "--redis", "redis://user:s3cretpw@127.0.0.1:1/0"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err == "error: the job's Redis (--redis or $REDIS_URL) did not answer: ConnectionError\n"
    assert "s3cretpw" not in err


def test_an_unreachable_redis_with_wait_draws_no_progress_bar(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--wait --progress and a Redis that does not answer: the one error line, no ✗ bar."""
    code = run(
        ["job-status", "nightly-1", "--redis", "redis://127.0.0.1:1/0", "--wait", "--progress"]
    )
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err == "error: the job's Redis (--redis or $REDIS_URL) did not answer: ConnectionError\n"


async def test_a_report_that_cannot_be_written_is_a_disk_error_not_a_redis_one(
    redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--report into a folder that does not exist: before, "the job's Redis did not answer:
    FileNotFoundError" (exit 2) sent the reader to the wrong system."""
    await _half_done(redis_url, "unwritable")
    async with ShardedJob(redis_url, "unwritable") as job, FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=6, actions_per_account=30, seed=1)
        async with server.client() as client:
            for index in await job.pending_shards():
                await job.run_shard(client, index)
        assert (await job.report()).client_id == seeded.client_ids[0]
    target = tmp_path / "missing" / "report.json"
    code = await asyncio.to_thread(
        _cli, "job-status", "unwritable", "--redis", redis_url, "--wait", "--report", str(target)
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert err == f"error: cannot write {target}: No such file or directory\n"
    assert out == ""
    assert not target.parent.exists()


async def test_a_job_state_it_cannot_use_is_one_line_exit_1(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan edited by hand: the JobStateError's message, not "unexpected JobStateError"."""
    import redis.asyncio

    await _half_done(redis_url, "edited")
    probe = redis.asyncio.from_url(redis_url)
    await probe.set("thoughtcredits:job:edited:plan", b"{}")
    await probe.aclose()
    code = await asyncio.to_thread(_cli, "job-status", "edited", "--redis", redis_url)
    assert code == 1
    assert capsys.readouterr().err == (
        "error: thoughtcredits:job:edited:plan holds a plan that this SDK did not write (2 "
        "bytes, not readable): delete it (or the job's keys) and run the job again\n"
    )
