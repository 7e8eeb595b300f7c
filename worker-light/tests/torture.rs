//! The torture test: several real worker-light processes share one store while hundreds of
//! tasks flow, and a killer SIGKILLs a random worker at random moments dozens of times (each
//! comes straight back, as systemd or launchd would restart it). At the end every task must
//! be done — exactly one committed result, from a handler run that finished — and nothing may
//! be pending, running, failed or quarantined. Handler runs may repeat (a killed worker's task
//! runs again after its lease expires): delivery is at least once, commits exactly once.
//!
//! Environment: `TORTURE_TASKS` (default 200), `TORTURE_KILLS` (30), `TORTURE_WORKERS` (3),
//! `TORTURE_SEED` (1). The S3 variant needs moto (`scripts/install-test-tools.sh`).
//! Numbers from runs are in docs/reliability.md.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use queue_core::inspect;
use queue_core::store::StoreEnv;
use queue_core::task::AttemptOutcome;
use queue_core::{Bucket, Class, EnqueueRequest, Queue, Settings, SystemClock, TaskId, TaskState};
use serde_json::{Value, json};
use testkit::process::Proc;

use common::Fixture;

const BIN: &str = env!("CARGO_BIN_EXE_worker-light");

/// Records each run's start and end; sleeps 0-300 ms; prints who ran which attempt.
const HANDLERS: &str = r#"
[handlers.work]
command = ["sh", "-c", "echo \"start $QUEUE_TASK_ID $QUEUE_TASK_ATTEMPT $QUEUE_WORKER_ID\" >> \"$DIR/runs\"; sleep 0.$(( $$ % 4 )); echo \"end $QUEUE_TASK_ID $QUEUE_TASK_ATTEMPT $QUEUE_WORKER_ID\" >> \"$DIR/runs\"; printf '{\"task\": \"%s\", \"attempt\": %s, \"by\": \"%s\"}' \"$QUEUE_TASK_ID\" \"$QUEUE_TASK_ATTEMPT\" \"$QUEUE_WORKER_ID\""]
env = { DIR = "{dir}" }
timeout = "30s"
"#;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} must be a number"))
        })
        .unwrap_or(default)
}

/// A small seeded generator: the kill schedule of a seed is the same every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Where the workers and the test meet.
struct Target<'a> {
    fixture: &'a Fixture,
    /// The `--store` value.
    store: String,
    /// Extra environment for the workers (the S3 endpoint and keys).
    env: Vec<(String, String)>,
    /// Discovery flags: fast on every store, so takeovers happen in seconds.
    flags: Vec<String>,
    /// The test's own view of the store.
    queue: Queue,
}

impl Target<'_> {
    fn start(&self, id: &str) -> Proc {
        let mut args = vec![
            "--store".to_string(),
            self.store.clone(),
            "--handlers".into(),
            self.fixture.handlers.display().to_string(),
            "--worker-id".into(),
            id.into(),
        ];
        args.extend(common::TEST_FLAGS.iter().map(|s| s.to_string()));
        args.extend(self.flags.iter().cloned());
        let mut vars: Vec<(String, String)> = vec![
            ("RUST_LOG".into(), "warn".into()),
            ("TELEGRAM_BOT_TOKEN".into(), String::new()),
        ];
        vars.extend(self.env.iter().cloned());
        Proc::spawn(BIN, args, vars, self.fixture.dir.path(), id)
    }

    async fn enqueue(&self, n: usize) -> TaskId {
        let req = EnqueueRequest::new(Class::Light, "work", json!({ "n": n }));
        self.queue.enqueue(req).await.unwrap().id
    }
}

