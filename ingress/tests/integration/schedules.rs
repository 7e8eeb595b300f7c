//! Messages that define a recurring time become schedules; /schedules lists them.

use axum::http::StatusCode;
use queue_core::Class;
use queue_core::schedule::ScheduleStore;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_daily_phrase_becomes_a_schedule_with_its_next_run_in_kst() {
    let h = Harness::new().await;
    let update = text_update(50, "매일 오전 9시 콘텐츠 아이디어 뽑아줘");
    assert_eq!(h.post_update(&update).await, StatusCode::OK);
    let store = ScheduleStore::new(h.queue.bucket().clone());
    let s = store.get("tg-50").await.unwrap().expect("schedule created");
    assert_eq!(s.spec.to_string(), "cron 0 9 * * *");
    assert_eq!(s.tz.name(), "Asia/Seoul");
    assert_eq!(s.class, Class::Light, "a routine job of the VM");
    assert_eq!(s.kind, "content-ideation", "the routine job it names");
    assert_eq!(s.payload["text"], json!("콘텐츠 아이디어 뽑아줘"));
    assert_eq!(s.payload["chat_id"], json!(CHAT));
    assert_eq!(s.extra["chat_id"], json!(CHAT));
    assert!(h.pending().await.is_empty(), "a schedule, not a task");
    let sent = replies(&h, CHAT, 1).await;
    // the clock is 2026-11-24 14:00 KST (a Tuesday): the next 09:00 is Wednesday the 25th
    assert!(
        sent[0].starts_with(
            "반복 작업을 등록했습니다: 매일 오전 9시 (0 9 * * *) — 콘텐츠 아이디어 뽑아줘 [light]\n이름: tg-50\n다음"
        ),
        "{}",
        sent[0]
    );
    assert!(sent[0].contains("이름: tg-50"), "{}", sent[0]);
    assert!(
        sent[0].ends_with("다음 실행: 11월 25일 (수) 오전 9시 (KST)"),
        "{}",
        sent[0]
    );

    // redelivered: no second schedule, no second reply
    assert_eq!(h.post_update(&update).await, StatusCode::OK);
    assert_eq!(store.list().await.unwrap().schedules.len(), 1);
    assert_eq!(h.fake.calls_to("sendMessage").len(), 1);
}

#[tokio::test]
async fn an_interval_phrase_with_a_heavy_task() {
    let h = Harness::new().await;
    assert_eq!(
        h.post_update(&text_update(51, "30분마다 경쟁사 동향 분석해줘"))
            .await,
        StatusCode::OK
    );
    let s = ScheduleStore::new(h.queue.bucket().clone())
        .get("tg-51")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.spec.to_string(), "cron */30 * * * *");
    assert_eq!(s.class, Class::Heavy);
    assert_eq!(s.payload["rule"], json!("analysis"));
    assert_eq!(s.payload["schedule_rule"], json!("recurring"));
    let sent = replies(&h, CHAT, 1).await;
    assert!(
        sent[0].ends_with("다음 실행: 11월 24일 (화) 오후 2시 30분 (KST)"),
        "{}",
        sent[0]
    );
}

#[tokio::test]
async fn a_phrase_the_parser_refuses_creates_nothing_and_says_why() {
    let h = Harness::new().await;
    // 9시 without 오전/오후 could be either: never guessed
    assert_eq!(
        h.post_update(&text_update(52, "매일 9시 백업해줘")).await,
        StatusCode::OK
    );
    assert!(
        ScheduleStore::new(h.queue.bucket().clone())
            .list()
            .await
            .unwrap()
            .schedules
            .is_empty()
    );
    assert!(h.pending().await.is_empty());
    let sent = replies(&h, CHAT, 1).await;
    assert!(
        sent[0].starts_with("반복 일정을 등록하지 않았습니다. "),
        "{}",
        sent[0]
    );
    assert!(
        !sent[0].contains(" / "),
        "only the Korean half: {}",
        sent[0]
    );
}

#[tokio::test]
async fn schedules_command_lists_them() {
    let h = Harness::new().await;
    assert_eq!(
        h.post_update(&text_update(53, "매주 일요일 자정 주간 회고 정리해줘"))
            .await,
        StatusCode::OK
    );
    let mut cmd = fixture("command");
    cmd["update_id"] = 54.into();
    cmd["message"]["text"] = "/schedules".into();
    assert_eq!(h.post_update(&cmd).await, StatusCode::OK);
    let sent = replies(&h, CHAT, 2).await;
    assert!(
        sent[1].starts_with(
            "반복 작업\n• tg-53 — cron 0 0 * * 0 (Asia/Seoul) light/telegram-light · 다음 "
        ),
        "{}",
        sent[1]
    );
    assert!(
        sent[1].contains("매주 일요일 자정 — 주간 회고 정리해줘"),
        "{}",
        sent[1]
    );
}

