//! Running one claimed task to its end (`Worker::run_once`), on a memory store with real
//! handler processes: the exec protocol, outcomes, unknown kinds, attachments, notification.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use queue_core::inspect::Found;
use queue_core::task::{Attachment, AttemptOutcome, Source};
use queue_core::{Bucket, Class, EnqueueRequest, SystemClock, TaskId, TaskState};
use queue_worker::notify::{Body, Notice, Notifier};
use queue_worker::{Handlers, TaskEnd, Worker};
use serde_json::json;

use common::{queue, settings, sh_command};

fn handlers(toml: &str) -> Handlers {
    Handlers::parse(toml, Path::new("/"), Path::new("/test/handlers.toml")).unwrap()
}

fn worker(handlers_toml: &str) -> Worker {
    let q = queue(
        Bucket::memory(),
        Arc::new(SystemClock),
        settings(Duration::from_secs(30)),
    );
    Worker::new(q, Class::Light, "light-test", handlers(handlers_toml))
}

async fn enqueue(w: &Worker, req: EnqueueRequest) -> TaskId {
    w.queue().enqueue(req).await.unwrap().id
}

async fn find(w: &Worker, id: TaskId) -> Found {
    w.queue().find(id).await.unwrap()
}

fn state(found: &Found) -> TaskState {
    found.location.state()
}

#[tokio::test]
async fn echo_returns_the_payload() {
    let w = worker("");
    let id = enqueue(
        &w,
        EnqueueRequest::new(Class::Light, "echo", json!({"hi": 1})),
    )
    .await;
    let report = w.run_once().await.unwrap().unwrap();
    assert_eq!(report.id, id);
    assert_eq!(
        report.end,
        TaskEnd::Committed {
            state: TaskState::Done
        }
    );
    let found = find(&w, id).await;
    assert_eq!(found.envelope.result, Some(json!({"hi": 1})));
    assert!(w.run_once().await.unwrap().is_none(), "nothing else is due");
}

#[tokio::test]
async fn a_command_gets_the_payload_on_stdin_and_the_task_in_its_environment() {
    let script = r#"payload=$(cat); printf '{"payload": %s, "id": "%s", "kind": "%s", "class": "%s", "attempt": %s, "worker": "%s", "flavour": "%s", "photo": "%s"}' "$payload" "$QUEUE_TASK_ID" "$QUEUE_TASK_KIND" "$QUEUE_TASK_CLASS" "$QUEUE_TASK_ATTEMPT" "$QUEUE_WORKER_ID" "$FLAVOUR" "$(cat "$QUEUE_ATTACHMENTS_DIR/photo.jpg")""#;
    let w = worker(&format!(
        "[handlers.inspect]\ncommand = {}\nenv = {{ FLAVOUR = \"mild\" }}\n",
        sh_command(script)
    ));
    w.queue()
        .bucket()
        .put("attachments/x/photo.jpg", b"JPEG".to_vec())
        .await
        .unwrap();
    let id = enqueue(
        &w,
        EnqueueRequest::new(Class::Light, "inspect", json!({"n": [1, 2]})).attachment(Attachment {
            object: "attachments/x/photo.jpg".into(),
            name: "photo.jpg".into(),
            content_type: Some("image/jpeg".into()),
            size: Some(4),
            extra: Default::default(),
        }),
    )
    .await;
    let report = w.run_once().await.unwrap().unwrap();
    assert_eq!(
        report.end,
        TaskEnd::Committed {
            state: TaskState::Done
        }
    );
    let result = find(&w, id).await.envelope.result.unwrap();
    assert_eq!(
        result,
        json!({"payload": {"n": [1, 2]}, "id": id.to_string(), "kind": "inspect", "class": "light",
               "attempt": 1, "worker": "light-test", "flavour": "mild", "photo": "JPEG"})
    );
}

#[tokio::test]
async fn plain_text_on_stdout_is_stored_as_a_string() {
    let w = worker(&format!(
        "[handlers.say]\ncommand = {}\n",
        sh_command("echo '브랜드 전략 분석 결과'")
    ));
    let id = enqueue(&w, EnqueueRequest::new(Class::Light, "say", json!(null))).await;
    w.run_once().await.unwrap().unwrap();
    assert_eq!(
        find(&w, id).await.envelope.result,
        Some(json!("브랜드 전략 분석 결과"))
    );
}

#[tokio::test]
async fn exit_75_retries_later_with_the_stderr_tail() {
    let w = worker(&format!(
        "[handlers.flaky]\ncommand = {}\n",
        sh_command("echo 'rate limited' >&2; exit 75")
    ));
    let id = enqueue(&w, EnqueueRequest::new(Class::Light, "flaky", json!({}))).await;
    let report = w.run_once().await.unwrap().unwrap();
    assert_eq!(
        report.end,
        TaskEnd::Committed {
            state: TaskState::Pending
        }
    );
    let found = find(&w, id).await;
    assert_eq!(found.envelope.attempt, 1);
    let attempt = &found.envelope.attempts[0];
    assert_eq!(attempt.outcome, Some(AttemptOutcome::Retry));
    let error = attempt.error.as_deref().unwrap();
    assert!(
        error.contains("exit 75") && error.contains("rate limited"),
        "{error}"
    );
}

