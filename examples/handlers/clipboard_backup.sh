#!/bin/sh
# Clipboard backup (kind: clipboard-backup, every 30 minutes) — the seed's clipboard archive.
#
# Reads:  the clipboard, from CLIPBOARD_COMMAND (e.g. "pbpaste" on the MacBook,
#         "xclip -o -selection clipboard" on a desktop) or else the file CLIPBOARD_FILE (a
#         clipboard the MacBook syncs to a shared folder).
# Writes: CLIPBOARD_ARCHIVE_DIR/YYYY-MM-DD.md (UTC date; default ./clipboard next to the
#         handlers file): one "## HH:MM:SS" section per change. The checksum of the last
#         backed-up clipboard is kept in CLIPBOARD_ARCHIVE_DIR/.last, so an unchanged clipboard
#         writes nothing.
# Prints: {"backed_up": 0|1, "archive": path, "bytes": N}; with neither variable set it skips
#         ({"backed_up": 0, "skipped": why}) rather than fail every 30 minutes.
set -eu
cat >/dev/null
dir=${CLIPBOARD_ARCHIVE_DIR:-clipboard}
mkdir -p "$dir"
tmp="$dir/.current"
if [ -n "${CLIPBOARD_COMMAND:-}" ]; then
    # An operator's command line, split by the shell on purpose.
    # shellcheck disable=SC2086
    $CLIPBOARD_COMMAND >"$tmp"
elif [ -n "${CLIPBOARD_FILE:-}" ]; then
    if [ ! -f "$CLIPBOARD_FILE" ]; then
        echo "CLIPBOARD_FILE=$CLIPBOARD_FILE does not exist" >&2
        exit 65
    fi
    cp "$CLIPBOARD_FILE" "$tmp"
else
    # Nothing to back up on this machine (e.g. the VM without a synced clipboard file).
    rm -f "$tmp"
    printf '{"backed_up": 0, "skipped": "no clipboard here: set CLIPBOARD_COMMAND or CLIPBOARD_FILE"}\n'
    exit 0
fi
sum=$(cksum <"$tmp" | cut -d ' ' -f 1,2)
bytes=$(wc -c <"$tmp" | tr -d ' ')
archive="$dir/$(date -u +%Y-%m-%d).md"
if [ "$bytes" -eq 0 ] || [ "$sum" = "$(cat "$dir/.last" 2>/dev/null || true)" ]; then
    rm -f "$tmp"
    printf '{"backed_up": 0, "archive": "%s", "bytes": %s}\n' "$archive" "$bytes"
    exit 0
fi
{
    printf '\n## %s\n\n```\n' "$(date -u +%H:%M:%S)"
    cat "$tmp"
    printf '\n```\n'
} >>"$archive"
printf '%s\n' "$sum" >"$dir/.last"
rm -f "$tmp"
printf '{"backed_up": 1, "archive": "%s", "bytes": %s}\n' "$archive" "$bytes"
