#!/usr/bin/env python3
"""Daily log analysis (kind: log-analysis, 00:00 KST).

Reads: JSON log lines from the files in LOG_FILES (colon-separated) — the workers' own format
({"severity", "message", "time", ...} with --log-format json) or a journald export
(`journalctl -o json`: MESSAGE, PRIORITY, __REALTIME_TIMESTAMP) — and, when LOG_JOURNAL_UNITS
is set (comma-separated systemd units), `journalctl -u UNIT -o json --since` directly. Lines
that are not JSON count as info unless they mention "error" or "warn".
Writes: results/health/{YYYY-MM-DD}.md (KST date): counts by severity, the most frequent error
and warning patterns (ids, numbers and times replaced by placeholders), and a verdict.
Payload: {"window": "24h"}.
"""
import collections
import json
import os
import re
import subprocess

import bucketq as bq

JOURNAL_LEVELS = {"0": "ERROR", "1": "ERROR", "2": "ERROR", "3": "ERROR", "4": "WARNING"}
MASKS = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "{id}"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ][\d:.]+Z?"), "{time}"),
    (re.compile(r"\d+(\.\d+)?"), "{n}"),
]


def pattern(message):
    for regex, mask in MASKS:
        message = regex.sub(mask, message)
    return " ".join(message.split())[:160]


def parse(line):
    """(severity, message, time or None) of one log line."""
    try:
        doc = json.loads(line)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        low = line.lower()
        sev = "ERROR" if "error" in low else "WARNING" if "warn" in low else "INFO"
        return sev, line.strip(), None
    if "MESSAGE" in doc:  # journald
        sev = JOURNAL_LEVELS.get(str(doc.get("PRIORITY", "6")), "INFO")
        ts = doc.get("__REALTIME_TIMESTAMP")
        when = bq.datetime.datetime.fromtimestamp(int(ts) / 1e6, bq.UTC) if ts else None
        return sev, str(doc["MESSAGE"]), when
    sev = str(doc.get("severity") or doc.get("level") or "INFO").upper()
    sev = {"WARN": "WARNING"}.get(sev, sev)
    msg = str(doc.get("message") or doc.get("fields", {}).get("message", ""))
    if doc.get("error"):
        msg = f"{msg}: {doc['error']}"
    when = doc.get("time") or doc.get("timestamp")
    return sev, msg, bq.parse_time(when) if isinstance(when, str) else None


def lines(window):
    for name in filter(None, os.environ.get("LOG_FILES", "").split(":")):
        try:
            with open(name, encoding="utf-8", errors="replace") as fh:
                yield from fh
        except OSError as exc:
            yield json.dumps({"severity": "WARNING", "message": f"log analysis cannot read a log file: {exc}"})
    for unit in filter(None, os.environ.get("LOG_JOURNAL_UNITS", "").split(",")):
        since = f"-{int(window.total_seconds())}s"
        try:
            out = subprocess.run(["journalctl", "-u", unit.strip(), "-o", "json", "--since", since, "--no-pager"],
                                 capture_output=True, text=True, timeout=120, check=False)
            yield from out.stdout.splitlines()
        except OSError as exc:
            yield json.dumps({"severity": "WARNING", "message": f"log analysis cannot run journalctl: {exc}"})


def main():
    payload = bq.read_payload()
    now = bq.now()
    window = bq.duration(payload.get("window"), "24h")
    since = now - window
    counts, errors, warnings = collections.Counter(), collections.Counter(), collections.Counter()
    for line in lines(window):
        if not line.strip():
            continue
        sev, msg, when = parse(line)
        if when is not None and when < since:
            continue
        counts[sev] += 1
        if sev in ("ERROR", "CRITICAL"):
            errors[pattern(msg)] += 1
        elif sev == "WARNING":
            warnings[pattern(msg)] += 1
    total_err = sum(errors.values())
    verdict = "건강함" if total_err == 0 and sum(warnings.values()) < 10 else "주의" if total_err < 10 else "점검 필요"
    today = now.astimezone(bq.KST).date().isoformat()
    md = [f"# 로그 분석 — {today}", "", f"상태: **{verdict}** (최근 {payload.get('window', '24h')}, 로그 {sum(counts.values())}줄)", ""]
    md += ["| 수준 | 줄 |", "| --- | --- |"] + [f"| {s} | {n} |" for s, n in counts.most_common()]
    for title, found in (("에러 패턴", errors), ("경고 패턴", warnings)):
        md += ["", f"## {title}", ""]
        md += [f"- {n}회: {bq.md_escape(p)}" for p, n in found.most_common(10)] or ["- 없음"]
    bq.emit({
        "summary": f"로그 분석: {verdict} (에러 {total_err}건, 패턴 {len(errors)}개)",
        "results": [{"name": f"health/{today}.md", "markdown": "\n".join(md) + "\n"}],
        "lines": sum(counts.values()),
        "errors": total_err,
        "error_patterns": [{"pattern": p, "count": n} for p, n in errors.most_common(10)],
    })


if __name__ == "__main__":
    main()
