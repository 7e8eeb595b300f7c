#!/usr/bin/env python3
"""Stand-in for the weekly system evolution review (kind: system-evolution).

Reads the payload on stdin and reports what a real run would review. Prints JSON.
"""
import json
import os
import sys

payload = json.load(sys.stdin) if not sys.stdin.isatty() else {}
report = {
    "scope": payload.get("scope", "weekly"),
    "reviewed": ["failed tasks", "slow handlers", "schedule misses"],
    "suggestions": [],
    "task": os.environ.get("QUEUE_TASK_ID"),
}
json.dump(report, sys.stdout, ensure_ascii=False)
print()
