//! Scale-out: the same backlog drained by more and more worker slots on the 50 ms store (a
//! GCS-like round trip), spread over several workers — in-process [`Worker`](queue_worker::Worker)
//! instances, each with its own `Queue`, id and discovery loop, as separate processes would
//! have (processes would add nothing the store sees, and 64 of them do not fit two cores).
//!
//! For each shape: tasks per second, Class A per task, and lost races per task (a claim
//! create refused because another worker was first, or a pending object already gone when
//! read) — the measure of how much the workers get in each other's way.

use std::time::{Duration, Instant};

use queue_core::{Class, Settings};
use serde::Serialize;

use crate::BenchResult;
use crate::done_watch::LostRaces;
use crate::fleet::{Fleet, FleetConfig, enqueue_echo, producer};
use crate::store::{StoreFactory, StoreKind};
use crate::throughput::PerTask;

/// One shape: `workers` workers with `concurrency` slots each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shape {
    /// Workers.
    pub workers: usize,
    /// Slots per worker.
    pub concurrency: usize,
}

impl Shape {
    /// Slots in all.
    pub fn slots(self) -> usize {
        self.workers * self.concurrency
    }
}

/// The shapes measured: 1, 4, 16 and 64 slots over 1, 2, 4 and 8 workers.
pub const SHAPES: [Shape; 4] = [
    Shape {
        workers: 1,
        concurrency: 1,
    },
    Shape {
        workers: 2,
        concurrency: 2,
    },
    Shape {
        workers: 4,
        concurrency: 4,
    },
    Shape {
        workers: 8,
        concurrency: 8,
    },
];

/// What one shape measured.
#[derive(Debug, Clone, Serialize)]
pub struct ScalePoint {
    /// The shape.
    pub workers: usize,
    /// Slots per worker.
    pub concurrency: usize,
    /// Slots in all.
    pub slots: usize,
    /// Tasks drained.
    pub tasks: usize,
    /// Seconds from the first worker's start to the last task in `done/`.
    pub seconds: f64,
    /// Tasks per second.
    pub tasks_per_s: f64,
    /// Operations per task while draining.
    pub ops_per_task: PerTask,
    /// Lost races per task: refused creates.
    pub failed_creates_per_task: f64,
    /// Lost races per task: pending objects gone when read.
    pub vanished_reads_per_task: f64,
}

/// Drain `tasks` echo tasks with `shape` on a fresh store of `kind`.
pub async fn drain(
    kind: StoreKind,
    shape: Shape,
    tasks: usize,
    timeout: Duration,
) -> BenchResult<ScalePoint> {
    let factory = StoreFactory::new(kind);
    let store = factory.fresh().await?;
    let settings = Settings::default();
    let class = Class::Light;
    enqueue_echo(&producer(&store.bucket, &settings), class, tasks, 64).await?;
    store.ops.reset();
    store.done.reset();
    let t = Instant::now();
    let fleet = Fleet::start(
        &store.bucket,
        &FleetConfig {
            class,
            workers: shape.workers,
            concurrency: shape.concurrency,
            settings: settings.clone(),
            discovery: kind.discovery(settings.lease_ttl),
        },
    );
    let finished = store.done.wait_for(tasks as u64, timeout).await;
    let seconds = t.elapsed().as_secs_f64();
    let ops = store.ops.snapshot();
    let races: LostRaces = store.done.lost_races();
    fleet.stop().await;
    if !finished {
        return Err(format!(
            "only {} of {tasks} tasks reached done/ within {timeout:?} ({shape:?})",
            store.done.count()
        )
        .into());
    }
    let per = |n: u64| (n as f64 / tasks as f64 * 100.0).round() / 100.0;
    Ok(ScalePoint {
        workers: shape.workers,
        concurrency: shape.concurrency,
        slots: shape.slots(),
        tasks,
        seconds: (seconds * 1000.0).round() / 1000.0,
        tasks_per_s: (tasks as f64 / seconds * 10.0).round() / 10.0,
        ops_per_task: PerTask::of(&ops, tasks),
        failed_creates_per_task: per(races.failed_creates),
        vanished_reads_per_task: per(races.vanished_reads),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smoke run: more slots drain a small backlog completely, and lost races are counted
    /// (not timed: machines are noisy).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_slots_drain_everything_and_races_are_counted() {
        let shape = Shape {
            workers: 4,
            concurrency: 2,
        };
        let p = drain(StoreKind::LocalTmpfs, shape, 60, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!((p.slots, p.tasks), (8, 60));
        assert!(p.tasks_per_s > 0.0);
        assert!(p.ops_per_task.class_a >= 1.0, "{p:?}");
    }
}