#[tokio::test]
async fn a_phrase_without_a_time_takes_the_jobs_seed_time_and_says_so() {
    let h = Harness::new().await;
    let update = text_update(60, "매주 일요일 시스템 진화");
    assert_eq!(h.post_update(&update).await, StatusCode::OK);
    let s = ScheduleStore::new(h.queue.bucket().clone())
        .get("tg-60")
        .await
        .unwrap()
        .expect("schedule created, not refused");
    assert_eq!(s.spec.to_string(), "cron 0 0 * * 0");
    assert_eq!(
        (s.class, s.kind.as_str()),
        (Class::Light, "system-evolution")
    );
    let sent = replies(&h, CHAT, 1).await;
    assert!(
        sent[0]
            .contains("시각이 없어 \"시스템 진화\"의 기본 시각으로 정했습니다: 매주 일요일 자정"),
        "{}",
        sent[0]
    );
    // 2026-11-24 is a Tuesday: the next Sunday midnight KST is the 29th
    assert!(
        sent[0].ends_with("다음 실행: 11월 29일 (일) 자정 (KST)"),
        "{}",
        sent[0]
    );

    // a generic task takes the rules' stated default (09:00), and says so
    assert_eq!(
        h.post_update(&text_update(61, "평일 주간 뉴스 요약")).await,
        StatusCode::OK
    );
    let s = ScheduleStore::new(h.queue.bucket().clone())
        .get("tg-61")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.spec.to_string(), "cron 0 9 * * 1-5");
    assert_eq!((s.class, s.kind.as_str()), (Class::Heavy, "telegram-heavy"));
    assert!(
        replies(&h, CHAT, 2).await[1].contains("기본 시각으로 정했습니다: 평일 오전 9시"),
        "{:?}",
        h.fake.messages_to(CHAT)
    );
}

/// `v` sent in `chat` (a group the person writes in: the sender stays the person).
fn in_chat(mut v: serde_json::Value, chat: i64) -> serde_json::Value {
    v["message"]["chat"] = serde_json::json!({"id": chat, "type": "supergroup", "title": "ops"});
    v
}

fn command_in(update_id: i64, chat: i64, text: &str) -> serde_json::Value {
    in_chat(command(update_id, text), chat)
}

#[tokio::test]
async fn schedules_and_unschedule_see_only_this_chats_schedules() {
    let h = Harness::new().await;
    let store = ScheduleStore::new(h.queue.bucket().clone());
    assert_eq!(
        h.post_update(&text_update(62, "매일 자정 스냅샷")).await,
        StatusCode::OK
    );
    assert_eq!(
        h.post_update(&in_chat(text_update(63, "30분마다 클립보드 백업"), CHANNEL))
            .await,
        StatusCode::OK
    );
    assert_eq!(
        h.post_update(&command_in(64, CHAT, "/schedules")).await,
        StatusCode::OK
    );
    let sent = replies(&h, CHAT, 2).await;
    assert!(
        sent[1]
            .starts_with("반복 작업\n• tg-62 — cron 0 0 * * * (Asia/Seoul) light/snapshot · 다음 "),
        "{}",
        sent[1]
    );
    assert!(!sent[1].contains("tg-63"), "another chat's: {}", sent[1]);
    assert!(
        sent[1].ends_with("그 밖의 반복 작업 1개 (다른 대화 또는 설치 파일)"),
        "{}",
        sent[1]
    );

    // another chat cannot remove it; a name that does not exist is said so; no name: usage
    for (id, chat, text) in [
        (65, CHANNEL, "/unschedule tg-62"),
        (66, CHAT, "/unschedule nope"),
        (67, CHAT, "/unschedule"),
    ] {
        assert_eq!(
            h.post_update(&command_in(id, chat, text)).await,
            StatusCode::OK
        );
    }
    assert!(store.get("tg-62").await.unwrap().is_some());
    let to_channel = h.fake.messages_to(CHANNEL);
    assert!(
        to_channel
            .last()
            .unwrap()
            .starts_with("이 대화에서 만든 반복 작업이 아닙니다: tg-62"),
        "{to_channel:?}"
    );
    let sent = replies(&h, CHAT, 4).await;
    assert!(
        sent[2].starts_with("이 대화에서 만든 반복 작업이 아닙니다: nope"),
        "{}",
        sent[2]
    );
    assert!(sent[3].starts_with("이름이 필요합니다"), "{}", sent[3]);

    assert_eq!(
        h.post_update(&command_in(68, CHAT, "/unschedule tg-62"))
            .await,
        StatusCode::OK
    );
    assert_eq!(
        replies(&h, CHAT, 5).await[4],
        "반복 작업을 삭제했습니다: tg-62"
    );
    assert!(store.get("tg-62").await.unwrap().is_none());
    assert!(store.get("tg-63").await.unwrap().is_some());
}
