"""The throttle on its own: pause, probe, model, share pacing, learning. No real sleeps.

Every wait goes through an injected ``wait`` that advances the throttle's fake clock.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

import thoughtcredits as tc
from thoughtcredits._events import Event, PauseEvent, Quota
from thoughtcredits._quota.clock import Clock
from thoughtcredits._quota.hints import Reading, read_quota
from thoughtcredits._quota.probe import PROBES
from thoughtcredits._quota.rate_limit import Learner
from thoughtcredits._quota.throttle import Permit, Throttle

START = 1_800_000_000.0


class FakeTime:
    """Epoch seconds that move only when a request waits."""

    def __init__(self) -> None:
        self.now = START
        self.waits: list[float] = []
        self.events: list[Event] = []

    def __call__(self) -> float:
        return self.now

    async def wait(self, seconds: float) -> None:
        self.waits.append(round(seconds, 6))
        self.now += seconds
        await asyncio.sleep(0)

    def throttle(
        self, rate_limit: tc.RateLimit | str | None = "auto", max_concurrency: int | None = None
    ) -> Throttle:
        return Throttle(
            rate_limit,  # type: ignore[arg-type]
            max_concurrency,
            emit=self.events.append,
            clock=Clock(monotonic=self, wall=self),
        )


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def limited(limit: int, remaining: int, reset_in: float = 5.0) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(START + reset_in)),
    }


async def go(throttle: Throttle, fake: FakeTime) -> float:
    permit = await throttle.acquire(fake.wait)
    throttle.release(permit)
    return permit.waited


async def test_a_server_without_quota_headers_leaves_no_gate_until_it_sends_some(
    fake: FakeTime,
) -> None:
    """Against a server that sets no quota headers (a proxy that strips them, a test's mock)
    the learning limiter stands aside after the first answer, as ``rate_limit=None`` would;
    once an answer shows a quota it paces again, and the first such answer is learned from
    even though its request went ungated."""
    throttle = fake.throttle()
    assert throttle.busy()  # the probe: nothing known yet
    permit = await throttle.acquire(fake.wait)
    throttle.observe(200, {}, permit)
    throttle.release(permit)
    assert not throttle.busy()
    ungated = await throttle.acquire(fake.wait)
    assert ungated == Permit()  # nothing taken, nothing to give back
    throttle.observe(200, limited(60, 0, reset_in=1.0), ungated)
    throttle.release(ungated)
    assert throttle.busy()
    assert throttle.rate_limit == tc.RateLimit(60, 1)
    await go(throttle, fake)
    assert fake.waits != []  # nothing left: the next request waits for the refill


# -- the configured limiter -------------------------------------------------------------------


async def test_configured_limit_lets_the_burst_go_then_spaces_at_the_rate(fake: FakeTime) -> None:
    throttle = fake.throttle(tc.RateLimit(per_minute=60, burst=6))
    for _ in range(5):  # one token of six is kept in reserve
        await go(throttle, fake)
    assert fake.waits == []
    for _ in range(3):
        await go(throttle, fake)
    assert fake.waits == [1.0, 1.0, 1.0]
    assert throttle.rate_limit == tc.RateLimit(60, 6)


async def test_no_limit_waits_for_nothing_and_does_not_pace(fake: FakeTime) -> None:
    throttle = fake.throttle(None)
    for _ in range(50):
        throttle.observe(200, limited(600, 0))
        assert await go(throttle, fake) == 0.0
    assert fake.waits == []
    assert throttle.rate_limit is None


# -- the shared pause -------------------------------------------------------------------------


async def test_pause_publishes_a_resume_time_and_every_task_waits_it(fake: FakeTime) -> None:
    throttle = fake.throttle(None)
    throttle.pause(2.5)
    throttle.pause(1.0)  # shorter than the pause in force: changes nothing
    assert fake.events == [PauseEvent(seconds=2.5, resume_at=START + 2.5, reason="429")]
    assert throttle.paused_for() == 2.5
    assert throttle.quota.paused_until == datetime.fromtimestamp(START + 2.5, UTC)
    waited = await asyncio.gather(*(go(throttle, fake) for _ in range(3)))
    assert waited[0] == 2.5
    assert throttle.paused_for() == 0.0
    assert throttle.quota.paused_until is None


async def test_a_wait_that_raises_leaves_nothing_held(fake: FakeTime) -> None:
    throttle = fake.throttle("auto", max_concurrency=1)
    # Still probing (a 503 teaches no limit), and paced: one request a second.
    throttle.observe(503, {"X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "1"})
    await go(throttle, fake)

    async def closed(seconds: float) -> None:
        raise tc.APIConnectionError("the client was closed", method="GET", url="/")

    for _ in range(PROBES + 2):
        with pytest.raises(tc.APIConnectionError):
            await throttle.acquire(closed)
    # Neither a probe role nor the one concurrency slot leaked: the next request goes.
    task = asyncio.create_task(throttle.acquire(fake.wait))
    assert await started([task]) == 1
    assert task.result().waited > 0


# -- the probe while the limit is unknown -----------------------------------------------------


async def started(tasks: list[asyncio.Task[Permit]]) -> int:
    for _ in range(50):
        await asyncio.sleep(0)
    return sum(task.done() for task in tasks)


async def test_a_few_first_requests_go_at_once_the_rest_wait_for_the_limit(
    fake: FakeTime,
) -> None:
    throttle = fake.throttle()
    tasks = [asyncio.create_task(throttle.acquire(fake.wait)) for _ in range(12)]
    # A slow first answer holds nobody among the first five...
    assert await started(tasks) == PROBES
    # ...and the others go as soon as one answer teaches the limit.
    first = next(task for task in tasks if task.done()).result()
    throttle.observe(200, limited(600, 99), first)
    throttle.release(first)
    await asyncio.gather(*tasks)
    assert throttle.rate_limit == tc.RateLimit(600, 100)


async def test_failed_or_cancelled_probes_hand_their_role_on_and_never_release_everyone(
    fake: FakeTime,
) -> None:
    throttle = fake.throttle()
    tasks = [asyncio.create_task(throttle.acquire(fake.wait)) for _ in range(20)]
    assert await started(tasks) == PROBES
    for task in [task for task in tasks if task.done()]:  # every probe dies without an answer
        throttle.release(task.result())
    # Their roles went to the next five, no further.
    assert await started(tasks) == 2 * PROBES
    throttle.observe(200, limited(120, 19))
    await asyncio.gather(*tasks)
    assert throttle.rate_limit == tc.RateLimit(120, 20)


async def test_a_server_without_quota_headers_releases_everyone(fake: FakeTime) -> None:
    throttle = fake.throttle()
    tasks = [asyncio.create_task(throttle.acquire(fake.wait)) for _ in range(12)]
    assert await started(tasks) == PROBES
    throttle.observe(200, {})
    assert await started(tasks) == 12
    assert throttle.rate_limit is None


async def test_a_5xx_without_headers_teaches_nothing(fake: FakeTime) -> None:
    throttle = fake.throttle()
    tasks = [asyncio.create_task(throttle.acquire(fake.wait)) for _ in range(12)]
    await started(tasks)
    first = next(task for task in tasks if task.done()).result()
    throttle.observe(502, {}, first)  # a proxy's page, not the API's answer
    throttle.release(first)
    assert await started(tasks) == PROBES + 1
    for task in tasks:
        task.cancel()


# -- learning the limit -----------------------------------------------------------------------


async def test_one_implausible_limit_does_not_pin_the_client(fake: FakeTime) -> None:
    throttle = fake.throttle()
    throttle.observe(200, limited(1, 0))
    assert throttle.rate_limit is None
    for _ in range(3):
        throttle.observe(200, limited(600, 98))
    assert throttle.rate_limit == tc.RateLimit(600, 99)


async def test_the_limit_is_relearned_when_the_server_changes_it(fake: FakeTime) -> None:
    throttle = fake.throttle()
    throttle.observe(200, limited(120, 19))
    assert throttle.rate_limit == tc.RateLimit(120, 20)
    throttle.observe(200, limited(600, 99))
    assert throttle.rate_limit == tc.RateLimit(600, 100)


def test_an_implausible_limit_is_taken_once_answers_agree_on_it() -> None:
    learner = Learner()
    reading = Reading(limit=5, remaining=4)
    assert [learner.offer(reading) for _ in range(3)] == [None, None, tc.RateLimit(5, 1)]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # Reset is read once, as seconds from now (and kept as the epoch it said, for show);
        # in whole seconds it may come up to 1 s sooner.
        (limited(600, 10, 5), Reading(600, 10, 5.0, START + 5, 1.0)),
        ({"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "601"}, Reading()),
        ({"X-RateLimit-Limit": "0"}, Reading()),
        ({"X-RateLimit-Limit": "abc", "X-RateLimit-Remaining": "-1"}, Reading()),
        ({"X-RateLimit-Reset": str(int(START - 5))}, Reading()),  # in the past
        ({"X-RateLimit-Reset": str(int(START + 90_000))}, Reading()),  # over a day ahead
        ({"X-RateLimit-Reset": str(int(START * 1000))}, Reading()),  # in milliseconds
        ({"X-RateLimit-Reset": "30"}, Reading(reset=30.0, reset_at=START + 30, slack=1.0)),
        ({"X-RateLimit-Reset": "2.5"}, Reading(reset=2.5, reset_at=START + 2.5)),
        ({"X-RateLimit-Reset": "nan"}, Reading()),
        # ASCII digits only: int() and float() would read each of these.
        ({"X-RateLimit-Limit": "6_00", "X-RateLimit-Remaining": "1_0"}, Reading()),
        ({"X-RateLimit-Limit": "\uff16\uff10\uff10", "X-RateLimit-Remaining": "\u0661"}, Reading()),
        ({"X-RateLimit-Reset": "3_0"}, Reading()),
    ],
)
def test_headers_are_read_and_implausible_values_dropped(
    headers: dict[str, str], expected: Reading
) -> None:
    assert read_quota(headers, wall=START) == expected


# -- pacing: the model's bucket, and the share pacing beside other clients --------------------


async def test_a_lone_client_spends_what_remains_at_once_then_keeps_to_the_rate(
    fake: FakeTime,
) -> None:
    throttle = fake.throttle()
    throttle.observe(200, limited(60, 10, reset_in=5))  # 10 left: a fresh burst of 10
    sent = []
    for _ in range(11):
        await go(throttle, fake)
        sent.append(round(fake.now - START, 6))
    # Two tokens are kept in reserve (from a burst of 8 on); then one a second, the rate.
    assert sent == [0.0] * 8 + [1.0, 2.0, 3.0]


async def neighbour_spends(throttle: Throttle, fake: FakeTime, headers: dict[str, str]) -> None:
    """One request whose answer shows far less left than this client alone would leave."""
    permit = await throttle.acquire(fake.wait)
    throttle.observe(200, headers, permit)
    throttle.release(permit)


async def test_beside_a_neighbour_the_remaining_budget_is_spread_over_the_time_left(
    fake: FakeTime,
) -> None:
    throttle = fake.throttle()
    throttle.observe(200, limited(600, 99, reset_in=5))
    await neighbour_spends(throttle, fake, limited(600, 10, reset_in=5))  # 10 left for 5 s
    sent = []
    for _ in range(4):
        await go(throttle, fake)
        sent.append(round(fake.now - START, 6))
    assert sent == [0.0, 0.5, 1.0, 1.5]


async def test_a_coarse_reset_does_not_slow_a_fast_bucket(fake: FakeTime) -> None:
    throttle = fake.throttle()
    # 10 a second with a burst of 11; Reset in whole seconds says 30 s, but spending what
    # remains over one refill of the burst is faster: 5 left, 1.1 s per burst, so 0.22 s.
    throttle.observe(200, limited(600, 10, reset_in=30))
    await neighbour_spends(throttle, fake, limited(600, 5, reset_in=30))
    sent = []
    for _ in range(3):
        await go(throttle, fake)
        sent.append(round(fake.now - START, 6))
    assert sent == [0.0, 0.22, 0.44]


async def test_remaining_zero_pauses_until_the_reset(fake: FakeTime) -> None:
    throttle = fake.throttle()
    throttle.observe(200, limited(600, 0, reset_in=4))
    assert fake.events == [
        PauseEvent(seconds=4.0, resume_at=START + 4, reason="X-RateLimit-Remaining: 0")
    ]
    await go(throttle, fake)
    assert fake.waits[0] == 4.0


async def test_quota_is_the_latest_headers(fake: FakeTime) -> None:
    throttle = fake.throttle()
    assert throttle.quota == Quota()
    throttle.observe(200, limited(600, 42, reset_in=7))
    throttle.observe(200, {})  # an answer without headers keeps the last snapshot
    assert throttle.quota == Quota(600, 42, datetime.fromtimestamp(START + 7, UTC), None)


def test_bad_arguments_fail_fast() -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        Throttle(None, 0, emit=print)
    with pytest.raises(TypeError, match="rate_limit"):
        Throttle(120, None, emit=print)  # type: ignore[arg-type]


@pytest.mark.parametrize("per_minute", [float("nan"), float("inf"), float("-inf")])
def test_a_per_minute_that_is_not_a_finite_number_is_refused_by_name(per_minute: float) -> None:
    """NaN raised "cannot convert float NaN to integer" and inf an OverflowError, from the
    default burst, before the check that names the argument."""
    with pytest.raises(ValueError, match=r"^RateLimit\.per_minute: must be positive, got"):
        tc.RateLimit(per_minute=per_minute)


async def test_requests_cancelled_at_any_wait_leave_nothing_in_flight(fake: FakeTime) -> None:
    """Cancel requests while they wait in line, for the share pacing or for the concurrency
    cap: none of them is counted as sent, and the ones that did go are settled on release."""
    throttle = fake.throttle(tc.RateLimit(per_minute=60, burst=6), max_concurrency=1)
    gate = asyncio.Event()

    async def stuck(seconds: float) -> None:
        await gate.wait()  # a wait that never ends until cancelled

    first = await throttle.acquire(stuck)  # goes at once, holds the one slot
    waiting = [asyncio.create_task(throttle.acquire(stuck)) for _ in range(4)]
    await started(waiting)
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    throttle.release(first)
    model = throttle._model
    assert model is not None
    assert model.bucket is not None
    assert model.bucket.in_flight == 0
    assert throttle._probe.in_flight == 0
    assert (await throttle.acquire(fake.wait)).slot  # the slot was given back


async def test_a_far_reset_with_nothing_left_holds_no_one(fake: FakeTime) -> None:
    """A 200 saying ``Remaining: 0`` until a reset 23 h ahead holds no longer than a 429's
    ``Retry-After`` would: past ``max_retry_after`` it holds no one, and the next request goes
    when the learned rate allows, to find out (it used to hold every request for 23 h)."""
    throttle = fake.throttle()
    throttle.observe(200, limited(600, 0, reset_in=23 * 3600))
    assert fake.events == []
    assert throttle.paused_for() == 0.0
    await go(throttle, fake)
    assert sum(fake.waits) <= 0.2  # 10 a second, learned from the same answer
