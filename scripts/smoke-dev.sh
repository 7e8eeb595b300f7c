#!/usr/bin/env bash
# The README's first command, as written: `cargo run --release -p queuectl -- dev`. Starts it,
# sends a task over HTTP the way the README shows, waits until a worker finished it, then stops
# it with SIGTERM and checks it exits cleanly. Used by CI; safe to run by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

port=8080
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "error: port $port is taken; stop what listens there (queuectl dev uses it)" >&2
    exit 1
fi

work=$(mktemp -d)
log="$work/dev.log"
cleanup() {
    if [ -n "${dev_pid:-}" ] && kill -0 "$dev_pid" 2>/dev/null; then kill -KILL "$dev_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "==> cargo build --release -p queuectl"
cargo build --release -p queuectl

echo "==> cargo run --release -p queuectl -- dev (store: a fresh ./queue-data copy in $work)"
# Run from a scratch copy of the example files so the repository's ./queue-data is untouched.
mkdir -p "$work/repo"
cp -r examples "$work/repo/"
(cd "$work/repo" && exec "$OLDPWD/target/release/queuectl" dev) >"$log" 2>&1 &
dev_pid=$!

ready=0
for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; then ready=1; break; fi
    sleep 0.2
done
if [ "$ready" != 1 ]; then
    echo "error: queuectl dev did not answer /healthz" >&2
    cat "$log" >&2
    exit 1
fi

answer=$(curl -s -X POST "http://127.0.0.1:$port/v1/tasks" \
    -H "Authorization: Bearer dev-token" -H 'content-type: application/json' \
    -d '{"class":"light","kind":"echo","payload":{"hello":"world"}}')
echo "enqueued: $answer"
id=$(printf '%s' "$answer" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[ -n "$id" ] || { echo "error: no task id in the answer" >&2; exit 1; }

state=""
for _ in $(seq 1 100); do
    state=$(target/release/queuectl --store "$work/repo/queue-data" --json show "$id" \
        | sed -n 's/.*"state": *"\([a-z]*\)".*/\1/p' | head -n 1)
    [ "$state" = "terminal" ] || [ "$state" = "done" ] && break
    sleep 0.2
done
target/release/queuectl --store "$work/repo/queue-data" ls
target/release/queuectl --store "$work/repo/queue-data" stats --json | tee "$work/stats.json"
grep -q '"done": 1' "$work/stats.json" || { echo "error: the task did not finish" >&2; cat "$log" >&2; exit 1; }

kill -TERM "$dev_pid"
wait "$dev_pid"
status=$?
dev_pid=""
echo "queuectl dev exited with $status"
[ "$status" = 0 ]
