#!/usr/bin/env python3
"""Sync check (kind: sync-check, every 5 minutes).

Every run (no store operation): the synced directory SYNC_DIR (e.g. the Drive folder the
MacBook syncs) must have a file changed within SYNC_MAX_AGE (default 24h).
Once an hour (the run in the hour's first 5 minutes; payload {"full": true|false} decides
instead), the bucket's
health through queuectl — 4 listings, so not every 5 minutes on a paid-per-operation bucket:
  - workers/: an always-on (light) worker that says it runs but whose presence is overdue;
  - running/: leases expired for more than SYNC_LEASE_GRACE (default 2m) — stuck tasks;
  - invalid/: quarantined objects;
  - failed/: tasks that failed in the last day.
Writes: nothing to results/ (288 runs a day would be 288 writes); the result says in_sync and
lists the findings, and each finding is an alert the worker sends to the operator's chat (at
most one per cause per hour).
"""
import os

import bucketq as bq


def local_findings(now):
    found = []
    folder = os.environ.get("SYNC_DIR")
    if not folder:
        return found
    max_age = bq.duration(os.environ.get("SYNC_MAX_AGE"), "24h")
    newest = None
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                mtime = os.path.getmtime(os.path.join(root, name))
            except OSError:
                continue
            newest = mtime if newest is None else max(newest, mtime)
    if newest is None:
        found.append(("sync-dir", f"동기화 폴더 {folder}가 비었거나 없습니다."))
    else:
        age = now - bq.datetime.datetime.fromtimestamp(newest, bq.UTC)
        if age > max_age:
            found.append(("sync-dir", f"동기화 폴더 {folder}가 {int(age.total_seconds() // 3600)}시간째 바뀌지 않았습니다."))
    return found


def bucket_findings(now):
    found = []
    for w in bq.queuectl("workers") or []:
        if w.get("class") == "light" and w.get("running") and w.get("status") == "offline":
            found.append((f"stale:{w['worker_id']}", f"워커 {w['worker_id']}의 presence가 {w.get('last_seen')} 이후 갱신되지 않았습니다."))
    grace = bq.duration(os.environ.get("SYNC_LEASE_GRACE"), "2m")
    for r in bq.queuectl("ls", "--state", "running") or []:
        expires = r.get("expires_at")
        if expires and bq.parse_time(expires) < now - grace:
            found.append((f"stuck:{r['id']}", f"작업 {r['id']} ({r.get('kind')})의 리스가 {expires}에 만료됐는데 아직 running입니다."))
    invalid = bq.queuectl("invalid") or []
    if invalid:
        found.append(("quarantined", f"격리된 객체 {len(invalid)}개 (queuectl invalid): {invalid[0].get('reason') or invalid[0].get('object')}"))
    failed = [r for r in bq.queuectl("ls", "--state", "failed") or [] if bq.parse_time(r["last_modified"]) >= now - bq.datetime.timedelta(days=1)]
    if failed:
        kinds = sorted({r.get("kind") or "?" for r in failed})
        found.append(("failed-today", f"최근 24시간 실패 {len(failed)}건 ({', '.join(kinds)}). 다시 실행: /retry {failed[0]['id']}"))
    return found


def main():
    payload = bq.read_payload()
    now = bq.now()
    full = bool(payload["full"]) if "full" in payload else now.minute < 5
    found = local_findings(now) + (bucket_findings(now) if full else [])
    bq.emit({
        "in_sync": not found,
        "checked": ["sync-dir"] + (["workers", "leases", "invalid", "failed"] if full else []),
        "findings": [text for _, text in found],
        "alerts": [{"cause": cause, "text": text} for cause, text in found],
    })


if __name__ == "__main__":
    main()
