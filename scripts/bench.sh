#!/usr/bin/env bash
# Run every benchmark and the cost model, save the JSON results in bench/results/, and rewrite
# the generated tables of docs/benchmarks.md and docs/cost.md.
#
#   scripts/bench.sh [--quick] [--skip-s3] [--skip-baselines] [--only NAME[,NAME…]]
#
#   --quick           fewer tasks and samples (a smoke run; numbers are noisier)
#   --skip-s3         no S3 (moto) throughput runs
#   --skip-baselines  no RQ / Celery runs (they install redis-server and PyPI packages)
#   --only            run only these: machine, ops, cost, throughput, scaleout, process,
#                     baselines
#                     (the report is always rewritten from whatever bench/results/ holds)
#
# Needs: a Rust toolchain, python3; for S3, scripts/install-test-tools.sh (run here when
# needed); for the baselines, root for `apt-get install redis-server` if it is missing.
# The ingress has its own benchmark (start-up, webhook latency): see docs/benchmarks.md.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
results="bench/results"
bin="target/release"

quick=false
skip_s3=false
skip_baselines=false
only=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) quick=true ;;
        --skip-s3) skip_s3=true ;;
        --skip-baselines) skip_baselines=true ;;
        --only) only="$2"; shift ;;
        -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

say() { printf 'bench.sh: %s\n' "$*" >&2; }

wanted() {
    [[ -z "$only" || ",$only," == *",$1,"* ]]
}

# Run a command and keep its stdout as results/NAME.json only when it succeeds.
save() {
    local name="$1"
    shift
    local tmp="$results/.$name.json.tmp"
    say "$name: $*"
    if "$@" >"$tmp"; then
        mv "$tmp" "$results/$name.json"
    else
        local status=$?
        rm -f "$tmp"
        say "$name failed (exit $status); keeping the previous $results/$name.json"
        return "$status"
    fi
}

mkdir -p "$results"

say "building (release): bench, worker-light, worker-heavy"
cargo build --release --quiet -p bench -p worker-light -p worker-heavy

if wanted machine; then
    python3 - >"$results/machine.json" <<'PY'
import json, os, platform, subprocess, time

def first(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    return "?"

def os_name():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()

mem_kib = int(first("/proc/meminfo", "MemTotal").split()[0])
print(json.dumps({
    "cpu_model": first("/proc/cpuinfo", "model name"),
    "cores": os.cpu_count(),
    "ram_gib": round(mem_kib / 1024 / 1024, 1),
    "os": os_name(),
    "kernel": platform.release().split("-")[0],
    "rustc": subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip(),
    "python": platform.python_version(),
    "date": time.strftime("%Y-%m-%d", time.gmtime()),
    "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
}, indent=2))
PY
fi

if wanted ops; then
    save ops "$bin/ops"
fi

if wanted cost; then
    save cost "$bin/cost"
fi

if wanted throughput; then
    stores="local,local-tmpfs,memory-50ms"
    if ! $skip_s3; then
        scripts/install-test-tools.sh >&2
        stores="$stores,s3"
    fi
    if $quick; then
        save throughput "$bin/throughput" --stores "$stores" --tasks-local 1000 \
            --tasks-memory-50ms 20 --tasks-s3 50
    else
        save throughput "$bin/throughput" --stores "$stores"
    fi
fi

if wanted scaleout; then
    # results/scaleout-before.json, when present, is an earlier run kept for the chart's
    # "before" curve; this run replaces only scaleout.json.
    if $quick; then
        save scaleout "$bin/scaleout" --tasks 200 --tasks-one-slot 40
    else
        save scaleout "$bin/scaleout"
    fi
fi

if wanted process; then
    if $quick; then
        save process "$bin/process" --pickup-samples 10 --busy-seconds 3
    else
        save process "$bin/process"
    fi
fi

if wanted baselines && ! $skip_baselines; then
    if $quick; then
        save baselines bench/baselines/run.sh --tasks 500 --pickup-samples 10
    else
        save baselines bench/baselines/run.sh --pickup-samples 50
    fi
fi

"$bin/report" --results "$results" --docs docs
say "done: results in $results/, tables in docs/benchmarks.md and docs/cost.md"