#[tokio::test]
async fn exit_65_fails_at_once_even_with_attempts_left() {
    let w = worker(&format!(
        "[handlers.strict]\ncommand = {}\n",
        sh_command("echo 'bad input' >&2; exit 65")
    ));
    let id = enqueue(
        &w,
        EnqueueRequest::new(Class::Light, "strict", json!({})).max_attempts(5),
    )
    .await;
    w.run_once().await.unwrap().unwrap();
    let found = find(&w, id).await;
    assert_eq!(state(&found), TaskState::Failed);
    assert!(found.envelope.failure.unwrap().contains("bad input"));
}

#[tokio::test]
async fn other_exit_codes_retry_until_the_handlers_max_attempts() {
    let w = worker(&format!(
        "[handlers.broken]\ncommand = {}\nmax_attempts = 1\n",
        sh_command("exit 3")
    ));
    let id = enqueue(
        &w,
        EnqueueRequest::new(Class::Light, "broken", json!({})).max_attempts(5),
    )
    .await;
    w.run_once().await.unwrap().unwrap();
    let found = find(&w, id).await;
    assert_eq!(
        state(&found),
        TaskState::Failed,
        "max_attempts = 1 in the handlers file wins"
    );
    assert!(found.envelope.failure.unwrap().contains("code 3"));
}

#[tokio::test]
async fn an_unknown_kind_fails_at_once_naming_the_known_kinds() {
    let w = worker(&format!(
        "[handlers.backup]\ncommand = {}\n",
        sh_command("true")
    ));
    let id = enqueue(
        &w,
        EnqueueRequest::new(Class::Light, "bakcup", json!({})).max_attempts(5),
    )
    .await;
    let report = w.run_once().await.unwrap().unwrap();
    assert_eq!(
        report.end,
        TaskEnd::Committed {
            state: TaskState::Failed
        }
    );
    let failure = find(&w, id).await.envelope.failure.unwrap();
    assert!(failure.contains("unknown kind=bakcup"), "{failure}");
    assert!(failure.contains("known kinds: backup, echo"), "{failure}");
}

#[tokio::test]
async fn a_timeout_kills_the_handler_and_counts_as_a_failed_attempt() {
    let w = worker(&format!(
        "[handlers.slow]\ncommand = {}\ntimeout = \"300ms\"\nmax_attempts = 1\n",
        sh_command("sleep 30")
    ));
    let id = enqueue(&w, EnqueueRequest::new(Class::Light, "slow", json!({}))).await;
    w.run_once().await.unwrap().unwrap();
    let found = find(&w, id).await;
    assert_eq!(state(&found), TaskState::Failed);
    assert!(
        found
            .envelope
            .failure
            .unwrap()
            .contains("timed out after 300ms")
    );
}

/// Records notices; fails when told to.
#[derive(Debug, Default)]
struct Recorder {
    notices: Mutex<Vec<Notice>>,
    fail: bool,
}

#[async_trait]
impl Notifier for Recorder {
    async fn send(&self, notice: &Notice) -> Result<(), String> {
        self.notices.lock().unwrap().push(notice.clone());
        if self.fail {
            Err("telegram is down".into())
        } else {
            Ok(())
        }
    }
}

fn from_chat(chat_id: i64) -> Source {
    Source {
        kind: "telegram".into(),
        chat_id: Some(chat_id),
        message_id: Some(11),
        ..Default::default()
    }
}

#[tokio::test]
async fn results_and_final_failures_are_sent_to_the_chat_but_retries_are_not() {
    let recorder = Arc::new(Recorder::default());
    let w = worker(&format!(
        "[handlers.flaky]\ncommand = {}\n",
        sh_command("exit 75")
    ))
    .with_notifier(Some(recorder.clone()));
    let hello = enqueue(
        &w,
        EnqueueRequest::new(Class::Light, "echo", json!("hello")).source(from_chat(42)),
    )
    .await;
    w.run_once().await.unwrap().unwrap();
    enqueue(
        &w,
        EnqueueRequest::new(Class::Light, "flaky", json!({})).source(from_chat(42)),
    )
    .await;
    w.run_once().await.unwrap().unwrap();
    enqueue(
        &w,
        EnqueueRequest::new(Class::Light, "nope", json!({})).source(from_chat(43)),
    )
    .await;
    w.run_once().await.unwrap().unwrap();
    let notices = recorder.notices.lock().unwrap().clone();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert_eq!(notices[0].chat_id, 42);
    assert_eq!(notices[0].reply_to, Some(11));
    assert_eq!(
        notices[0].body,
        Body::Text(vec![format!("hello\n\nid: {hello}")])
    );
    assert_eq!(notices[1].chat_id, 43);
    assert!(matches!(&notices[1].body, Body::Text(t) if t[0].contains("unknown kind=nope")));
}

#[tokio::test]
async fn a_failed_notification_never_loses_the_result() {
    let recorder = Arc::new(Recorder {
        fail: true,
        ..Recorder::default()
    });
    let w = worker("").with_notifier(Some(recorder.clone()));
    let id = enqueue(
        &w,
        EnqueueRequest::new(Class::Light, "echo", json!("kept")).source(from_chat(42)),
    )
    .await;
    let report = w.run_once().await.unwrap().unwrap();
    assert_eq!(
        report.end,
        TaskEnd::Committed {
            state: TaskState::Done
        }
    );
    assert_eq!(recorder.notices.lock().unwrap().len(), 1);
    assert_eq!(find(&w, id).await.envelope.result, Some(json!("kept")));
}
