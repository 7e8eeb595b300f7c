#!/usr/bin/env python3
"""Stand-in for the daily content ideation job (kind: content-ideation).

Reads the task payload (JSON) on stdin, prints the result (JSON) on stdout. The real job calls
a model; this one makes up deterministic ideas so the pipeline can be tried end to end.
"""
import json
import os
import sys

payload = json.load(sys.stdin) if not sys.stdin.isatty() else {}
count = int(payload.get("count", 3))
channel = payload.get("channel", "daily")
task_id = os.environ.get("QUEUE_TASK_ID", "local")

ideas = [f"{channel} idea {i + 1} (task {task_id[:8]})" for i in range(count)]
json.dump({"ideas": ideas, "attempt": os.environ.get("QUEUE_TASK_ATTEMPT")}, sys.stdout, ensure_ascii=False)
print()
