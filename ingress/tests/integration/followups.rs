//! Follow-ups and results: a reply to the bot's message about a task carries that task's id
//! and result as `context`; `/result` shows a result or a failure with `/retry ID`.

use std::sync::Arc;

use axum::http::StatusCode;
use ingress::telegram::outcome;
use queue_core::store::counting::CountingStore;
use queue_core::{Bucket, Class, Outcome, TaskState};
use queue_worker::notify::{Body, notice_for};
use serde_json::json;
use testkit::telegram::FakeBotApi;

use crate::common::*;

const IDEAS: &str = "오늘의 컨텐츠 아이디어\n1. 느린 아침: 자신의 파동을 찾는 루틴\n2. 실용적 미학: 매일 쓰는 도구 세 가지\n3. 과정 중시: 한 잔의 커피가 되기까지";

/// The text the worker sends for a finished task (its last message: the one with the footer).
fn worker_notice(env: &queue_core::Envelope, state: TaskState) -> String {
    match notice_for(env, state).expect("a chat to tell").body {
        Body::Text(parts) => parts.last().unwrap().clone(),
        Body::Document { caption, .. } => caption,
    }
}

/// Scenario 1 of the seed: at 09:00 the VM's content ideation sends three ideas; at 10:30 the
/// person answers that message with "이 중 첫 번째 아이디어 상세 기획해줘" — a heavy task for the
/// MacBook whose payload holds the ideas it refers to.
#[tokio::test]
async fn scenario_1_a_reply_to_the_ideas_reaches_the_macbook_with_the_ideas() {
    let fake = FakeBotApi::builder().token(BOT_TOKEN).start().await;
    let memory = Bucket::memory();
    let counting = Arc::new(CountingStore::new(memory.object_store().clone()));
    let h = Harness::with_fake(fake, memory.with_object_store(counting.clone()), |s| s);
    let ideas = h
        .finished(
            Class::Light,
            "content-ideation",
            CHAT,
            Outcome::Done(json!(IDEAS)),
        )
        .await;
    let bot_text = worker_notice(&ideas, TaskState::Done);
    assert!(bot_text.starts_with(IDEAS), "{bot_text}");

    // the same sentence, not a reply: what a message costs without context (after a first
    // message, which also writes the class's one-time objects)
    let warm_up = text_update(68, "이 중 두 번째 아이디어도 기획해줘");
    assert_eq!(h.post_update(&warm_up).await, StatusCode::OK);
    counting.reset();
    let plain = text_update(69, "이 중 첫 번째 아이디어 상세 기획해줘");
    assert_eq!(h.post_update(&plain).await, StatusCode::OK);
    let plain_ops = counting.snapshot();

    counting.reset();
    let follow_up = reply_to_bot(70, "이 중 첫 번째 아이디어 상세 기획해줘", 5001, &bot_text);
    assert_eq!(h.post_update(&follow_up).await, StatusCode::OK);
    let follow_up_ops = counting.snapshot();

    let task = h.task_for(70).await;
    assert_eq!(task.class, Class::Heavy);
    assert_eq!(task.kind, "telegram-heavy");
    assert_eq!(task.labels["class_rule"], "planning");
    let context = &task.payload["context"];
    assert_eq!(context["task_id"], json!(ideas.id.to_string()));
    assert_eq!(context["kind"], json!("content-ideation"));
    assert_eq!(context["state"], json!("done"));
    assert_eq!(context["result"], json!(IDEAS));
    assert_eq!(context["replied_text"], json!(bot_text));
    assert!(
        h.task_for(69).await.payload.get("context").is_none(),
        "no reply, no context"
    );

    // the context cost one GET (a light task that is done), and no Class A operation
    assert_eq!(
        follow_up_ops.class_a, plain_ops.class_a,
        "{follow_up_ops:?}"
    );
    assert_eq!(
        follow_up_ops.class_b,
        plain_ops.class_b + 1,
        "{follow_up_ops:?}"
    );
    let sent = sentences(&h, CHAT, 3).await;
    assert_eq!(sent[2], OFFLINE);
}

#[tokio::test]
async fn a_reply_to_queued_carries_the_waiting_task_and_a_reply_to_a_person_none() {
    let h = Harness::new().await;
    assert_eq!(
        h.post_update(&text_update(80, "브랜드 전략 분석해줘"))
            .await,
        StatusCode::OK
    );
    let first = h.task_for(80).await;
    let queued = replies(&h, CHAT, 1).await.remove(0);
    assert_eq!(
        h.post_update(&reply_to_bot(81, "경쟁사도 같이 봐줘", 6001, &queued))
            .await,
        StatusCode::OK
    );
    let context = &h.task_for(81).await.payload["context"];
    assert_eq!(context["task_id"], json!(first.id.to_string()));
    assert_eq!(context["state"], json!("pending"));
    assert_eq!(context["result"], json!(null));

    // a reply to a person's message (not the bot's) is no follow-up
    let mut to_person = reply_to_bot(82, "이거 요약해줘", 6002, "회의록 원문…");
    to_person["message"]["reply_to_message"]["from"]["is_bot"] = json!(false);
    assert_eq!(h.post_update(&to_person).await, StatusCode::OK);
    assert!(h.task_for(82).await.payload.get("context").is_none());

    // a bot message without a footer: its text is the context, no task
    assert_eq!(
        h.post_update(&reply_to_bot(83, "더 자세히", 6003, "도움말 내용"))
            .await,
        StatusCode::OK
    );
    assert_eq!(
        h.task_for(83).await.payload["context"],
        json!({"replied_text": "도움말 내용"})
    );
}

