"""Shared helpers for the example routine jobs (Python 3 standard library only).

Reading the bucket: through `queuectl --json` (the worker passes QUEUE_STORE, and queuectl uses
the same credentials as the worker: the VM's service account, the MacBook's login). Writing:
a handler never writes the bucket itself; it prints {"summary", "results": [{"name",
"markdown"}], "alerts": [{"cause", "text"}]} and the worker stores the reports under results/
and sends the alerts (docs/seed-jobs.md).

Exit codes follow the exec protocol: 75 = try again later (the store did not answer),
65 = bad input (fail now).
"""
import datetime
import json
import os
import subprocess
import sys

KST = datetime.timezone(datetime.timedelta(hours=9), "KST")
UTC = datetime.timezone.utc
EX_DATAERR = 65
EX_TEMPFAIL = 75


def read_payload():
    """The task payload (a JSON object) from stdin; {} when empty."""
    data = sys.stdin.read()
    if not data.strip():
        return {}
    try:
        payload = json.loads(data)
    except ValueError as exc:
        fail(f"the payload is not JSON: {exc}")
    return payload if isinstance(payload, dict) else {}


def fail(message, code=EX_DATAERR):
    """Print `message` for the task's error and exit with `code`."""
    print(message, file=sys.stderr)
    sys.exit(code)


def now():
    """The current time (UTC); BUCKETQ_NOW (ISO 8601) overrides it for tests."""
    fixed = os.environ.get("BUCKETQ_NOW")
    return parse_time(fixed) if fixed else datetime.datetime.now(UTC)


def parse_time(text):
    """An RFC 3339 time as queuectl prints it (nanoseconds allowed)."""
    text = text.strip().replace("Z", "+00:00")
    if "." in text:
        head, rest = text.split(".", 1)
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
    return datetime.datetime.fromisoformat(text)


def duration(text, default):
    """'30m', '24h', '7d' as a timedelta."""
    text = str(text or default).strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return datetime.timedelta(seconds=int(text[:-1]) * units[text[-1]])
    except (KeyError, ValueError):
        fail(f"bad duration {text!r}: write e.g. 30m, 24h, 7d")


def queuectl(*args):
    """Run `queuectl --json ARGS` and return its parsed output."""
    program = os.environ.get("QUEUECTL", "queuectl")
    try:
        out = subprocess.run(
            [program, "--json", *args], capture_output=True, text=True, timeout=300, check=False
        )
    except OSError as exc:
        fail(f"cannot run {program} (set QUEUECTL to its path): {exc}", EX_TEMPFAIL)
    if out.returncode != 0:
        fail(f"queuectl {' '.join(args)} failed (exit {out.returncode}): {out.stdout.strip()} {out.stderr.strip()}"[:2000], EX_TEMPFAIL)
    return json.loads(out.stdout or "null")


def finished_since(since, states=("done", "failed")):
    """ls rows of tasks that finished (their object was written) at or after `since`."""
    rows = []
    for state in states:
        for row in queuectl("ls", "--state", state) or []:
            if parse_time(row["last_modified"]) >= since:
                rows.append(row)
    return rows


def show(task_id):
    """A task's envelope (one read)."""
    return (queuectl("show", task_id) or {}).get("envelope") or {}


def emit(result):
    """Print the result for the worker."""
    json.dump(result, sys.stdout, ensure_ascii=False)
    print()


def md_escape(text, limit=200):
    """One line of task data made safe for a Markdown list item."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[:limit] + "…"
    for ch in "\\`*_[]<>#|":
        text = text.replace(ch, "\\" + ch)
    return text
