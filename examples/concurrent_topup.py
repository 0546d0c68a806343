"""Top up many credit batches at once, within a client-side rate limit.

::

    export THOUGHTCREDITS_BASE_URL=https://acme.thoughtindustries.com
    export THOUGHTCREDITS_API_KEY=...
    python examples/concurrent_topup.py --client-id CLIENT_ID --account-id ACCOUNT_ID --amount 50

Every active batch of the account (or of the client, without ``--account-id``) gets ``--amount``
more credits. All top-ups run concurrently on one ``Client``; its ``RateLimit`` and
``max_concurrency`` are shared by every task, so the job never bursts past the tenant's limit,
and a 429 pauses all tasks, not just the one that got it.

Each result is printed as one JSON line: ``{"batch_id", "from", "to", "ok", "error"}``. A top-up
is a ``PUT`` of the new absolute balance, so the SDK retries it safely; but running the whole
script again tops up again. Exits 1 if any top-up failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import thoughtcredits as tc


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--account-id", help="only this account's batches")
    parser.add_argument("--amount", type=int, required=True, help="credits to add to each batch")
    parser.add_argument("--per-minute", type=float, default=120, help="requests per minute")
    parser.add_argument("--burst", type=int, default=20, help="requests allowed at once")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    return parser.parse_args(argv)


async def top_up(client: tc.Client, batch: tc.CreditBatch, amount: int) -> dict[str, object]:
    """Add ``amount`` credits to one batch; report the outcome instead of raising."""
    target = batch.current_balance + amount
    result: dict[str, object] = {
        "batch_id": str(batch.id),
        "from": str(batch.current_balance),
        "to": str(target),
    }
    try:
        await client.credit_batches.update(batch.id, current_balance=target)
    except tc.ThoughtCreditsError as error:
        return {**result, "ok": False, "error": str(error)}
    return {**result, "ok": True, "error": None}


async def main(argv: list[str] | None = None) -> int:
    """Top up every active batch concurrently; return the exit code."""
    args = parse_args(argv)
    async with tc.Client(
        rate_limit=tc.RateLimit(per_minute=args.per_minute, burst=args.burst),
        max_concurrency=args.concurrency,
    ) as client:
        listing = client.credit_batches.list(args.client_id, credit_account_id=args.account_id)
        batches = [b async for b in listing if b.status == tc.CreditBatchStatus.ACTIVE]
        # One task per batch: the client's limiter, not the task count, sets the pace.
        results = await asyncio.gather(*(top_up(client, b, args.amount) for b in batches))
    for result in results:
        print(json.dumps(result))
    failed = sum(not result["ok"] for result in results)
    stats = client.stats
    print(
        f"{len(results) - failed} of {len(results)} batches topped up; "
        f"{stats.requests} requests, {stats.rate_limited} rate limited, "
        f"{stats.throttle_wait:.1f} task-seconds waiting on the rate limit",
        file=sys.stderr,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
