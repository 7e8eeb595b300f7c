//! A local-directory store in a temporary directory, a handlers file, and the real worker
//! binary started against them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use queue_core::inspect::Found;
use queue_core::{Bucket, Class, EnqueueRequest, Queue, Settings, SystemClock, TaskId, TaskState};
use serde_json::Value;
use testkit::process::{DEFAULT_DEADLINE, Proc, wait_for};

/// The lease for tests that do not need a takeover: long enough that a loaded machine never
/// misses a renewal. Tests of takeovers pass `--lease-ttl 3s`.
pub const DEFAULT_TEST_TTL: &str = "10s";

/// Flags every test worker gets: a short skew so takeovers happen in seconds, fast retries, and
/// JSON logs the tests can search.
pub const TEST_FLAGS: &[&str] = &[
    "--max-clock-skew",
    "1s",
    "--retry-backoff",
    "100ms",
    "--kill-grace",
    "1s",
    "--log-format",
    "json",
];

/// One test's world.
pub struct Fixture {
    /// Holds everything; removed at the end.
    pub dir: tempfile::TempDir,
    /// The store directory.
    pub store: PathBuf,
    /// The handlers file.
    pub handlers: PathBuf,
    /// A queue over the same store, for enqueueing and inspecting.
    pub queue: Arc<Queue>,
    binary: &'static str,
}

impl Fixture {
    /// A store and a handlers file; `handlers` may use `{dir}` for the test directory.
    pub fn new(binary: &'static str, handlers: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let handlers_file = dir.path().join("handlers.toml");
        std::fs::write(
            &handlers_file,
            handlers.replace("{dir}", &dir.path().display().to_string()),
        )
        .unwrap();
        let queue = Arc::new(Queue::new(
            Bucket::local(&store).unwrap(),
            Arc::new(SystemClock),
            Settings::default(),
        ));
        Fixture {
            dir,
            store,
            handlers: handlers_file,
            queue,
            binary,
        }
    }

    /// A file in the test directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write an executable shell script into the test directory; returns its path.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        path
    }

    /// Start the worker with the test flags, `--worker-id id`, and `extra` flags.
    pub fn start(&self, id: &str, extra: &[&str], env: &[(&str, &str)]) -> Proc {
        let mut args: Vec<String> = vec![
            "--store".into(),
            self.store.display().to_string(),
            "--handlers".into(),
            self.handlers.display().to_string(),
            "--worker-id".into(),
            id.into(),
        ];
        args.extend(TEST_FLAGS.iter().map(|s| s.to_string()));
        if !extra.contains(&"--lease-ttl") {
            args.extend(["--lease-ttl".to_string(), DEFAULT_TEST_TTL.to_string()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut vars: Vec<(String, String)> = vec![
            ("RUST_LOG".into(), "info".into()),
            ("TELEGRAM_BOT_TOKEN".into(), String::new()),
        ];
        vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Proc::spawn(self.binary, args, vars, self.dir.path(), id)
    }

    /// Enqueue a light task.
    pub async fn enqueue(&self, class: Class, kind: &str, payload: Value) -> TaskId {
        self.enqueue_req(EnqueueRequest::new(class, kind, payload))
            .await
    }

    /// Enqueue a request.
    pub async fn enqueue_req(&self, req: EnqueueRequest) -> TaskId {
        self.queue.enqueue(req).await.unwrap().id
    }

    /// Where the task is now.
    pub async fn find(&self, id: TaskId) -> Found {
        self.queue.find(id).await.unwrap()
    }

    /// Wait until the task is in `state`; returns it.
    pub async fn wait_state(&self, id: TaskId, state: TaskState) -> Found {
        let deadline = Instant::now() + DEFAULT_DEADLINE;
        let mut last = None;
        loop {
            if let Ok(found) = self.queue.find(id).await {
                if found.location.state() == state {
                    return found;
                }
                last = Some(found.location);
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for task {id} to be {state}; last seen: {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The lines of a side-effect file written by handlers.
    pub fn lines(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.path(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Wait until a side-effect file has a line starting with `prefix`; returns the line.
    pub async fn wait_line(&self, name: &str, prefix: &str) -> String {
        let what = format!("a line starting with {prefix:?} in {name}");
        wait_for(&what, || {
            self.lines(name).into_iter().find(|l| l.starts_with(prefix))
        })
        .await
    }

    /// The store directory as a bucket.
    pub fn bucket(&self) -> &Bucket {
        self.queue.bucket()
    }
}

/// The pid a handler wrote after `prefix ` in a line.
pub fn pid_in(line: &str) -> i32 {
    line.split_whitespace().last().unwrap().parse().unwrap()
}

/// Touch a file.
pub fn touch(path: &Path) {
    std::fs::write(path, b"").unwrap();
}

/// The binary's `--help`, checked to exit 0.
pub fn help_text(bin: &str) -> String {
    let out = std::process::Command::new(bin)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{bin} --help failed");
    String::from_utf8(out.stdout).unwrap()
}
