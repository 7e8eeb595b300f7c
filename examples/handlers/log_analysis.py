#!/usr/bin/env python3
"""Stand-in for the midnight log analysis (kind: log-analysis).

Payload: {"window": "24h", "sources": [...]}. Counts lines mentioning "error" in files named
by the QUEUE_EXAMPLE_LOGS environment variable (colon-separated, relative paths welcome);
with none given it reports zero. Prints JSON.
"""
import json
import os
import sys

payload = json.load(sys.stdin) if not sys.stdin.isatty() else {}
files = [f for f in os.environ.get("QUEUE_EXAMPLE_LOGS", "").split(":") if f]
errors = 0
for name in files:
    try:
        with open(name, encoding="utf-8", errors="replace") as fh:
            errors += sum(1 for line in fh if "error" in line.lower())
    except OSError as exc:
        print(f"cannot read {name}: {exc}", file=sys.stderr)
json.dump(
    {"window": payload.get("window", "24h"), "sources": payload.get("sources", []), "files": len(files), "error_lines": errors},
    sys.stdout,
)
print()
