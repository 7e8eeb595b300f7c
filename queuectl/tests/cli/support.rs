//! Stores to run the real binary against: an empty one, and one with a task in every state,
//! a quarantined object and two workers' presence, written through queue-core itself.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use queue_core::presence::{self, Presence};
use queue_core::task::Source;
use queue_core::{
    Bucket, Class, EnqueueRequest, Outcome, Queue, Settings, SystemClock, TaskId, TaskState,
};
use serde_json::{Value, json};

/// What a run of queuectl printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Assert the exit code, showing both streams when it is wrong.
    #[track_caller]
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Run queuectl with `--store store` and `args`, with nothing from the caller's environment
/// that could point it elsewhere.
pub fn queuectl(store: &Path, args: &[&str]) -> Run {
    let mut full = vec!["--store", store.to_str().unwrap()];
    full.extend_from_slice(args);
    queuectl_raw(&full, None)
}

/// Run queuectl with exactly `args` (no `--store` added), optionally feeding `stdin`.
pub fn queuectl_raw(args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_queuectl"));
    cmd.args(args)
        .env_remove("QUEUE_STORE")
        .env_remove("RUST_LOG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run queuectl");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().expect("wait for queuectl");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The ids of the tasks in a populated store.
#[derive(Debug, Clone)]
pub struct Ids {
    /// heavy, due now, from Telegram with an idempotency key.
    pub heavy_pending_now: TaskId,
    /// heavy, due in an hour.
    pub heavy_pending_later: TaskId,
    /// light, due now.
    pub light_pending: TaskId,
    /// heavy, leased by `macbook-1`.
    pub heavy_running: TaskId,
    /// light, done with a result.
    pub light_done: TaskId,
    /// light, done, with an idempotency key.
    pub light_done_keyed: TaskId,
    /// heavy, failed for good ("fail now").
    pub heavy_failed: TaskId,
    /// light, dead-lettered after its only attempt.
    pub light_failed: TaskId,
}

/// A store in a temporary directory.
#[derive(Debug)]
pub struct Store {
    dir: tempfile::TempDir,
}

impl Store {
    /// An empty store (the directory exists, nothing in it).
    pub fn empty() -> Store {
        Store {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The store directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A queue over it, on the system clock (queuectl uses the system clock too).
    pub fn queue(&self) -> Queue {
        queue_at(self.path())
    }

    /// Run queuectl against this store.
    pub fn run(&self, args: &[&str]) -> Run {
        queuectl(self.path(), args)
    }

    /// Every object name under `prefix`.
    pub fn names(&self, prefix: &str) -> Vec<String> {
        let bucket = Bucket::local(self.path()).unwrap();
        block_on(bucket.list(prefix))
            .unwrap()
            .into_iter()
            .map(|o| o.name)
            .collect()
    }

    /// Make a done task look finished `age` ago (purge goes by last-modified time).
    pub fn age_done(&self, class: Class, id: TaskId, age: Duration) {
        let path: PathBuf = self.path().join(queue_core::names::done(class, id));
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
    }
}

/// A queue over the local directory `dir`.
pub fn queue_at(dir: &Path) -> Queue {
    Queue::new(
        Bucket::local(dir).unwrap(),
        Arc::new(SystemClock),
        Settings::default(),
    )
}

/// Run a future to completion on a fresh runtime (tests are plain `#[test]`s that also run
/// the binary, which blocks).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A store with a task in every state, one quarantined object and two workers.
pub fn populated() -> (Store, Ids) {
    let store = Store::empty();
    let q = store.queue();
    let ids = block_on(populate(&q));
    (store, ids)
}

/// Write the population through `q`.
pub async fn populate(q: &Queue) -> Ids {
    let heavy_pending_now = q
        .enqueue(
            EnqueueRequest::new(
                Class::Heavy,
                "brand-analysis",
                json!({"text": "브랜드 전략 분석해줘"}),
            )
            .key("tg-update-1001")
            .source(Source {
                kind: "telegram".into(),
                chat_id: Some(42),
                message_id: Some(7),
                update_id: Some(1001),
                ..Source::default()
            }),
        )
        .await
        .unwrap()
        .id;
    let heavy_pending_later = enqueue(
        q,
        EnqueueRequest::new(Class::Heavy, "weekly-evolution", json!({}))
            .due_at(Utc::now() + chrono::Duration::hours(1)),
    )
    .await;
    let light_pending = enqueue(
        q,
        EnqueueRequest::new(Class::Light, "clipboard-backup", json!({})),
    )
    .await;

    // running: enqueue then claim it before the pending ones (its due time is earliest)
    let heavy_running = enqueue(
        q,
        EnqueueRequest::new(Class::Heavy, "multi-agent", json!({"topic": "pricing"}))
            .due_at(Utc::now() - chrono::Duration::minutes(5)),
    )
    .await;
    let claimed = q.claim(Class::Heavy, "macbook-1").await.unwrap().unwrap();
    assert_eq!(claimed.envelope.id, heavy_running);

    let light_done = run_to(
        q,
        EnqueueRequest::new(Class::Light, "content-ideation", json!({"day": "mon"})),
        Outcome::Done(json!({"ideas": ["a", "b"]})),
        TaskState::Done,
    )
    .await;
    let light_done_keyed = run_to(
        q,
        EnqueueRequest::new(Class::Light, "sync-check", json!({"slot": 1})).key("slot-1"),
        Outcome::Done(json!("ok")),
        TaskState::Done,
    )
    .await;
    let heavy_failed = run_to(
        q,
        EnqueueRequest::new(Class::Heavy, "multi-agent", json!({"topic": "x"})),
        Outcome::Fail {
            error: "handler exited 3: model quota exceeded".into(),
        },
        TaskState::Failed,
    )
    .await;
    let light_failed = run_to(
        q,
        EnqueueRequest::new(Class::Light, "log-analysis", json!({})).max_attempts(1),
        Outcome::Retry {
            error: "Traceback (most recent call last):\n  File \"x.py\"\nValueError: bad log line"
                .into(),
            after: None,
        },
        TaskState::Failed,
    )
    .await;

    // an object no worker can parse, quarantined as a worker would
    q.bucket()
        .put("light/pending/not-a-task.json", b"{oops".to_vec())
        .await
        .unwrap();
    q.quarantine(
        "light/pending/not-a-task.json",
        "object name is not {due}_{id}.json: name=light/pending/not-a-task.json",
    )
    .await
    .unwrap();

    let now = Utc::now();
    publish(q, "macbook-1", Class::Heavy, now, vec![heavy_running], true).await;
    publish(
        q,
        "vm-1",
        Class::Light,
        now - chrono::Duration::hours(3),
        vec![],
        true,
    )
    .await;

    Ids {
        heavy_pending_now,
        heavy_pending_later,
        light_pending,
        heavy_running,
        light_done,
        light_done_keyed,
        heavy_failed,
        light_failed,
    }
}

async fn enqueue(q: &Queue, req: EnqueueRequest) -> TaskId {
    q.enqueue(req).await.unwrap().id
}

/// Enqueue a task due before everything else, claim it and end it with `outcome`.
async fn run_to(q: &Queue, req: EnqueueRequest, outcome: Outcome, want: TaskState) -> TaskId {
    let id = enqueue(q, req.due_at(Utc::now() - chrono::Duration::hours(1))).await;
    let class = q.find(id).await.unwrap().envelope.class;
    let claimed = q.claim(class, "worker-test").await.unwrap().unwrap();
    assert_eq!(claimed.envelope.id, id, "claimed the task just enqueued");
    let done = q
        .complete(&claimed.lease, &claimed.envelope, outcome)
        .await
        .unwrap();
    assert_eq!(done.state, want);
    id
}

async fn publish(
    q: &Queue,
    id: &str,
    class: Class,
    last_seen: chrono::DateTime<Utc>,
    current_tasks: Vec<TaskId>,
    running: bool,
) {
    let doc = Presence {
        schema: 1,
        worker_id: id.into(),
        class,
        host: format!("{id}.local"),
        version: "0.1.0".into(),
        pid: 4242,
        started_at: last_seen - chrono::Duration::hours(2),
        last_seen,
        next_heartbeat_by: last_seen + chrono::Duration::seconds(60),
        current_tasks,
        concurrency: 1,
        running,
        extra: Default::default(),
    };
    presence::publish(q.bucket(), &doc).await.unwrap();
}

/// Not a test: writes the fixture into the directory named by `QUEUECTL_FIXTURE_DIR`, for
/// capturing real output in docs/operations.md:
/// `QUEUECTL_FIXTURE_DIR=some/dir cargo test -p queuectl --test cli -- --ignored write_fixture`
#[test]
#[ignore]
fn write_fixture() {
    let Some(dir) = std::env::var_os("QUEUECTL_FIXTURE_DIR") else {
        eprintln!("set QUEUECTL_FIXTURE_DIR to the directory to populate");
        return;
    };
    let ids = block_on(populate(&queue_at(Path::new(&dir))));
    eprintln!("{ids:#?}");
}
