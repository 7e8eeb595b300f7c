#!/bin/sh
# Daily snapshot (kind: snapshot, 00:00 KST).
#
# Reads:  the directory SNAPSHOT_SOURCE (required).
# Writes: SNAPSHOT_DIR/snapshot-YYYYMMDD-HHMMSS.tar.gz (UTC stamp; default directory
#         ./snapshots next to the handlers file), then deletes all but the newest `keep_days`
#         snapshots (payload {"keep_days": 14}; one snapshot a day keeps 14 days).
# Prints: {"snapshot": path, "bytes": N, "kept": N, "pruned": N}.
# Exit 65 when SNAPSHOT_SOURCE is missing (fail now: retrying does not help).
set -eu
payload=$(cat)
keep=$(printf '%s' "$payload" | sed -n 's/.*"keep_days"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p')
keep=${keep:-14}
[ "$keep" -ge 1 ] || keep=1
src=${SNAPSHOT_SOURCE:-}
if [ -z "$src" ] || [ ! -d "$src" ]; then
    echo "SNAPSHOT_SOURCE must name a directory (got '${src}')" >&2
    exit 65
fi
dest=${SNAPSHOT_DIR:-snapshots}
mkdir -p "$dest"
name="snapshot-$(date -u +%Y%m%d-%H%M%S).tar.gz"
tmp="$dest/.$name.part"
tar -czf "$tmp" -C "$(dirname "$src")" "$(basename "$src")"
mv "$tmp" "$dest/$name"
bytes=$(wc -c <"$dest/$name" | tr -d ' ')
pruned=0
# Newest first by the date in the name; everything after the first $keep goes.
for old in $(cd "$dest" && ls snapshot-*.tar.gz 2>/dev/null | sort -r | tail -n +"$((keep + 1))"); do
    rm -f "$dest/$old"
    pruned=$((pruned + 1))
done
kept=$(cd "$dest" && ls snapshot-*.tar.gz | wc -l | tr -d ' ')
printf '{"snapshot": "%s", "bytes": %s, "kept": %s, "pruned": %s}\n' "$dest/$name" "$bytes" "$kept" "$pruned"
