//! Bot commands in-process: /status, /tasks, /retry, /cancel, /help, unknown commands.

use axum::http::StatusCode;
use queue_core::{Class, EnqueueRequest, Outcome, TaskState};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn status_shows_depths_per_class_and_state_and_workers() {
    let h = Harness::new().await;
    for i in 0..3 {
        h.queue
            .enqueue(EnqueueRequest::new(
                Class::Heavy,
                "analysis",
                json!({"n": i}),
            ))
            .await
            .unwrap();
    }
    h.queue
        .enqueue(EnqueueRequest::new(Class::Light, "backup", json!({})))
        .await
        .unwrap();
    // one light task runs, one heavy task finishes
    let claimed = h
        .queue
        .claim(Class::Light, "vm-light-1")
        .await
        .unwrap()
        .unwrap();
    let heavy = h
        .queue
        .claim(Class::Heavy, "macbook")
        .await
        .unwrap()
        .unwrap();
    h.queue
        .complete(&heavy.lease, &heavy.envelope, Outcome::Done(json!("ok")))
        .await
        .unwrap();
    drop(claimed);
    h.worker_online("macbook", Class::Heavy).await;
    h.worker_online("vm-light-1", Class::Light).await;

    assert_eq!(h.post_update(&fixture("command")).await, StatusCode::OK);
    let text = &replies(&h, CHAT, 1).await[0];
    assert!(text.starts_with("큐 상태\n"), "{text}");
    assert!(
        text.contains("heavy: 대기 2 · 실행 0 · 완료 1 · 실패 0"),
        "{text}"
    );
    assert!(
        text.contains("light: 대기 0 · 실행 1 · 완료 0 · 실패 0"),
        "{text}"
    );
    assert!(text.contains("읽을 수 없는 객체: 0"), "{text}");
    assert!(
        text.contains("• macbook (heavy) 온라인 · 마지막 확인 2026-11-24 14:00 KST"),
        "{text}"
    );
    assert!(text.contains("• vm-light-1 (light) 온라인"), "{text}");
    assert!(h.pending().await.len() == 2, "a command creates no task");
}

#[tokio::test]
async fn status_in_english_with_no_workers() {
    let h = Harness::with(english).await;
    assert_eq!(h.post_update(&fixture("command")).await, StatusCode::OK);
    let text = &replies(&h, CHAT, 1).await[0];
    assert!(
        text.contains("heavy: pending 0 · running 0 · done 0 · failed 0"),
        "{text}"
    );
    assert!(text.contains("no worker has reported"), "{text}");
}

#[tokio::test]
async fn tasks_lists_recent_tasks_with_ids() {
    let h = Harness::new().await;
    assert_eq!(
        h.post_update(&text_update(10, "브랜드 전략 분석해줘"))
            .await,
        StatusCode::OK
    );
    h.clock.advance(chrono::Duration::seconds(5));
    assert_eq!(
        h.post_update(&text_update(11, "서버 로그 확인")).await,
        StatusCode::OK
    );
    let heavy = h.task_for(10).await;
    let light = h.task_for(11).await;
    assert_eq!(h.post_update(&command(12, "/tasks")).await, StatusCode::OK);
    let text = &replies(&h, CHAT, 3).await[2];
    assert!(text.starts_with("최근 작업\n"), "{text}");
    assert!(text.contains(&heavy.id.to_string()), "{text}");
    assert!(text.contains(&light.id.to_string()), "{text}");
    assert!(
        text.contains("heavy/대기 telegram-heavy — 브랜드 전략 분석해줘"),
        "{text}"
    );
    assert!(
        text.contains("light/대기 telegram-light — 서버 로그 확인"),
        "{text}"
    );
}