fn flags() -> Vec<String> {
    [
        "--lease-ttl",
        "2s",
        "--concurrency",
        "2",
        "--idle-poll",
        "100ms",
        "--busy-poll",
        "50ms",
        "--list-every",
        "1s",
        "--reclaim-every",
        "500ms",
        "--no-scheduler",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

async fn torture(target: Target<'_>, tasks: usize, kills: usize, workers: usize, seed: u64) {
    let started = Instant::now();
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut ids = Vec::with_capacity(tasks);
    for n in 0..tasks / 2 {
        ids.push(target.enqueue(n).await);
    }
    let names: Vec<String> = (0..workers).map(|i| format!("torture-{i}")).collect();
    let mut procs: Vec<Proc> = names.iter().map(|n| target.start(n)).collect();

    // Kill a random worker at a random moment, restart it, and keep enqueueing meanwhile.
    let mut next = tasks / 2;
    for k in 0..kills {
        tokio::time::sleep(Duration::from_millis(150 + rng.below(650))).await;
        let i = rng.below(workers as u64) as usize;
        procs[i].signal(Signal::SIGKILL);
        procs[i].wait_exit().await;
        procs[i] = target.start(&names[i]);
        let due = tasks / 2 + (k + 1) * (tasks - tasks / 2) / kills.max(1);
        while next < due.min(tasks) {
            ids.push(target.enqueue(next).await);
            next += 1;
        }
    }
    while next < tasks {
        ids.push(target.enqueue(next).await);
        next += 1;
    }

    // Then let them drain: every task done, nothing anywhere else.
    let deadline = Instant::now() + Duration::from_secs(240);
    let stats = loop {
        let stats = inspect::stats(target.queue.bucket()).await.unwrap();
        let l = &stats.light;
        if l.done == tasks && l.pending == 0 && l.running == 0 {
            break stats;
        }
        assert!(
            Instant::now() < deadline,
            "stuck: tasks={tasks} stats={stats:?} after {kills} kills"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((stats.light.failed, stats.invalid), (0, 0), "{stats:?}");

    // Exactly one committed result per task, from a run that finished.
    let runs = target.fixture.lines("runs");
    let mut starts: BTreeMap<String, usize> = BTreeMap::new();
    for line in runs.iter().filter(|l| l.starts_with("start ")) {
        let id = line.split_whitespace().nth(1).unwrap().to_string();
        *starts.entry(id).or_default() += 1;
    }
    for id in &ids {
        let found = target.queue.find(*id).await.unwrap();
        assert_eq!(found.location.state(), TaskState::Done, "task {id}");
        let env = found.envelope;
        let done: Vec<_> = env
            .attempts
            .iter()
            .filter(|a| a.outcome == Some(AttemptOutcome::Done))
            .collect();
        assert_eq!(done.len(), 1, "task {id}: {:?}", env.attempts);
        let result = env.result.clone().expect("a result");
        assert_eq!(result["task"], Value::from(id.to_string()), "task {id}");
        assert_eq!(result["attempt"], Value::from(env.attempt), "task {id}");
        let by = result["by"].as_str().unwrap();
        let end = format!("end {id} {} {by}", env.attempt);
        assert!(
            runs.contains(&end),
            "task {id}: the committed result's run never finished ({end:?})"
        );
    }
    let reruns = starts.values().filter(|n| **n > 1).count();
    let extra: usize = starts.values().map(|n| n - 1).sum();
    println!(
        "torture store={} tasks={tasks} workers={workers} kills={kills} seed={seed}: all done exactly once in {:.1}s; {reruns} tasks ran more than once ({extra} extra runs, at-least-once delivery)",
        target.store,
        started.elapsed().as_secs_f64()
    );
    for mut p in procs {
        p.signal(Signal::SIGTERM);
        p.wait_exit().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_torture_on_a_local_directory() {
    let fixture = Fixture::new(BIN, HANDLERS);
    let target = Target {
        fixture: &fixture,
        store: fixture.store.display().to_string(),
        env: Vec::new(),
        flags: flags(),
        queue: Queue::new(
            Bucket::local(&fixture.store).unwrap(),
            std::sync::Arc::new(SystemClock),
            Settings::default(),
        ),
    };
    torture(
        target,
        env_usize("TORTURE_TASKS", 200),
        env_usize("TORTURE_KILLS", 30),
        env_usize("TORTURE_WORKERS", 3),
        env_usize("TORTURE_SEED", 1) as u64,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_torture_on_s3() {
    let moto = testkit::moto::MotoServer::shared();
    let fixture = Fixture::new(BIN, HANDLERS);
    let env: Vec<(String, String)> = moto.store_env();
    let url = format!("s3://{}/torture", moto.new_bucket());
    let bucket = Bucket::open(
        &url,
        &StoreEnv {
            vars: env.iter().cloned().collect(),
        },
    )
    .await
    .unwrap();
    let target = Target {
        fixture: &fixture,
        store: url,
        env,
        flags: flags(),
        queue: Queue::new(
            bucket,
            std::sync::Arc::new(SystemClock),
            Settings::default(),
        ),
    };
    torture(
        target,
        env_usize("TORTURE_TASKS", 200) / 2,
        env_usize("TORTURE_KILLS", 30) / 2,
        env_usize("TORTURE_WORKERS", 3),
        env_usize("TORTURE_SEED", 1) as u64,
    )
    .await;
}
