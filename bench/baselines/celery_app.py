"""The Celery app of the baseline: a Redis broker (db 0), a Redis result backend (db 1), and
one no-op task that returns the time it started (pickup latency is measured with it).

BENCH_REDIS_URL is redis://HOST:PORT (without a database number)."""

import os
import time

from celery import Celery

_base = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")

app = Celery("bench", broker=f"{_base}/0", backend=f"{_base}/1")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="stamp")
def stamp():
    """Do nothing; answer the start time (seconds since the epoch)."""
    return time.time()
