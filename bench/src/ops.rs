//! Store operations, counted by GCS class with queue-core's `CountingStore`, on an in-memory
//! store and an injected clock (so nothing here waits in real time):
//!
//! - [`step_costs`]: each protocol step on its own (enqueue, claim, renew, complete, …);
//! - [`per_task`]: one worker running echo tasks through queue-worker's real discovery and
//!   runner (`Discovery::step`, `Worker::run_claimed`), either one at a time with the worker
//!   idle in between (minus the same worker's idle operations over the same time), or a
//!   backlog drained at once;
//! - idle workers per hour: [`crate::sim`] with no workload.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use queue_core::store::counting::{CountingStore, OpCounts};
use queue_core::wake::WakeWatcher;
use queue_core::{
    Bucket, Class, EnqueueRequest, ManualClock, Outcome, Queue, Settings, names, presence,
};
use queue_worker::discovery::Step;
use queue_worker::{Discovery, DiscoverySettings, Handlers, Worker};
use serde::Serialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::BenchResult;
use crate::fleet::ECHO;

/// One step's operations.
#[derive(Debug, Clone, Serialize)]
pub struct StepCost {
    /// What was done.
    pub step: String,
    /// Class A.
    pub class_a: u64,
    /// Class B.
    pub class_b: u64,
    /// Deletes.
    pub free: u64,
    /// By operation.
    pub ops: OpCounts,
}

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()
}

fn counted_memory() -> (Bucket, Arc<CountingStore>) {
    let bucket = Bucket::memory();
    let ops = Arc::new(CountingStore::new(bucket.object_store().clone()));
    (bucket.with_object_store(ops.clone()), ops)
}

struct Meter {
    ops: Arc<CountingStore>,
    out: Vec<StepCost>,
}

impl Meter {
    fn start(&self) {
        self.ops.reset();
    }

    fn record(&mut self, step: &str) {
        let ops = self.ops.snapshot();
        self.out.push(StepCost {
            step: step.to_string(),
            class_a: ops.class_a,
            class_b: ops.class_b,
            free: ops.free,
            ops,
        });
    }
}

/// Each protocol step's operations, measured one at a time.
pub async fn step_costs() -> BenchResult<Vec<StepCost>> {
    let (bucket, ops) = counted_memory();
    let clock = ManualClock::new(start_time());
    let settings = Settings::default();
    let queue = Queue::new(bucket.clone(), Arc::new(clock.clone()), settings.clone()).with_seed(1);
    let class = Class::Light;
    let mut m = Meter {
        ops,
        out: Vec::new(),
    };

    m.start();
    queue
        .enqueue(EnqueueRequest::new(class, ECHO, json!(1)))
        .await?;
    m.record("enqueue (first in its second: writes the wake-up object)");
    m.start();
    queue
        .enqueue(EnqueueRequest::new(class, ECHO, json!(2)))
        .await?;
    m.record("enqueue (same second: no wake-up write)");
    clock.advance(Duration::seconds(2));
    m.start();
    queue
        .enqueue(EnqueueRequest::new(class, ECHO, json!(3)).key("tg-update-1"))
        .await?;
    m.record("enqueue with an idempotency key");
    m.start();
    queue
        .enqueue(EnqueueRequest::new(class, ECHO, json!(3)).key("tg-update-1"))
        .await?;
    m.record("enqueue, key seen before (a redelivery)");

    let mut watcher = WakeWatcher::new();
    m.start();
    watcher.poll(&bucket, class).await?;
    m.record("wake-up poll of an idle worker");

    m.start();
    let candidates = queue.due_candidates(class).await?;
    m.record("listing of pending (per batch of up to 64 claims)");
    m.start();
    let claimed = queue
        .claim_from(class, "w1", &candidates)
        .await?
        .ok_or("nothing to claim")?;
    m.record("claim, from a listing");

    clock.advance(Duration::seconds(100));
    let (mut lease, envelope) = (claimed.lease, claimed.envelope);
    m.start();
    queue.renew(&mut lease, &envelope).await?;
    m.record("lease renewal (every lease TTL / 3 while the handler runs)");

    m.start();
    queue
        .complete(&lease, &envelope, Outcome::Done(json!({"ok": true})))
        .await?;
    m.record("complete (done)");

    m.start();
    queue.reclaim(class, "w1").await?;
    m.record("reclaim pass, fence still young");
    clock.advance(
        Duration::from_std(settings.lease_ttl + settings.max_clock_skew)? + Duration::seconds(1),
    );
    m.start();
    queue.reclaim(class, "w1").await?;
    m.record("reclaim pass collecting one task's fence");
    m.start();
    queue.reclaim(class, "w1").await?;
    m.record("reclaim pass, nothing running");

    let doc = |id: &str, class: Class| presence::Presence {
        schema: 1,
        worker_id: id.into(),
        class,
        host: "h".into(),
        version: "0".into(),
        pid: 1,
        started_at: clock_now(&clock),
        last_seen: clock_now(&clock),
        next_heartbeat_by: clock_now(&clock) + Duration::minutes(30),
        current_tasks: Vec::new(),
        concurrency: 1,
        running: true,
        extra: Default::default(),
    };
    m.start();
    presence::publish(&bucket, &doc("worker-light", Class::Light)).await?;
    m.record("presence write");
    presence::publish(&bucket, &doc("worker-heavy", Class::Heavy)).await?;
    m.start();
    presence::list(&bucket).await?;
    m.record("presence listing by the ingress (two workers)");
    m.start();
    bucket.head(&names::worker("worker-light")).await?;
    m.record("clock check at worker start (read-back of its presence)");
    Ok(m.out)
}

