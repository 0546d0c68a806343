"""The Celery app of the tests: ``celery -A tests.workers.celery_app worker``."""

from __future__ import annotations

import os

from celery import Celery

from thoughtcredits.workers.celery import install

from .harness import LIMIT_BURST, LIMIT_KEY, PER_MINUTE, SHARD_SIZE, WORKERS

REDIS_URL = os.environ["REDIS_URL"]
app = Celery("tests", broker=REDIS_URL, backend=REDIS_URL)
reconcile_shard = install(
    app, REDIS_URL, key=LIMIT_KEY, per_minute=PER_MINUTE, burst=LIMIT_BURST,
    shard_size=SHARD_SIZE, workers=WORKERS,
)  # fmt: skip
