#!/bin/sh
# Stand-in for the midnight snapshot (kind: snapshot).
# Reads the payload on stdin and prints a JSON result naming the snapshot a real job would take.
set -eu
payload=$(cat)
[ -n "$payload" ] || payload='{}'
printf '{"snapshot": "snapshot-%s", "payload": %s}\n' "$(date -u +%Y%m%d)" "$payload"
