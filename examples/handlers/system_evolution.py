#!/usr/bin/env python3
"""Weekly system evolution review (kind: system-evolution, Sunday 00:00 KST).

Reads: the tasks that finished in the last `window` (default 7d) through queuectl — kinds and
states from the listings, run times from the envelopes of at most `max_tasks` done tasks.
Writes: results/evolution/{YYYY-MM-DD}.md (KST date): tasks by kind, failures with their
errors, the slowest jobs, and suggestions that follow from them.
Payload: {"window": "7d", "max_tasks": 200}.
"""
import collections

import bucketq as bq


def run_seconds(envelope):
    """The last attempt's run time, if it ended."""
    attempts = envelope.get("attempts") or []
    if not attempts or not attempts[-1].get("ended_at"):
        return None
    last = attempts[-1]
    return (bq.parse_time(last["ended_at"]) - bq.parse_time(last["started_at"])).total_seconds()


def main():
    payload = bq.read_payload()
    now = bq.now()
    window = bq.duration(payload.get("window"), "7d")
    rows = bq.finished_since(now - window)
    by_kind = collections.defaultdict(lambda: {"done": 0, "failed": 0})
    for row in rows:
        by_kind[row.get("kind") or "?"][row["state"]] += 1
    failed = [r for r in rows if r["state"] == "failed"]
    done = sorted((r for r in rows if r["state"] == "done"), key=lambda r: r["last_modified"], reverse=True)
    timed = []
    for row in done[: int(payload.get("max_tasks", 200))]:
        secs = run_seconds(bq.show(row["id"]))
        if secs is not None:
            timed.append((secs, row))
    timed.sort(key=lambda t: t[0], reverse=True)

    today = now.astimezone(bq.KST).date().isoformat()
    lines = [f"# 시스템 진화 리뷰 — {today}", "", f"지난 {payload.get('window', '7d')}: 작업 {len(rows)}건, 실패 {len(failed)}건.", ""]
    lines += ["## 종류별 작업", "", "| 종류 | 완료 | 실패 |", "| --- | --- | --- |"]
    for kind, c in sorted(by_kind.items(), key=lambda kv: -(kv[1]["done"] + kv[1]["failed"])):
        lines.append(f"| {bq.md_escape(kind)} | {c['done']} | {c['failed']} |")
    lines += ["", "## 실패", ""]
    lines += [f"- `{r['id']}` {bq.md_escape(r.get('kind'))}: {bq.md_escape(r.get('failure') or '?')}" for r in failed] or ["- 없음"]
    lines += ["", "## 가장 느린 작업", ""]
    lines += [f"- {bq.md_escape(r.get('kind'))}: {secs:.1f}초 (`{r['id']}`)" for secs, r in timed[:5]] or ["- 기록 없음"]
    suggestions = []
    for kind, c in by_kind.items():
        if c["failed"] and c["failed"] >= c["done"]:
            suggestions.append(f"{bq.md_escape(kind)}: 실패가 완료보다 많습니다. 핸들러와 입력을 점검하세요.")
    if timed and timed[0][0] > 600:
        suggestions.append(f"{bq.md_escape(timed[0][1].get('kind'))}: 10분이 넘게 걸렸습니다. MacBook(heavy)으로 옮길지 검토하세요.")
    lines += ["", "## 제안", ""] + ([f"- {s}" for s in suggestions] or ["- 특별한 조치 필요 없음"])
    bq.emit({
        "summary": f"주간 시스템 진화 리뷰: 작업 {len(rows)}건, 실패 {len(failed)}건",
        "results": [{"name": f"evolution/{today}.md", "markdown": "\n".join(lines) + "\n"}],
        "tasks": len(rows),
        "failed": len(failed),
        "kinds": {k: dict(v) for k, v in by_kind.items()},
    })


if __name__ == "__main__":
    main()
