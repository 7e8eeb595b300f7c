"""The no-op job for the RQ baseline: it returns the time it started, which is how the
benchmark measures pickup latency (enqueue to handler start) with the same clock."""

import time


def stamp():
    """Do nothing; answer the start time (seconds since the epoch)."""
    return time.time()
