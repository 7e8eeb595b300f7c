#!/usr/bin/env bash
# The RQ and Celery baselines: the same no-op workload as the queue's benchmarks, over a local
# Redis. Prints one JSON document on stdout (progress goes to stderr).
#
#   bench/baselines/run.sh [--tasks N] [--workers 1,2,4] [--pickup-samples N] [--only rq|rq-simple|celery]
#
# Installs what is missing: redis-server (Debian package, via apt-get; needs root) and, into a
# venv at .test-tools/bench-venv (gitignored), PyPI rq and celery[redis].
# Redis runs on a free port of 127.0.0.1 with persistence off, and is stopped on exit.
# Environment: PYTHON (default python3) picks the interpreter that creates the venv.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo_root/bench/baselines"
venv="$repo_root/.test-tools/bench-venv"
python="${PYTHON:-python3}"

say() { printf 'baselines: %s\n' "$*" >&2; }

if ! command -v redis-server >/dev/null 2>&1; then
    say "installing redis-server (apt-get)"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
fi

if [[ ! -x "$venv/bin/python" ]]; then
    say "creating venv at .test-tools/bench-venv"
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import rq, celery, redis' >/dev/null 2>&1; then
    say "pip install rq celery[redis] into .test-tools/bench-venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check rq 'celery[redis]' >&2
fi

port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
data="$(mktemp -d)"
redis_pid=""
cleanup() {
    if [[ -n "$redis_pid" ]]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    rm -rf "$data"
}
trap cleanup EXIT

say "starting redis-server on 127.0.0.1:$port"
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$data" \
    --loglevel warning >"$data/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do
    if "$venv/bin/python" -c "import redis, sys; redis.Redis(port=$port).ping()" 2>/dev/null; then
        break
    fi
    sleep 0.1
done

say "running the no-op workload on RQ and Celery"
cd "$here"
"$venv/bin/python" baselines.py --redis-url "redis://127.0.0.1:$port" --redis-pid "$redis_pid" "$@"
