"""The arq worker module of the tests: ``arq tests.workers.arq_app.WorkerSettings``."""

from __future__ import annotations

import os

from thoughtcredits.workers.arq import worker_settings

from .harness import LIMIT_BURST, LIMIT_KEY, PER_MINUTE, SHARD_SIZE, WORKERS

WorkerSettings = worker_settings(
    os.environ["REDIS_URL"], key=LIMIT_KEY, per_minute=PER_MINUTE, burst=LIMIT_BURST,
    shard_size=SHARD_SIZE, workers=WORKERS,
)  # fmt: skip
