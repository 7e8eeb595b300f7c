#!/usr/bin/env bash
# Regenerate the console screenshots of docs/console.md (docs/img/console-*.png) by running the
# browser test with --screenshots: the overview, a failed task's page, and the dev chat.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet -p queuectl
python3 scripts/browser-test.py --screenshots docs/img
ls -l docs/img/console-*.png