#[tokio::test]
async fn result_shows_the_result_by_id_or_as_a_reply_and_the_failure_with_retry() {
    let h = Harness::new().await;
    let done = h
        .finished(
            Class::Heavy,
            "telegram-heavy",
            CHAT,
            Outcome::Done(json!("분석 결과: 좋음")),
        )
        .await;
    let failed = h
        .finished(
            Class::Light,
            "snapshot",
            CHAT,
            Outcome::Fail {
                error: "disk full".into(),
            },
        )
        .await;

    let cmd = command(90, &format!("/result {}", done.id));
    assert_eq!(h.post_update(&cmd).await, StatusCode::OK);
    let sent = replies(&h, CHAT, 1).await;
    assert_eq!(
        sent[0],
        format!(
            "✅ 완료 (telegram-heavy)\n분석 결과: 좋음\n\nid: {}",
            done.id
        )
    );

    // /result as a reply to the worker's failure notice: no id typed
    let notice = worker_notice(&failed, TaskState::Failed);
    assert!(
        notice.contains(&format!("/retry {}", failed.id)),
        "{notice}"
    );
    let mut as_reply = reply_to_bot(91, "/result", 7001, &notice);
    as_reply["message"]["entities"] = json!([{"offset": 0, "length": 7, "type": "bot_command"}]);
    assert_eq!(h.post_update(&as_reply).await, StatusCode::OK);
    let sent = replies(&h, CHAT, 2).await;
    assert_eq!(
        sent[1],
        format!(
            "❌ 작업 실패 (snapshot): failed: disk full\n다시 실행하려면: /retry {id}\n\nid: {id}",
            id = failed.id
        )
    );

    // the /retry the failure names replays it
    let retry = command(92, &format!("/retry {}", failed.id));
    assert_eq!(h.post_update(&retry).await, StatusCode::OK);
    assert_eq!(h.in_state(Class::Light, TaskState::Pending).await.len(), 1);

    // not finished, unknown, missing
    let cmd = command(93, &format!("/result {}", failed.id));
    assert_eq!(h.post_update(&cmd).await, StatusCode::OK);
    let unknown = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    assert_eq!(
        h.post_update(&command(94, &format!("/result {unknown}")))
            .await,
        StatusCode::OK
    );
    assert_eq!(h.post_update(&command(95, "/result")).await, StatusCode::OK);
    let sent = replies(&h, CHAT, 6).await;
    // the failed task was replayed as a new one: its result points at the rerun
    let rerun = &h.in_state(Class::Light, TaskState::Pending).await[0];
    assert_eq!(rerun.replay_of, Some(failed.id));
    assert!(
        sent[3].starts_with(&format!(
            "❌ 작업 실패 (snapshot): failed: disk full\n다시 실행됨: 새 작업 {id} (/result {id})",
            id = rerun.id
        )),
        "{}",
        sent[3]
    );
    assert_eq!(sent[4], format!("작업을 찾지 못했습니다: {unknown}"));
    assert!(sent[5].contains("/result ID"), "{}", sent[5]);
}

#[tokio::test]
async fn result_follows_the_language_setting() {
    let h = Harness::with(english).await;
    let failed = h
        .finished(
            Class::Light,
            "log-analysis",
            CHAT,
            Outcome::Fail {
                error: "no logs".into(),
            },
        )
        .await;
    let cmd = command(96, &format!("/result {}", failed.id));
    assert_eq!(h.post_update(&cmd).await, StatusCode::OK);
    assert_eq!(
        replies(&h, CHAT, 1).await[0],
        format!(
            "❌ Task failed (log-analysis): failed: no logs\nTo run it again: /retry {id}\n\nid: {id}",
            id = failed.id
        )
    );
}

#[tokio::test]
async fn looking_up_a_finished_task_reads_the_finished_places_only() {
    let fake = FakeBotApi::builder().token(BOT_TOKEN).start().await;
    let memory = Bucket::memory();
    let counting = Arc::new(CountingStore::new(memory.object_store().clone()));
    let bucket = memory.with_object_store(counting.clone());
    let h = Harness::with_fake(fake, bucket.clone(), |s| s);
    let heavy = h
        .finished(Class::Heavy, "x", CHAT, Outcome::Done(json!(1)))
        .await;
    counting.reset();
    let found = outcome::lookup(&bucket, heavy.id).await.unwrap().unwrap();
    assert_eq!(found.state, TaskState::Done);
    let ops = counting.snapshot();
    // light done, light failed, heavy done: three GETs, nothing listed
    assert_eq!((ops.class_a, ops.class_b), (0, 3), "{ops:?}");
}