fn clock_now(clock: &ManualClock) -> DateTime<Utc> {
    use queue_core::Clock;
    clock.now()
}

/// Operations per task through one worker.
#[derive(Debug, Clone, Serialize)]
pub struct PerTaskOps {
    /// How the tasks came.
    pub pattern: String,
    /// Tasks run.
    pub tasks: u64,
    /// Producer (enqueue) Class A per task.
    pub enqueue_a: f64,
    /// Producer Class B per task.
    pub enqueue_b: f64,
    /// Worker Class A per task (discovery, claim, commit; idle polling subtracted).
    pub worker_a: f64,
    /// Worker Class B per task.
    pub worker_b: f64,
    /// Total Class A per task.
    pub total_a: f64,
    /// Total Class B per task.
    pub total_b: f64,
}

/// How tasks arrive in [`per_task`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// One every `spacing`, the worker idle in between.
    Spaced(StdDuration),
    /// All enqueued at once, then drained.
    Backlog,
}

/// Run `n` echo tasks through a worker with `discovery` settings on an injected clock over
/// `hours` simulated hours, and the same hours with no task; operations per task.
pub async fn per_task(
    n: u64,
    pattern: Pattern,
    discovery: DiscoverySettings,
    hours: i64,
) -> BenchResult<PerTaskOps> {
    let with = drive(n, pattern, &discovery, hours).await?;
    let idle = drive(0, pattern, &discovery, hours).await?;
    let per = |x: i64| (x as f64 / n.max(1) as f64 * 100.0).round() / 100.0;
    let worker_a = with.1.class_a as i64 - idle.1.class_a as i64;
    let worker_b = with.1.class_b as i64 - idle.1.class_b as i64;
    let (pa, pb) = (with.0.class_a as i64, with.0.class_b as i64);
    Ok(PerTaskOps {
        pattern: match pattern {
            Pattern::Spaced(d) => format!(
                "one every {}, worker idle in between",
                humantime::format_duration(d)
            ),
            Pattern::Backlog => format!("backlog of {n}, drained"),
        },
        tasks: n,
        enqueue_a: per(pa),
        enqueue_b: per(pb),
        worker_a: per(worker_a),
        worker_b: per(worker_b),
        total_a: per(pa + worker_a),
        total_b: per(pb + worker_b),
    })
}

/// (producer ops, worker ops) over `hours` with `n` tasks.
async fn drive(
    n: u64,
    pattern: Pattern,
    discovery: &DiscoverySettings,
    hours: i64,
) -> BenchResult<(OpCounts, OpCounts)> {
    let shared = Bucket::memory();
    let producer_ops = Arc::new(CountingStore::new(shared.object_store().clone()));
    let worker_ops = Arc::new(CountingStore::new(shared.object_store().clone()));
    let clock = ManualClock::new(start_time());
    let settings = Settings::default();
    let producer = Queue::new(
        shared.with_object_store(producer_ops.clone()),
        Arc::new(clock.clone()),
        settings.clone(),
    )
    .with_seed(5);
    let queue = Arc::new(
        Queue::new(
            shared.with_object_store(worker_ops.clone()),
            Arc::new(clock.clone()),
            settings,
        )
        .with_seed(6),
    );
    let class = Class::Light;
    let mut discovery = Discovery::new(class, "w1", discovery.clone(), &queue);
    let worker = Worker::new(queue.clone(), class, "w1", Handlers::builtin_only());
    let end = start_time() + Duration::hours(hours);
    // Arrival times (the worker starts at t0; the first task comes one spacing later).
    let mut arrivals: Vec<DateTime<Utc>> = match pattern {
        Pattern::Spaced(spacing) => {
            let spacing = Duration::from_std(spacing)?;
            (1..=n as i32).map(|i| start_time() + spacing * i).collect()
        }
        Pattern::Backlog => vec![start_time() + Duration::minutes(10); n as usize],
    };
    arrivals.reverse();
    let abort = CancellationToken::new();
    let mut next_step = start_time();
    loop {
        let next_arrival = arrivals.last().copied();
        let now = match next_arrival {
            Some(a) if a <= next_step => a,
            _ => next_step,
        };
        if now >= end {
            break;
        }
        clock.set(now);
        if next_arrival == Some(now) {
            arrivals.pop();
            producer
                .enqueue(EnqueueRequest::new(class, ECHO, json!({})))
                .await?;
            continue;
        }
        match discovery.step(&queue).await? {
            Step::Claimed(task) => {
                worker.run_claimed(*task, &abort).await;
                discovery.worked(now);
            }
            Step::Idle(wait) => next_step = now + Duration::from_std(wait)?,
        }
    }
    Ok((producer_ops.snapshot(), worker_ops.snapshot()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_step_is_measured() {
        let steps = step_costs().await.unwrap();
        let find = |prefix: &str| steps.iter().find(|s| s.step.starts_with(prefix)).unwrap();
        // a plain write and, first in its second, the wake-up write
        assert_eq!(find("enqueue (first").class_a, 2);
        assert_eq!(find("wake-up poll").class_b, 1);
        assert_eq!(find("presence write").class_a, 1);
    }

    #[tokio::test]
    async fn spaced_tasks_cost_the_same_as_the_sum_of_their_steps_roughly() {
        let r = per_task(
            12,
            Pattern::Spaced(StdDuration::from_secs(600)),
            DiscoverySettings::cloud(),
            3,
        )
        .await
        .unwrap();
        assert_eq!(r.tasks, 12);
        assert!(r.total_a >= 4.0 && r.total_a <= 8.0, "{r:?}");
    }
}
