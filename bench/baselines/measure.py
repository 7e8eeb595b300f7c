"""Measurements shared by the RQ and Celery baselines: process memory, percentiles, waiting.

The numbers mirror what the Rust benchmarks report for the queue (docs/benchmarks.md), so the
ratios compare like with like:

- throughput, end to end: workers started and warmed up, then N no-op tasks enqueued one after
  another by one producer while the workers run; tasks/s = N / (first enqueue .. last
  completion seen).
- throughput, drain: the workers are paused (SIGSTOP), N tasks enqueued, the workers resumed
  (SIGCONT); tasks/s = N / (resume .. last completion seen). This is the workers' own speed,
  without the producer.
- pickup latency: one worker, idle; a task enqueued every 1.1-1.6 s (random); latency = the
  task's own start time (it returns time.time()) minus the time just before the enqueue call.
- idle RSS: VmRSS of the worker's process tree (main process and pool children), after a
  warm-up and a few seconds idle.
"""

import os
import random
import signal
import time


def rss_kib(pid):
    """VmRSS of one process in KiB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def children(pid):
    """Direct and indirect child pids of pid."""
    out = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except FileNotFoundError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{parent}/task/{tid}/children", encoding="ascii") as f:
                    kids = [int(k) for k in f.read().split()]
            except FileNotFoundError:
                kids = []
            out.extend(kids)
            todo.extend(kids)
    return out


def tree_rss_kib(pid):
    """VmRSS of pid plus every descendant, in KiB."""
    return rss_kib(pid) + sum(rss_kib(c) for c in children(pid))


def percentile(values, p):
    """The p-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def wait_until(predicate, timeout, every=0.005):
    """Poll predicate until it is true; the time it became true, or raise after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(every)


def throughput(system, tasks, timeout):
    """Enqueue `tasks` no-op tasks while the system's workers run; tasks/s end to end."""
    start_count = system.done_count()
    t0 = time.monotonic()
    for _ in range(tasks):
        system.enqueue()
    enqueued = time.monotonic()
    t1 = wait_until(lambda: system.done_count() - start_count >= tasks, timeout, every=0.002)
    return {
        "tasks": tasks,
        "seconds": round(t1 - t0, 4),
        "tasks_per_s": round(tasks / (t1 - t0), 1),
        "enqueue_per_s": round(tasks / (enqueued - t0), 1),
    }


def signal_if_alive(pid, sig):
    """Send sig to pid unless it is gone (an RQ work horse exits after its job)."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def drain(system, tasks, timeout):
    """Pause the workers, enqueue `tasks`, resume them; tasks/s from resume to the last done."""
    start_count = system.done_count()
    pids = []
    for pid in system.pids():
        pids += [pid] + children(pid)
    for pid in pids:
        signal_if_alive(pid, signal.SIGSTOP)
    try:
        for _ in range(tasks):
            system.enqueue()
    finally:
        t0 = time.monotonic()
        for pid in pids:
            signal_if_alive(pid, signal.SIGCONT)
    t1 = wait_until(lambda: system.done_count() - start_count >= tasks, timeout, every=0.002)
    return {"tasks": tasks, "seconds": round(t1 - t0, 4), "tasks_per_s": round(tasks / (t1 - t0), 1)}


def pickup(system, samples, seed=7):
    """Pickup latency of an idle worker, in milliseconds (p50, p99, mean, max)."""
    rng = random.Random(seed)
    latencies = []
    for _ in range(samples):
        time.sleep(rng.uniform(1.1, 1.6))
        before = time.time()
        started = system.run_one_stamp()
        latencies.append((started - before) * 1000.0)
    return {
        "samples": samples,
        "p50_ms": round(percentile(latencies, 50), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "mean_ms": round(sum(latencies) / len(latencies), 3),
        "max_ms": round(max(latencies), 3),
    }
