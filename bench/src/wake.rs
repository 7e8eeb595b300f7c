//! Pickup latency by wake-up source, side by side in one run (issue 13): an in-process worker
//! running queue-worker's real runner, discovery and wake-up source, on
//!
//! - `memory-50ms` (every store call 50 ms, a GCS-like round trip) with `poll` (the cloud
//!   cadence: wake-up object read every 1 s doubling to 30 s) and with `pubsub` (the real
//!   Pub/Sub emulator; the producer publishes the notification exactly as Cloud Storage would,
//!   right after its enqueue — real GCS adds its own notification delay, not measured here);
//! - `local` (a directory) with `poll` (200 ms) and with `fs` (filesystem events).
//!
//! Method as `process`'s pickup: one echo task at a time, each a random gap after the previous
//! one finished (seeded; on the 50 ms store 2–20 s, so the poll has backed off as an idle
//! worker's has; on the directory 0.3–0.8 s, so that enqueues often come within a second of
//! the last wake-up write, which is then skipped — the poll's weak spot that filesystem events
//! do not have); pickup = the attempt's `started_at` − the envelope's `created_at`.
//! The store operations of the whole run are divided by the tasks (the done objects are read
//! back after counting stops).

use std::sync::Arc;
use std::time::Duration;

use queue_core::{Class, EnqueueRequest, Envelope, Queue, Settings, SystemClock, TaskId, names};
use queue_worker::discovery::Discovery;
use queue_worker::handlers::Handlers;
use queue_worker::runner::Worker;
use queue_worker::wake::{fs, pubsub};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;
use testkit::pubsub::PubsubEmulator;
use tokio_util::sync::CancellationToken;

use crate::BenchResult;
use crate::process::pickup_ms;
use crate::stats::{Summary, round3};
use crate::store::{StoreFactory, StoreKind};

/// The bucket name the notifications carry.
const BUCKET: &str = "bench-bucket";

/// One row: a store and a wake-up source.
#[derive(Debug, Clone, Serialize)]
pub struct WakeRow {
    /// `memory-50ms` or `local`.
    pub store: String,
    /// `poll`, `fs` or `pubsub`.
    pub wake: String,
    /// Pickup latency, ms.
    pub pickup: Option<Summary>,
    /// Class A operations per task (enqueue, claim, commit, discovery).
    pub class_a_per_task: f64,
    /// Class B operations per task.
    pub class_b_per_task: f64,
}

/// How many tasks, and the idle gap before each (seconds, uniform).
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Tasks per row.
    pub samples: usize,
    /// Gap before each task.
    pub gap: (f64, f64),
}

/// Measure every (store, source) pair: `cloud` for the 50 ms store (gaps long enough for the
/// poll to back off, as an idle worker's does), `local` for the directory.
pub async fn measure(cloud: Plan, local: Plan) -> BenchResult<Vec<WakeRow>> {
    let emulator = PubsubEmulator::start_or_skip("the pubsub rows of the wake benchmark");
    let mut rows = Vec::new();
    for (kind, wake) in [
        (StoreKind::Memory50ms, "poll"),
        (StoreKind::Memory50ms, "pubsub"),
        (StoreKind::Local, "poll"),
        (StoreKind::Local, "fs"),
    ] {
        let plan = if kind == StoreKind::Local {
            local
        } else {
            cloud
        };
        if plan.samples == 0 || (wake == "pubsub" && emulator.is_none()) {
            continue;
        }
        eprintln!("wake: {kind} + {wake}, {} tasks", plan.samples);
        rows.push(one(kind, wake, emulator.as_ref(), plan.samples, plan.gap).await?);
    }
    Ok(rows)
}

async fn one(
    kind: StoreKind,
    wake: &str,
    emulator: Option<&PubsubEmulator>,
    samples: usize,
    gap: (f64, f64),
) -> BenchResult<WakeRow> {
    let class = Class::Heavy;
    let store = StoreFactory::new(kind).fresh().await?;
    let push = wake != "poll";
    let settings = Settings {
        wake_writes: wake != "pubsub",
        ..Settings::default()
    };
    let clock = Arc::new(SystemClock);
    let queue = Arc::new(Queue::new(
        store.bucket.clone(),
        clock.clone(),
        settings.clone(),
    ));
    let producer = Queue::new(store.bucket.clone(), clock, settings.clone());
    let mut discovery_settings = kind.discovery(settings.lease_ttl);
    if push {
        discovery_settings.list_every = Duration::from_secs(3600);
    }
    let stop = CancellationToken::new();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut sub = None;
    match (wake, emulator) {
        ("fs", _) => {
            let dir = store.dir().ok_or("fs needs a local store")?.to_path_buf();
            fs::spawn(dir, class, tx.clone(), stop.clone());
        }
        ("pubsub", Some(emulator)) => {
            let s = emulator.new_subscription().await;
            let client =
                pubsub::PubsubClient::new(&format!("http://{}", emulator.host()), &s.name, None)?;
            let scope = pubsub::Scope {
                bucket: BUCKET.into(),
                prefix: String::new(),
                class,
            };
            pubsub::spawn(client, scope, tx.clone(), stop.clone());
            sub = Some(s);
        }
        _ => {}
    }
    let discovery = Discovery::new(class, "bench-w", discovery_settings, &queue).with_wakes(rx);
    let worker = Arc::new(Worker::new(
        queue.clone(),
        class,
        "bench-w",
        Handlers::builtin_only(),
    ));
    let run = tokio::spawn(worker.run(discovery, stop.clone(), Duration::from_secs(1)));
    // start-up: the first listing, the reclaim pass, the push source's check
    tokio::time::sleep(Duration::from_secs(3)).await;
    store.ops.reset();
    store.done.reset();

    let mut rng = SmallRng::seed_from_u64(13);
    let mut ids: Vec<TaskId> = Vec::with_capacity(samples);
    for i in 0..samples {
        tokio::time::sleep(Duration::from_secs_f64(rng.random_range(gap.0..gap.1))).await;
        let task = producer
            .enqueue(EnqueueRequest::new(class, "echo", json!({ "pickup": i })))
            .await?;
        if let (Some(emulator), Some(sub)) = (emulator, &sub) {
            let name = names::pending(class, task.envelope.due_at, task.id);
            emulator.publish_finalize(sub, BUCKET, &name).await;
        }
        if !store
            .done
            .wait_for(i as u64 + 1, Duration::from_secs(120))
            .await
        {
            return Err(format!("{kind} + {wake}: task {i} not done within 2 min").into());
        }
        ids.push(task.id);
    }
    let ops = store.ops.snapshot();
    stop.cancel();
    drop(tx);
    run.await?;

    let mut pickups = Vec::with_capacity(ids.len());
    for id in ids {
        let object = store
            .bucket
            .get(&names::done(class, id))
            .await?
            .ok_or("a done task vanished")?;
        pickups.push(pickup_ms(&Envelope::from_json(&object.bytes)?)?);
    }
    let per_task = |n: u64| round3(n as f64 / samples.max(1) as f64);
    Ok(WakeRow {
        store: kind.as_str().to_string(),
        wake: wake.to_string(),
        pickup: Summary::of(&pickups),
        class_a_per_task: per_task(ops.class_a),
        class_b_per_task: per_task(ops.class_b),
    })
}