#[tokio::test]
async fn retry_replays_a_failed_task_and_explains_refusals() {
    let h = Harness::new().await;
    let task = h
        .queue
        .enqueue(EnqueueRequest::new(Class::Light, "backup", json!({})).max_attempts(1))
        .await
        .unwrap();
    let c = h.queue.claim(Class::Light, "vm").await.unwrap().unwrap();
    h.queue
        .complete(
            &c.lease,
            &c.envelope,
            Outcome::Fail {
                error: "disk full".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(h.in_state(Class::Light, TaskState::Failed).await.len(), 1);

    assert_eq!(
        h.post_update(&command(20, &format!("/retry {}", task.id)))
            .await,
        StatusCode::OK
    );
    let sent = replies(&h, CHAT, 1).await;
    let pending = h.in_state(Class::Light, TaskState::Pending).await;
    assert_eq!(pending.len(), 1);
    // a replay is a new task linked to the failed one; the reply names both, and its footer
    // names the new one (so /result as a reply to it finds the rerun)
    let new = &pending[0];
    assert_ne!(new.id, task.id);
    assert_eq!(new.replay_of, Some(task.id));
    assert_eq!(
        sent[0],
        format!(
            "다시 실행하도록 큐에 넣었습니다: 새 작업 {} (원래 작업 {})\n\nid: {}",
            new.id, task.id, new.id
        )
    );

    // again: it was replayed already, so the queue's reason is passed on
    assert_eq!(
        h.post_update(&command(21, &format!("/retry@fake_test_bot {}", task.id)))
            .await,
        StatusCode::OK
    );
    let sent = replies(&h, CHAT, 2).await;
    assert!(
        sent[1].starts_with("처리하지 못했습니다: task was replayed already"),
        "{}",
        sent[1]
    );
    assert!(sent[1].contains(&new.id.to_string()), "{}", sent[1]);
    assert_eq!(h.in_state(Class::Light, TaskState::Pending).await.len(), 1);

    assert_eq!(h.post_update(&command(22, "/retry")).await, StatusCode::OK);
    assert!(replies(&h, CHAT, 3).await[2].starts_with("작업 ID가 필요합니다"));
    assert_eq!(
        h.post_update(&command(23, "/retry not-an-id")).await,
        StatusCode::OK
    );
    assert!(replies(&h, CHAT, 4).await[3].starts_with("작업 ID가 필요합니다"));
}

#[tokio::test]
async fn cancel_cancels_a_pending_task() {
    let h = Harness::new().await;
    assert_eq!(
        h.post_update(&text_update(30, "서버 로그 확인")).await,
        StatusCode::OK
    );
    let env = h.task_for(30).await;
    assert_eq!(
        h.post_update(&command(31, &format!("/cancel {}", env.id)))
            .await,
        StatusCode::OK
    );
    let sent = replies(&h, CHAT, 2).await;
    assert_eq!(sent[1], format!("취소했습니다: {}", env.id));
    let failed = h.in_state(Class::Light, TaskState::Failed).await;
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]
            .failure
            .as_deref()
            .unwrap()
            .contains("telegram-chat-111111111")
    );
    // a finished task cannot be cancelled: the reason is shown
    assert_eq!(
        h.post_update(&command(32, &format!("/cancel {}", env.id)))
            .await,
        StatusCode::OK
    );
    assert!(
        replies(&h, CHAT, 3).await[2].starts_with("처리하지 못했습니다: task already finished")
    );
}

#[tokio::test]
async fn help_and_unknown_commands() {
    let h = Harness::new().await;
    assert_eq!(h.post_update(&command(40, "/help")).await, StatusCode::OK);
    assert_eq!(
        h.post_update(&command(41, "/frobnicate")).await,
        StatusCode::OK
    );
    let sent = replies(&h, CHAT, 2).await;
    assert!(sent[0].contains("/status — 큐 상태와 워커"), "{}", sent[0]);
    assert!(sent[0].contains("/retry ID"), "{}", sent[0]);
    assert!(
        sent[1].starts_with("모르는 명령입니다: /frobnicate"),
        "{}",
        sent[1]
    );
    assert!(h.pending().await.is_empty());
}
