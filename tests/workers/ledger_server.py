"""A local credits server in its own process, for the worker tests: seeded, rate limited, and
logging every answer with its time.

    python -m tests.workers.ledger_server --accounts 2000 --rate 6000/100 --log FILE

prints ``URL API_KEY CLIENT_ID`` once it listens, and serves until SIGTERM. Each answer is a
line of FILE (the log): ``<monotonic seconds> <status> <route> <path>``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time

from thoughtcredits.testing import FakeCreditsServer, RecordedRequest, seed_ledger


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--actions", type=int, default=6)
    parser.add_argument("--rate", required=True, help="PER_MINUTE/BURST")
    parser.add_argument("--log", required=True)
    parser.add_argument("--ids", required=True, help="write the account ids here, one a line")
    args = parser.parse_args()
    per_minute, burst = (int(part) for part in args.rate.split("/"))
    log = open(args.log, "a", buffering=1 << 16)  # noqa: SIM115, ASYNC230 - before serving
    last_flush = time.monotonic()

    def record(request: RecordedRequest) -> None:
        nonlocal last_flush
        now = time.monotonic()
        log.write(f"{now:.6f} {request.status} {request.route} {request.path}\n")
        if now - last_flush > 0.5:
            log.flush()
            last_flush = now

    server = FakeCreditsServer(
        "worker-test-key", rate_limit=(per_minute, burst), on_request=record, log_size=1
    )
    seeded = seed_ledger(server.ledger, accounts=args.accounts, actions_per_account=args.actions)
    with open(args.ids, "w") as ids:  # noqa: ASYNC230 - before serving
        ids.writelines(f"{account}\n" for account in seeded.account_ids)
    await server.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(server.url, server.api_key, seeded.client_ids[0], flush=True)  # noqa: T201
    await stop.wait()
    await server.stop()
    log.close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
