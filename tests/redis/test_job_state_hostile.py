"""``ShardedJob`` against a Redis that loses writes, loses its data or lies: each ends in a
clear error or a safe retry, never in a report with an account missing or counted twice."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from uuid import UUID

import pytest
import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError

from thoughtcredits._serde.exact_json import format_datetime
from thoughtcredits.reconcile import AccountReport, reconcile
from thoughtcredits.testing import FakeCreditsServer, plant_discrepancies, seed_ledger
from thoughtcredits.testing._ledger.plant import KINDS
from thoughtcredits.workers import JobStateError, ShardedJob, shard_timeout

KEY = "thoughtcredits:job:{}:{}"


async def _planned(
    redis_url: str, job_id: str, server: FakeCreditsServer, *, shard_size: int = 2
) -> tuple[ShardedJob, list[UUID], str]:
    seeded = seed_ledger(server.ledger, accounts=4, actions_per_account=12, seed=7)
    (client_id,) = seeded.client_ids
    job = ShardedJob(redis_url, job_id)
    async with server.client() as client:
        await job.plan(client, client_id, shard_size=shard_size)
    return job, list(seeded.account_ids), str(client_id)


async def test_a_write_lost_mid_shard_leaves_the_shard_pending(redis_url: str) -> None:
    """One account's write fails (a connection reset): the run raises that error, the shard
    is not marked done (before: it was, with the account missing, so no rerun ever did it and
    the job never finished), and the next run does that account only."""
    async with FakeCreditsServer() as server:
        job, accounts, _ = await _planned(redis_url, "lost-write", server, shard_size=4)
        kept = job._store.keep
        calls = 0

        async def flaky(report: AccountReport) -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RedisConnectionError("Connection reset by peer")
            await kept(report)

        job._store.keep = flaky  # type: ignore[method-assign]
        async with server.client() as client:
            with pytest.raises(RedisConnectionError, match="reset by peer"):
                await job.run_shard(client, 0)
            assert await job.pending_shards() == [0]
            assert (await job.progress()).accounts_done == 3
            server.reset_requests()
            report = await job.run_shard(client, 0)
        await job.aclose()
    assert [a.account_id for a in report.accounts] == accounts
    async with ShardedJob(redis_url, "lost-write") as again:
        assert (await again.report()).accounts == report.accounts
    listed = {r.query.get("creditAccountId") for r in server.requests} - {None}
    assert len(listed) == 1


async def test_a_plan_lost_or_replaced_while_a_shard_ran_does_not_mark_it_done(
    redis_url: str,
) -> None:
    """Redis restarted (its data gone) or the job re-planned while a worker held the old plan:
    marking "shard 1 done" would then name other accounts, which no run would ever do."""
    probe = redis.asyncio.from_url(redis_url)
    async with FakeCreditsServer() as server:
        job, _, _ = await _planned(redis_url, "lost-plan", server)
        await job.load_plan()
        await probe.flushall()  # what a restart without persistence leaves
        async with server.client() as client:
            with pytest.raises(JobStateError, match=r"plan .* was lost or replaced while shard 1"):
                await job.run_shard(client, 1)
            assert await probe.hkeys(KEY.format("lost-plan", "done")) == []
            await job.aclose()
            job, _, _ = await _planned(redis_url, "replaced", server)
            await job.load_plan()
            stored = json.loads(await probe.get(KEY.format("replaced", "plan")))
            stored["shards"] = stored["shards"][::-1]
            await probe.set(KEY.format("replaced", "plan"), json.dumps(stored))
            with pytest.raises(JobStateError, match="lost or replaced while shard 0"):
                await job.run_shard(client, 0)
            assert await probe.hkeys(KEY.format("replaced", "done")) == []
        await job.aclose()
    await probe.aclose()


async def test_a_report_under_another_accounts_field_is_refused(redis_url: str) -> None:
    """One account's report copied over another's field: before, the shard's report held the
    first account twice and the second not at all."""
    probe = redis.asyncio.from_url(redis_url)
    async with FakeCreditsServer() as server:
        job, accounts, _ = await _planned(redis_url, "swapped", server)
        async with server.client() as client:
            await job.run_shard(client, 0)
            field = KEY.format("swapped", "accounts")
            await probe.hset(field, str(accounts[1]), await probe.hget(field, str(accounts[0])))
            again = ShardedJob(redis_url, "swapped")
            with pytest.raises(JobStateError, match=f"field {accounts[1]} holds the report of "
                               f"account {accounts[0]}: delete the field"):  # fmt: skip
                await again.run_shard(client, 0)
            for index in (0, 1):
                await probe.hdel(field, str(accounts[index]))
            await probe.hdel(KEY.format("swapped", "done"), "0")
            assert [a.account_id for a in (await again.run_shard(client, 0)).accounts] == (
                accounts[:2]
            )
        await again.aclose()
        await job.aclose()
    await probe.aclose()


def _plan_with(change: str) -> object:
    def edit(plan: dict[str, object]) -> bytes:
        shards: list[list[str]] = plan["shards"]  # type: ignore[assignment]
        if change == "repeat":
            shards[1][0] = shards[0][0]
        elif change == "job":
            plan["jobId"] = "another-job"
        elif change == "empty":
            shards.append([])
        return json.dumps(plan).encode()

    return edit


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("plan", b"not json", r":plan holds a plan that this SDK did not write \(8 bytes"),
        ("plan", b"[" * 100_000, r":plan holds a plan that this SDK did not write"),
        ("plan", b'{"jobId": "hostile"}', r":plan holds a plan that this SDK did not write"),
        ("plan", _plan_with("repeat"), r":plan is not a plan this SDK wrote \(an account in two"),
        ("plan", _plan_with("empty"), r":plan is not a plan this SDK wrote"),
        ("plan", _plan_with("job"), r":plan holds the plan of job 'another-job', not 'lying'"),
        ("accounts", b'{"accountId": "\\ud800"}', r":accounts field .* holds a report that"),
        ("stats", b"lots", r":stats field discrepancies is not a count"),
        ("stats", b"9" * 30, r":stats field discrepancies is not a count"),
        ("updated", b"yesterday", r":stats holds a time this SDK did not write"),
        ("done", b"first", r":done holds a field that is not a shard index"),
    ],
)
async def test_a_value_this_sdk_did_not_write_is_a_job_state_error(
    redis_url: str, key: str, value: object, message: str
) -> None:
    """Garbage, a deep nest, a lone surrogate, a plan edited by hand: a JobStateError naming
    the key, from a fresh job (a worker starting up) and from progress and the report."""
    probe = redis.asyncio.from_url(redis_url)
    async with FakeCreditsServer() as server:
        job, accounts, _ = await _planned(redis_url, "lying", server)
        async with server.client() as client:
            await job.run_shard(client, 0)
        await job.aclose()
    name = KEY.format("lying", "plan")
    if callable(value):
        await probe.set(name, value(json.loads(await probe.get(name))))
    elif key == "plan":
        await probe.set(name, value)
    elif key == "accounts":
        await probe.hset(KEY.format("lying", key), str(accounts[0]), value)  # type: ignore[arg-type]
    elif key in ("stats", "updated"):
        field = "discrepancies" if key == "stats" else "updatedAt"
        await probe.hset(KEY.format("lying", "stats"), field, value)  # type: ignore[arg-type]
    else:
        await probe.hset(KEY.format("lying", key), value, "x")  # type: ignore[arg-type]
    await probe.aclose()
    async with ShardedJob(redis_url, "lying") as fresh:
        with pytest.raises(JobStateError, match=message):
            await fresh.progress() if key in ("stats", "updated") else await fresh.report()
        if key in ("done",):
            with pytest.raises(JobStateError, match=message):
                await fresh.pending_shards()


async def test_every_key_expires_and_every_write_keeps_the_job_alive(redis_url: str) -> None:
    """``started`` had no expiry (a job whose shards never finished left it forever), and
    storing an account did not renew the plan: a long shard could outlive its own plan."""
    probe = redis.asyncio.from_url(redis_url)
    async with FakeCreditsServer() as server:
        seeded = seed_ledger(server.ledger, accounts=2, actions_per_account=12, seed=8)
        async with (
            server.client() as client,
            ShardedJob(redis_url, "ttl", ttl=timedelta(seconds=60)) as job,
        ):
            await job.plan(client, seeded.client_ids[0], shard_size=2)
            await job._store.started(0)
            assert 0 < await probe.pttl(KEY.format("ttl", "started")) <= 60_000
            await probe.pexpire(KEY.format("ttl", "plan"), 5_000)
            done = await reconcile(client, seeded.client_ids[0], seeded.account_ids[:1])
            await job._store.keep(done.accounts[0])
            assert await probe.pttl(KEY.format("ttl", "plan")) > 50_000
    await probe.aclose()


async def test_ttl_and_poll_out_of_range_are_refused_at_once(redis_url: str) -> None:
    """A ttl under 1 ms used to fail only at the first write, as a Redis error; a poll of 0,
    NaN or inf would spin or never look again."""
    for ttl in (timedelta(0), timedelta(microseconds=400), timedelta(seconds=-1)):
        with pytest.raises(ValueError, match="ttl: must be a timedelta of at least 1 second"):
            ShardedJob(redis_url, "t", ttl=ttl)
    async with ShardedJob(redis_url, "t") as job:
        for poll in (0, -1.0, float("nan"), float("inf"), True):
            with pytest.raises(ValueError, match="poll: must be a positive, finite number"):
                await job.wait(poll=poll)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"per_minute": 1e-320}, "would run for over 604,800 s"),
        ({"per_minute": float("inf")}, "per_minute: must be finite"),
        ({"per_minute": 600, "margin": float("inf")}, "margin: must be finite"),
        ({"per_minute": 600, "minimum": float("nan")}, "minimum: must be a number of at least 0"),
        ({"per_minute": 600, "minimum": -1}, "minimum: must be a number of at least 0"),
        ({"per_minute": 600, "requests_per_account": -5}, "requests_per_account: must be a pos"),
    ],
)
def test_a_shard_timeout_is_always_a_finite_number_of_seconds(
    arguments: dict[str, float], message: str
) -> None:
    """Before: inf, NaN or -1 came back, and an engine crashed on int(inf) or never retried."""
    with pytest.raises(ValueError, match=message):
        shard_timeout(50, **arguments)


async def test_a_worker_clock_behind_never_ends_a_run_before_it_started(redis_url: str) -> None:
    """Workers stamp with their own clocks: one an hour behind the planner's stored the last
    account (and first marked the shard done), and the reports ended before they started."""
    probe = redis.asyncio.from_url(redis_url)
    async with FakeCreditsServer() as server:
        job, _, _ = await _planned(redis_url, "skewed", server, shard_size=4)
        plan = await job.load_plan()
        behind = format_datetime(plan.planned_at - timedelta(hours=1))
        await probe.hset(KEY.format("skewed", "done"), "0", behind)
        async with server.client() as client:
            shard = await job.run_shard(client, 0)
        await probe.hset(KEY.format("skewed", "stats"), "updatedAt", behind)
        merged = await job.report()
        await job.aclose()
    await probe.aclose()
    assert shard.started_at <= shard.finished_at
    assert merged.started_at == plan.planned_at == merged.finished_at


async def test_two_workers_on_one_shard_count_every_account_and_finding_once(
    redis_url: str,
) -> None:
    """A worker presumed dead comes back while the shard runs again elsewhere: both runs
    return the same report, each account once, and each discrepancy is counted once."""
    async with FakeCreditsServer(latency=0.002) as server:
        seeded = seed_ledger(server.ledger, accounts=6, actions_per_account=30, seed=9)
        planted = plant_discrepancies(server.ledger, seeded.account_ids, kinds=KINDS)
        (client_id,) = seeded.client_ids
        async with (
            server.client() as client,
            ShardedJob(redis_url, "twice") as first,
            ShardedJob(redis_url, "twice") as second,
        ):
            await first.plan(client, client_id, shard_size=6)
            one, two = await asyncio.gather(
                first.run_shard(client, 0, concurrency=3), second.run_shard(client, 0)
            )
            progress = await second.progress()
    assert one == two
    assert [a.account_id for a in one.accounts] == list(seeded.account_ids)
    assert (progress.accounts_done, progress.shards_done) == (6, 1)
    assert progress.discrepancies == len(one.discrepancies) == len(planted)


def test_a_prefix_that_cannot_start_a_key_name_is_refused_at_once(redis_url: str) -> None:
    """A lone surrogate failed at the first Redis call as a bare UnicodeEncodeError; a newline
    or an empty prefix made keys no one could type."""
    for bad in ("\ud800", "a\nb", "", "has space", "x" * 101, b"bytes"):
        with pytest.raises(ValueError, match="prefix: 1 to 100 printable ASCII characters"):
            ShardedJob(redis_url, "j", prefix=bad)  # type: ignore[arg-type]
    ShardedJob(redis_url, "j", prefix="{jobs}:job")


async def test_progress_of_a_job_whose_redis_lost_its_data_is_an_error_not_zero(
    redis_url: str,
) -> None:
    """Before, a watcher holding the plan saw 0 of 4 accounts done after the restart, and
    ``wait()`` (and ``job-status --wait``) waited for ever for a job no one would run."""
    probe = redis.asyncio.from_url(redis_url)
    async with FakeCreditsServer() as server:
        job, _, _ = await _planned(redis_url, "restarted", server)
        async with server.client() as client:
            await job.run_shard(client, 0)
        assert (await job.progress()).accounts_done == 2
        await probe.flushall()
        with pytest.raises(JobStateError, match=r"its plan .* is gone from Redis"):
            await asyncio.wait_for(job.wait(poll=0.01), timeout=5)
        await job.aclose()
    await probe.aclose()


async def test_a_done_shard_whose_reports_were_evicted_is_pending_again(redis_url: str) -> None:
    """A Redis with an eviction policy dropped an account of a finished shard: before, no shard
    was pending, so no rerun would ever redo it, and the report was refused for ever."""
    probe = redis.asyncio.from_url(redis_url)
    async with FakeCreditsServer() as server:
        job, accounts, _ = await _planned(redis_url, "evicted", server)
        async with server.client() as client:
            for index in (0, 1):
                await job.run_shard(client, index)
            await probe.hdel(KEY.format("evicted", "accounts"), str(accounts[3]))
            assert await job.pending_shards() == [1]
            server.reset_requests()
            for index in await job.pending_shards():
                await job.run_shard(client, index)
        report = await job.report()
        assert await job.pending_shards() == []
        await job.aclose()
    await probe.aclose()
    assert [a.account_id for a in report.accounts] == accounts
    listed = {r.query.get("creditAccountId") for r in server.requests} - {None}
    assert listed == {str(accounts[3])}
