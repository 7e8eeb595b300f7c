#!/usr/bin/env python3
"""Daily content ideation (kind: content-ideation, 09:00 KST).

Reads: the tasks that finished in the last `window` (default 24h) — their kinds and message
texts, through queuectl (one listing per state and one read per task, at most `max_tasks`).
Writes: results/content_ideas/{YYYY-MM-DD}.md (KST date), three ideas in Korean, each tied to
the seed's brand pillars (Slow, 실용적 미학, 과정 중시) and to one recent activity.
Payload: {"count": 3, "window": "24h", "max_tasks": 30}.
"""
import collections

import bucketq as bq

PILLARS = [
    ("Slow (자신의 파동)", "서두르지 않고 자신의 속도로 {topic}을(를) 다시 바라보는 장면"),
    ("실용적 미학", "{topic}에서 쓰임과 아름다움이 만나는 디테일 한 컷"),
    ("과정 중시", "{topic}이(가) 완성되기까지의 과정을 담은 비하인드 캐러셀"),
]
FORMATS = ["릴스 30초", "캐러셀 5장", "단일 사진 + 긴 캡션"]


def topics(rows, max_tasks):
    """Recent activity: message texts first, then task kinds, most recent first."""
    recent = sorted(rows, key=lambda r: r["last_modified"], reverse=True)[:max_tasks]
    texts, kinds = [], collections.Counter()
    for row in recent:
        kinds[row.get("kind") or "?"] += 1
        payload = bq.show(row["id"]).get("payload")
        text = payload.get("text") if isinstance(payload, dict) else None
        if isinstance(text, str) and text.strip() and not text.startswith("/"):
            texts.append(" ".join(text.split())[:60])
    return texts, kinds


def main():
    payload = bq.read_payload()
    count = max(1, min(int(payload.get("count", 3)), 10))
    now = bq.now()
    window = bq.duration(payload.get("window"), "24h")
    rows = bq.finished_since(now - window)
    texts, kinds = topics(rows, int(payload.get("max_tasks", 30)))
    pool = texts + [f"'{kind}' 작업" for kind, _ in kinds.most_common()] or ["오늘의 작업 공간"]
    today = now.astimezone(bq.KST).date().isoformat()
    lines = [f"# 컨텐츠 아이디어 — {today}", ""]
    lines.append(f"최근 {payload.get('window', '24h')} 동안 끝난 작업 {len(rows)}건을 바탕으로 했습니다.")
    if kinds:
        lines.append("작업 종류: " + ", ".join(f"{bq.md_escape(k)} {n}건" for k, n in kinds.most_common()))
    lines.append("")
    for i in range(count):
        pillar, template = PILLARS[i % len(PILLARS)]
        topic = pool[i % len(pool)]
        lines += [
            f"## {i + 1}. {pillar}",
            f"- 아이디어: {bq.md_escape(template.format(topic=topic))}",
            f"- 형식: {FORMATS[i % len(FORMATS)]}",
            f"- 출발점: {bq.md_escape(topic)}",
            "",
        ]
    name = f"content_ideas/{today}.md"
    bq.emit({
        "summary": f"오늘의 컨텐츠 아이디어 {count}개 (최근 작업 {len(rows)}건 기반)",
        "results": [{"name": name, "markdown": "\n".join(lines)}],
        "ideas": count,
        "recent_tasks": len(rows),
    })


if __name__ == "__main__":
    main()
