//! The real worker-light binary on a local-directory store, with small shell handlers: crashes,
//! pauses, signals, timeouts, junk and notifications. Every wait is on a condition (the store,
//! a side-effect file, a log line) with a generous deadline; no sleep is an assertion.

mod common;

use nix::sys::signal::Signal;
use queue_core::inspect;
use queue_core::task::{AttemptOutcome, Source};
use queue_core::{Class, EnqueueRequest, TaskState, names};
use serde_json::json;
use testkit::process::{is_alive, signal_group, wait_for};
use testkit::telegram::FakeBotApi;

use common::{Fixture, pid_in, touch};

const BIN: &str = env!("CARGO_BIN_EXE_worker-light");

/// A handler that records its start (attempt, worker, pid), waits for `{dir}/go`, then prints
/// its attempt and worker as the result.
const WAITER: &str = r#"
[handlers.wait]
command = ["sh", "-c", "echo \"start $QUEUE_TASK_ATTEMPT $QUEUE_WORKER_ID $$\" >> \"$DIR/runs\"; while [ ! -f \"$DIR/go\" ]; do sleep 0.05; done; echo \"end $QUEUE_TASK_ATTEMPT $QUEUE_WORKER_ID\" >> \"$DIR/runs\"; printf '{\"attempt\": %s, \"by\": \"%s\"}' \"$QUEUE_TASK_ATTEMPT\" \"$QUEUE_WORKER_ID\""]
env = { DIR = "{dir}" }
timeout = "2m"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_task_then_restart_completes_the_task_exactly_once() {
    let f = Fixture::new(BIN, WAITER);
    let id = f.enqueue(Class::Light, "wait", json!({})).await;
    let mut first = f.start("light-a", &["--lease-ttl", "3s"], &[]);
    let started = f.wait_line("runs", "start 1 light-a").await;

    // The machine dies: the worker and its handler with it.
    first.signal(Signal::SIGKILL);
    first.wait_exit().await;
    signal_group(pid_in(&started), Signal::SIGKILL);
    assert_eq!(f.find(id).await.location.state(), TaskState::Running);

    touch(&f.path("go"));
    let mut restarted = f.start("light-a", &["--lease-ttl", "3s"], &[]);
    let done = f.wait_state(id, TaskState::Done).await;

    let runs = f.lines("runs");
    let starts = runs.iter().filter(|l| l.starts_with("start")).count();
    let ends: Vec<_> = runs.iter().filter(|l| l.starts_with("end")).collect();
    assert_eq!(starts, 2, "{runs:?}");
    assert_eq!(ends, ["end 2 light-a"], "{runs:?}");
    assert_eq!(
        done.envelope.result,
        Some(json!({"attempt": 2, "by": "light-a"}))
    );
    let outcomes: Vec<_> = done.envelope.attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        [Some(AttemptOutcome::Expired), Some(AttemptOutcome::Done)]
    );
    let stats = inspect::stats(f.bucket()).await.unwrap();
    assert_eq!(
        (stats.light.pending, stats.light.done, stats.light.failed),
        (0, 1, 0)
    );

    restarted.signal(Signal::SIGTERM);
    assert!(restarted.wait_exit().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigstop_past_the_lease_then_sigcont_cannot_commit() {
    let f = Fixture::new(BIN, WAITER);
    let id = f.enqueue(Class::Light, "wait", json!({})).await;
    let mut paused = f.start("light-a", &["--lease-ttl", "3s"], &[]);
    f.wait_line("runs", "start 1 light-a").await;
    paused.signal(Signal::SIGSTOP);

    // A second worker takes the task over once the stopped one's lease expired.
    let mut second = f.start("light-b", &["--lease-ttl", "3s"], &[]);
    f.wait_line("runs", "start 2 light-b").await;
    touch(&f.path("go")); // both handlers finish; only one result may land
    let done = f.wait_state(id, TaskState::Done).await;
    assert_eq!(
        done.envelope.result,
        Some(json!({"attempt": 2, "by": "light-b"}))
    );

    paused.signal(Signal::SIGCONT);
    wait_for("the resumed worker to notice its lease is gone", || {
        paused.stderr().contains("lease lost").then_some(())
    })
    .await;
    let after = f.find(id).await;
    assert_eq!(after.location.state(), TaskState::Done);
    assert_eq!(
        after.envelope.result, done.envelope.result,
        "the second worker's result stands"
    );
    let outcomes: Vec<_> = after
        .envelope
        .attempts
        .iter()
        .map(|a| (a.worker.as_str(), a.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("light-a", Some(AttemptOutcome::Expired)),
            ("light-b", Some(AttemptOutcome::Done))
        ]
    );
    let stats = inspect::stats(f.bucket()).await.unwrap();
    assert_eq!(
        (stats.light.pending, stats.light.done, stats.light.failed),
        (0, 1, 0)
    );
    assert!(
        paused.try_status().is_none(),
        "the resumed worker carries on"
    );

    for w in [&mut paused, &mut second] {
        w.signal(Signal::SIGTERM);
        assert!(w.wait_exit().await.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_zero_and_releases_a_handler_that_outlives_the_grace() {
    let f = Fixture::new(BIN, WAITER);
    let id = f.enqueue(Class::Light, "wait", json!({})).await;
    let mut worker = f.start("light-a", &["--grace", "1s"], &[]);
    let started = f.wait_line("runs", "start 1 light-a").await;

    worker.signal(Signal::SIGTERM);
    let status = worker.wait_exit().await;
    assert_eq!(status.code(), Some(0), "{}", worker.stderr());

    let found = f.find(id).await;
    assert_eq!(
        found.location.state(),
        TaskState::Pending,
        "released, not left to expire"
    );
    assert_eq!(
        found.envelope.attempt, 0,
        "a released attempt is not counted"
    );
    assert_eq!(
        found.envelope.attempts[0].outcome,
        Some(AttemptOutcome::Released)
    );
    let handler = pid_in(&started);
    wait_for("the handler to be stopped", || {
        (!is_alive(handler)).then_some(())
    })
    .await;
    let presence = f
        .bucket()
        .get(&names::worker("light-a"))
        .await
        .unwrap()
        .unwrap();
    let presence: serde_json::Value = serde_json::from_slice(&presence.bytes).unwrap();
    assert_eq!(presence["running"], json!(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_running_handler_finish_within_the_grace() {
    let f = Fixture::new(BIN, WAITER);
    let id = f.enqueue(Class::Light, "wait", json!({})).await;
    let mut worker = f.start("light-a", &["--grace", "2m"], &[]);
    f.wait_line("runs", "start 1 light-a").await;
    worker.signal(Signal::SIGTERM);
    wait_for("the worker to stop claiming", || {
        worker.stderr().contains("shutting down").then_some(())
    })
    .await;
    let later = f.enqueue(Class::Light, "echo", json!({})).await;
    touch(&f.path("go"));
    assert_eq!(worker.wait_exit().await.code(), Some(0));
    assert_eq!(f.find(id).await.location.state(), TaskState::Done);
    assert_eq!(
        f.find(later).await.location.state(),
        TaskState::Pending,
        "nothing new is claimed after the signal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_handler_is_killed_with_its_children_at_its_timeout() {
    let f = Fixture::new(
        BIN,
        r#"
[handlers.hang]
command = ["sh", "-c", "trap '' TERM; sleep 600 & echo \"child $!\" >> \"$DIR/pids\"; echo \"self $$\" >> \"$DIR/pids\"; wait"]
env = { DIR = "{dir}" }
timeout = "1s"
max_attempts = 1
"#,
    );
    let id = f.enqueue(Class::Light, "hang", json!({})).await;
    let mut worker = f.start("light-a", &[], &[]);
    let failed = f.wait_state(id, TaskState::Failed).await;
    let failure = failed.envelope.failure.unwrap();
    assert!(failure.contains("timed out after 1s"), "{failure}");
    for prefix in ["self", "child"] {
        let pid = pid_in(&f.wait_line("pids", prefix).await);
        wait_for(&format!("the {prefix} process {pid} to be gone"), || {
            (!is_alive(pid)).then_some(())
        })
        .await;
    }
    worker.signal(Signal::SIGTERM);
    assert!(worker.wait_exit().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kind_and_junk_in_pending_do_not_stop_the_worker() {
    let f = Fixture::new(BIN, "[handlers.backup]\ncommand = [\"true\"]\n");
    f.bucket()
        .put("light/pending/junk.json", b"{".to_vec())
        .await
        .unwrap();
    let fake = "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f".parse().unwrap();
    let bad = names::pending(
        Class::Light,
        chrono::Utc::now() - chrono::Duration::seconds(1),
        fake,
    );
    f.bucket()
        .put(&bad, b"not an envelope".to_vec())
        .await
        .unwrap();
    let unknown = f.enqueue(Class::Light, "bakcup", json!({})).await;
    let mut worker = f.start("light-a", &[], &[]);
    let good = f
        .enqueue(Class::Light, "echo", json!({"still": "working"}))
        .await;

    let failed = f.wait_state(unknown, TaskState::Failed).await;
    let failure = failed.envelope.failure.unwrap();
    assert!(
        failure.contains("unknown kind=bakcup") && failure.contains("known kinds: backup, echo"),
        "{failure}"
    );
    assert_eq!(
        failed.envelope.attempts.len(),
        1,
        "no retries for an unknown kind"
    );
    let done = f.wait_state(good, TaskState::Done).await;
    assert_eq!(done.envelope.result, Some(json!({"still": "working"})));
    let stats = inspect::stats(f.bucket()).await.unwrap();
    assert_eq!(stats.invalid, 2, "both junk objects quarantined");
    assert!(worker.try_status().is_none(), "the worker is still running");
    worker.signal(Signal::SIGTERM);
    assert!(worker.wait_exit().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_and_failures_reach_the_chat_through_the_bot_api() {
    let bot = FakeBotApi::start().await;
    let f = Fixture::new(
        BIN,
        "[handlers.refuse]\ncommand = [\"sh\", \"-c\", \"echo 'bad photo' >&2; exit 65\"]\n\
         [handlers.peek]\ncommand = [\"sh\", \"-c\", \"echo token=${TELEGRAM_BOT_TOKEN:-absent}\"]\n",
    );
    let chat = |message_id| Source {
        kind: "telegram".into(),
        chat_id: Some(4242),
        message_id: Some(message_id),
        ..Default::default()
    };
    let done = f
        .enqueue_req(
            EnqueueRequest::new(Class::Light, "echo", json!("분석 결과입니다")).source(chat(7)),
        )
        .await;
    let mut worker = f.start(
        "light-a",
        &[],
        &[
            ("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN"),
            ("TELEGRAM_API_URL", bot.url()),
        ],
    );
    let calls = bot.wait_for_calls("sendMessage", 1).await;
    assert_eq!(calls[0].chat_id(), Some(4242));
    // the result, then the footer naming the task (a reply to it is a follow-up)
    assert_eq!(
        calls[0].text(),
        Some(format!("분석 결과입니다\n\nid: {done}").as_str())
    );
    assert_eq!(calls[0].reply_to(), Some(7));
    assert_eq!(f.find(done).await.location.state(), TaskState::Done);

    f.enqueue_req(EnqueueRequest::new(Class::Light, "refuse", json!({})).source(chat(8)))
        .await;
    let calls = bot.wait_for_calls("sendMessage", 2).await;
    let text = calls[1].text().unwrap();
    assert!(
        text.contains("refuse") && text.contains("bad photo"),
        "{text}"
    );
    assert!(
        text.contains("다시 실행: /retry "),
        "a chat command: {text}"
    );
    assert!(
        !worker.stderr().contains("TEST-TOKEN"),
        "the token is never logged"
    );
    // handlers do not inherit the worker's secrets
    let peek = f
        .enqueue_req(EnqueueRequest::new(Class::Light, "peek", json!({})))
        .await;
    let found = f.wait_state(peek, TaskState::Done).await;
    assert_eq!(found.envelope.result, Some(json!("token=absent")));
    worker.signal(Signal::SIGTERM);
    assert!(worker.wait_exit().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedules_file_fires_tasks_that_the_worker_runs() {
    let f = Fixture::new(BIN, "");
    let schedules = f.path("schedules.toml");
    std::fs::write(
        &schedules,
        "[[schedule]]\nname = \"tick\"\ncron = \"*/2 * * * * *\"\nclass = \"light\"\nkind = \"echo\"\npayload = { from = \"schedule\" }\n",
    )
    .unwrap();
    let mut worker = f.start(
        "light-a",
        &["--schedules", schedules.to_str().unwrap()],
        &[],
    );
    let bucket = f.bucket().clone();
    let mut seen = None;
    for _ in 0..1200 {
        let done = inspect::list_tasks(&bucket, Class::Light, TaskState::Done)
            .await
            .unwrap();
        if let Some(task) = done.into_iter().next() {
            seen = Some(task);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let task = seen.expect("a scheduled task ran within a minute");
    let envelope = task
        .envelope
        .expect("done tasks are listed with their envelope");
    assert_eq!(envelope.result, Some(json!({"from": "schedule"})));
    assert_eq!(
        envelope.source.as_ref().and_then(|s| s.schedule.as_deref()),
        Some("tick")
    );
    worker.signal(Signal::SIGTERM);
    assert!(worker.wait_exit().await.success());
}

#[test]
fn help_explains_every_flag_with_its_default() {
    let help = common::help_text(BIN);
    for needle in [
        "worker-light",
        "--store <URL>",
        "[env: QUEUE_STORE=]",
        "[default: ./queue-data]",
        "--concurrency <N>",
        "[default: 1]",
        "--lease-ttl <DUR>",
        "--schedules <FILE>",
        "--no-scheduler",
        "TELEGRAM_BOT_TOKEN",
        "75 retry later",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}
