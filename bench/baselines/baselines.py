"""RQ and Celery over a local Redis: the same no-op workload as the queue's benchmarks.

Run by run.sh (which installs the packages, starts redis-server and passes its URL and pid);
prints one JSON document on stdout. Usage:

    python baselines.py --redis-url redis://127.0.0.1:PORT --redis-pid PID \
        [--tasks 2000] [--workers 1,2,4] [--pickup-samples 30] [--only rq|celery]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import redis

import measure

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def worker_env(redis_url):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE) + os.pathsep + env.get("PYTHONPATH", "")
    env["BENCH_REDIS_URL"] = redis_url
    return env


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Rq:
    """RQ with its default worker class (a work horse forked per job), or SimpleWorker."""

    def __init__(self, redis_url, worker_class=None):
        from rq import Queue

        import noop_tasks

        self.url = redis_url
        self.worker_class = worker_class
        self.conn = redis.Redis.from_url(f"{redis_url}/0")
        self.queue = Queue("default", connection=self.conn)
        self.job = noop_tasks.stamp
        self.procs = []

    def start(self, workers):
        self.conn.flushall()
        cmd = [str(BIN / "rq"), "worker", "-u", f"{self.url}/0", "-q", "default"]
        if self.worker_class:
            cmd += ["-w", self.worker_class]
        self.procs = [
            subprocess.Popen(cmd, cwd=HERE, env=worker_env(self.url), stdout=subprocess.DEVNULL)
            for _ in range(workers)
        ]
        from rq import Worker

        measure.wait_until(lambda: Worker.count(connection=self.conn) >= workers, 60, every=0.05)
        self.warm_up(workers)

    def warm_up(self, workers):
        base = self.done_count()
        for _ in range(4 * workers):
            self.enqueue()
        measure.wait_until(lambda: self.done_count() - base >= 4 * workers, 60)

    def pids(self):
        return [p.pid for p in self.procs]

    def enqueue(self):
        self.queue.enqueue(self.job)

    def done_count(self):
        return self.conn.zcard("rq:finished:default")

    def run_one_stamp(self):
        job = self.queue.enqueue(self.job)
        measure.wait_until(lambda: job.get_status(refresh=True) == "finished", 30, every=0.001)
        return float(job.return_value(refresh=True))

    def stop(self):
        stop(self.procs)
        self.procs = []


class CeleryBench:
    """Celery with its default prefork pool; `workers` is the pool size (-c) of one node."""

    def __init__(self, redis_url):
        os.environ["BENCH_REDIS_URL"] = redis_url
        sys.path.insert(0, str(HERE))
        import celery_app

        self.url = redis_url
        self.app = celery_app.app
        self.task = celery_app.stamp
        self.results = redis.Redis.from_url(f"{redis_url}/1")
        self.conn = redis.Redis.from_url(f"{redis_url}/0")
        self.procs = []

    def start(self, workers):
        self.conn.flushall()
        cmd = [
            str(BIN / "celery"), "-A", "celery_app", "worker", "-c", str(workers),
            "--pool", "prefork", "-l", "WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]
        self.procs = [
            subprocess.Popen(cmd, cwd=HERE, env=worker_env(self.url), stdout=subprocess.DEVNULL)
        ]
        # Ready when every pool process has run tasks.
        self.warm_up(workers)

    def warm_up(self, workers):
        pending = [self.task.delay() for _ in range(8 * workers)]
        for r in pending:
            r.get(timeout=120)

    def pids(self):
        return [p.pid for p in self.procs]

    def enqueue(self):
        self.task.delay()

    def done_count(self):
        return self.results.dbsize()

    def run_one_stamp(self):
        return float(self.task.delay().get(timeout=30))

    def stop(self):
        stop(self.procs)
        self.procs = []


def idle_rss(system, settle):
    time.sleep(settle)
    pids = system.pids()
    return {
        "main_kib": sum(measure.rss_kib(p) for p in pids),
        "tree_kib": sum(measure.tree_rss_kib(p) for p in pids),
    }


def run_system(system, args):
    out = {"throughput": {}, "drain": {}}
    # One worker: idle memory and pickup first, then throughput.
    system.start(1)
    try:
        out["idle_rss"] = idle_rss(system, args.settle)
        out["pickup"] = measure.pickup(system, args.pickup_samples)
        out["throughput"]["1"] = measure.throughput(system, args.tasks, args.timeout)
        out["drain"]["1"] = measure.drain(system, args.tasks, args.timeout)
    finally:
        system.stop()
    for w in args.workers:
        if w == 1:
            continue
        system.start(w)
        try:
            out["throughput"][str(w)] = measure.throughput(system, args.tasks, args.timeout)
            out["drain"][str(w)] = measure.drain(system, args.tasks, args.timeout)
        finally:
            system.stop()
    return out


def versions():
    from importlib.metadata import version

    return {name: version(name) for name in ("rq", "celery", "kombu", "redis")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redis-url", required=True, help="redis://HOST:PORT, no database")
    ap.add_argument("--redis-pid", type=int, required=True)
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--pickup-samples", type=int, default=30)
    ap.add_argument("--settle", type=float, default=3.0, help="idle seconds before reading RSS")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--only", choices=["rq", "rq-simple", "celery"], action="append")
    args = ap.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    only = set(args.only or ["rq", "rq-simple", "celery"])

    redis_idle = measure.rss_kib(args.redis_pid)
    report = {
        "versions": versions(),
        "redis_server": {
            "version": redis.Redis.from_url(args.redis_url).info("server")["redis_version"],
            "idle_rss_kib": redis_idle,
        },
        "method": {
            "tasks": args.tasks,
            "pickup_samples": args.pickup_samples,
            "python": sys.version.split()[0],
        },
    }
    if "rq" in only:
        report["rq"] = run_system(Rq(args.redis_url), args)
    if "rq-simple" in only:
        report["rq_simple"] = run_system(Rq(args.redis_url, "rq.worker.SimpleWorker"), args)
    if "celery" in only:
        report["celery"] = run_system(CeleryBench(args.redis_url), args)
    report["redis_server"]["rss_after_kib"] = measure.rss_kib(args.redis_pid)
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
