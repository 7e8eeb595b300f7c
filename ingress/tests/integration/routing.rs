//! The seed's own sentences, routed through the real webhook with the default rules: its
//! classification list (section IV), the roles of section III, its three scenarios and the
//! section VIII timelines. Each gets the class — and for routine jobs the kind and time — the
//! seed gives it.

use axum::http::StatusCode;
use queue_core::Class;
use queue_core::schedule::ScheduleStore;

use crate::common::*;

#[derive(Debug, Clone, Copy)]
enum Want {
    /// A task for the MacBook.
    Heavy,
    /// A task for the VM, with this handler kind.
    Light(&'static str),
    /// A schedule of this kind, class light, with this cron expression (Asia/Seoul).
    Scheduled(&'static str, &'static str),
}

use Want::*;

/// (where the sentence is in the seed, the sentence, what it must become)
const SEED: &[(&str, &str, Want)] = &[
    // IV. 작업 분류 기준 — HEAVY
    ("IV heavy", "분석해줘", Heavy),
    ("IV heavy", "전략 수립", Heavy),
    ("IV heavy", "브랜드 아이덴티티", Heavy),
    ("IV heavy", "이미지 분석 요청", Heavy),
    ("IV heavy", "5-agent 협업 필요 작업", Heavy),
    ("IV heavy", "즉시 응답 필요 (사용자 대기 중)", Heavy),
    // III.A — the MacBook's work, as people would ask for it
    ("III.A", "WOOHWAHAE 브랜드 아이덴티티 분석", Heavy),
    ("III.A", "장기 전략 수립", Heavy),
    ("III.A", "영상 컨텐츠 기획해줘", Heavy),
    ("III.A", "긴급 요청: 내일 발표 자료 봐줘", Heavy),
    ("III.A conversation", "오늘 뭐 하면 좋을까?", Heavy),
    // IV — LIGHT
    ("IV light", "일정 등록", Light("telegram-light")),
    ("IV light", "로그 확인", Light("telegram-light")),
    ("IV light", "상태 체크", Light("telegram-light")),
    ("IV light", "단순 조회 작업", Light("telegram-light")),
    ("IV light", "파일 정리", Light("telegram-light")),
    // IV — SCHEDULED
    (
        "IV scheduled",
        "매일 오전 9시 컨텐츠 아이디어 생성",
        Scheduled("content-ideation", "0 9 * * *"),
    ),
    (
        "IV scheduled",
        "매주 일요일 시스템 진화",
        Scheduled("system-evolution", "0 0 * * 0"),
    ),
    (
        "IV scheduled",
        "30분마다 클립보드 백업",
        Scheduled("clipboard-backup", "*/30 * * * *"),
    ),
    // III.B and VII — the other routine jobs at their seed times
    (
        "III.B",
        "매일 자정 스냅샷 백업",
        Scheduled("snapshot", "0 0 * * *"),
    ),
    (
        "III.B",
        "매일 자정 로그 분석",
        Scheduled("log-analysis", "0 0 * * *"),
    ),
    (
        "III.B",
        "5분마다 동기화 상태 체크",
        Scheduled("sync-check", "*/5 * * * *"),
    ),
    // a phrase without a time takes the job's seed time
    (
        "III.B",
        "매일 컨텐츠 아이디어",
        Scheduled("content-ideation", "0 9 * * *"),
    ),
    (
        "III.B",
        "매일 로그 분석",
        Scheduled("log-analysis", "0 0 * * *"),
    ),
    // VIII scenario 1
    ("VIII 1", "이 중 첫 번째 아이디어 상세 기획해줘", Heavy),
    // VIII scenario 2
    ("VIII 2", "브랜드 전략 분석해줘", Heavy),
    ("VIII 2", "클립보드 백업", Light("clipboard-backup")),
    // VIII scenario 3, the VM's night asked for once
    (
        "VIII 3",
        "Gardener 진화 사이클 실행",
        Light("system-evolution"),
    ),
    ("VIII 3", "스냅샷 백업 생성", Light("snapshot")),
    ("VIII 3", "로그 분석 리포트 생성", Light("log-analysis")),
    (
        "VIII 1",
        "컨텐츠 아이디어 3개 생성",
        Light("content-ideation"),
    ),
];

#[tokio::test]
async fn the_seeds_sentences_go_where_the_seed_says() {
    let h = Harness::new().await;
    let store = ScheduleStore::new(h.queue.bucket().clone());
    for (i, (place, text, want)) in SEED.iter().enumerate() {
        let update_id = 3000 + i as i64;
        assert_eq!(
            h.post_update(&text_update(update_id, text)).await,
            StatusCode::OK,
            "{place}: {text}"
        );
        match *want {
            Heavy => {
                let t = h.task_for(update_id).await;
                assert_eq!(
                    (t.class, t.kind.as_str()),
                    (Class::Heavy, "telegram-heavy"),
                    "{place}: {text} (rule {})",
                    t.labels["class_rule"]
                );
            }
            Light(kind) => {
                let t = h.task_for(update_id).await;
                assert_eq!(
                    (t.class, t.kind.as_str()),
                    (Class::Light, kind),
                    "{place}: {text} (rule {})",
                    t.labels["class_rule"]
                );
            }
            Scheduled(kind, cron) => {
                let name = format!("tg-{update_id}");
                let s = store
                    .get(&name)
                    .await
                    .unwrap()
                    .unwrap_or_else(|| panic!("{place}: {text}: no schedule"));
                assert_eq!(
                    (s.class, s.kind.as_str(), s.spec.to_string()),
                    (Class::Light, kind, format!("cron {cron}")),
                    "{place}: {text}"
                );
                assert_eq!(s.tz.name(), "Asia/Seoul");
            }
        }
    }
}

#[tokio::test]
async fn images_sent_as_files_are_heavy_like_photos() {
    let h = Harness::with(|s| s).await;
    let mut update = text_update(4000, "");
    let message = update["message"].as_object_mut().unwrap();
    message.remove("text");
    message.insert("caption".into(), "이 로고 어때?".into());
    message.insert(
        "document".into(),
        serde_json::json!({
            "file_id": PHOTO_FILE_ID,
            "file_unique_id": "AQADdoc1",
            "file_name": "logo.jpg",
            "mime_type": "image/jpeg",
            "file_size": PHOTO_BYTES.len(),
        }),
    );
    assert_eq!(h.post_update(&update).await, StatusCode::OK);
    let t = h.task_for(4000).await;
    assert_eq!(
        (t.class, t.labels["class_rule"].as_str()),
        (Class::Heavy, "photo")
    );
    assert_eq!(t.attachments.len(), 1, "the image is stored like a photo");
    let stored = h
        .queue
        .bucket()
        .get(&t.attachments[0].object)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(&stored.bytes[..], PHOTO_BYTES);

    // a file that is not an image is not an image
    let mut pdf = update.clone();
    pdf["update_id"] = 4001.into();
    pdf["message"]["caption"] = "회의록 로그 확인".into();
    pdf["message"]["document"]["mime_type"] = "application/pdf".into();
    assert_eq!(h.post_update(&pdf).await, StatusCode::OK);
    let t = h.task_for(4001).await;
    assert_eq!(
        (t.class, t.labels["class_rule"].as_str()),
        (Class::Light, "logs")
    );
}
