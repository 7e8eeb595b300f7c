//! Tasks per second through the whole lifecycle — enqueue, claim, the built-in no-op handler,
//! complete — with N in-process workers ([`crate::fleet`]).
//!
//! Two ways to time it:
//! - **end to end**: the workers start and settle (their first listing and reclaim pass), then a
//!   producer enqueues N tasks (up to `producer_concurrency` in flight) while the workers run;
//!   the clock runs from the first enqueue to the N-th task in done/.
//! - **drain**: N tasks are enqueued first; the clock runs from starting the workers to the
//!   N-th task in done/. The workers' own speed, without the producer.
//!
//! Store operations are counted over the timed part and divided by N.

use std::time::{Duration, Instant};

use queue_core::store::counting::OpCounts;
use queue_core::{Class, Settings};
use serde::Serialize;

use crate::BenchResult;
use crate::fleet::{Fleet, FleetConfig, enqueue_echo, producer};
use crate::stats::round1;
use crate::store::StoreFactory;

/// How the clock is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Producer and workers at once.
    EndToEnd,
    /// A backlog drained by the workers.
    Drain,
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "e2e" | "end-to-end" => Ok(Mode::EndToEnd),
            "drain" => Ok(Mode::Drain),
            _ => Err(format!("unknown mode: {s} (expected e2e or drain)")),
        }
    }
}

/// One measurement to make.
#[derive(Debug, Clone)]
pub struct Run {
    /// Timing.
    pub mode: Mode,
    /// Workers.
    pub workers: usize,
    /// Slots per worker.
    pub concurrency: usize,
    /// Tasks.
    pub tasks: usize,
    /// Enqueues in flight at once.
    pub producer_concurrency: usize,
    /// Give up after this long.
    pub timeout: Duration,
}

/// Operations per task, by GCS class.
#[derive(Debug, Clone, Serialize)]
pub struct PerTask {
    /// Class A (writes, listings) per task.
    pub class_a: f64,
    /// Class B (reads) per task.
    pub class_b: f64,
    /// Deletes per task.
    pub free: f64,
}

impl PerTask {
    /// `ops` divided by `tasks`, two decimals.
    pub fn of(ops: &OpCounts, tasks: usize) -> PerTask {
        let per = |n: u64| (n as f64 / tasks.max(1) as f64 * 100.0).round() / 100.0;
        PerTask {
            class_a: per(ops.class_a),
            class_b: per(ops.class_b),
            free: per(ops.free),
        }
    }
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// The store.
    pub store: String,
    /// Timing.
    pub mode: Mode,
    /// Workers.
    pub workers: usize,
    /// Slots per worker.
    pub concurrency: usize,
    /// Tasks.
    pub tasks: usize,
    /// Timed seconds.
    pub seconds: f64,
    /// Tasks per second.
    pub tasks_per_s: f64,
    /// Enqueues per second of the producer (end to end: while the workers ran).
    pub enqueue_per_s: f64,
    /// Operations per task over the timed part (end to end: producer and workers).
    pub ops_per_task: PerTask,
}

/// Make one measurement on a fresh store from `factory`.
pub async fn measure(factory: &StoreFactory, run: &Run) -> BenchResult<Measured> {
    let class = Class::Light;
    let store = factory.fresh().await?;
    let settings = Settings::default();
    let fleet_config = FleetConfig {
        class,
        workers: run.workers,
        concurrency: run.concurrency,
        settings: settings.clone(),
        discovery: factory.kind().discovery(settings.lease_ttl),
    };
    let producer = producer(&store.bucket, &settings);
    let n = run.tasks as u64;
    let (seconds, enqueue_seconds, fleet) = match run.mode {
        Mode::Drain => {
            let t = Instant::now();
            enqueue_echo(&producer, class, run.tasks, run.producer_concurrency).await?;
            let enqueue_seconds = t.elapsed().as_secs_f64();
            store.ops.reset();
            let t = Instant::now();
            let fleet = Fleet::start(&store.bucket, &fleet_config);
            wait_done(&store.done, n, run.timeout).await?;
            (t.elapsed().as_secs_f64(), enqueue_seconds, fleet)
        }
        Mode::EndToEnd => {
            let fleet = Fleet::start(&store.bucket, &fleet_config);
            // Let the workers make their start-up listing and reclaim pass.
            tokio::time::sleep(Duration::from_millis(500)).await;
            store.ops.reset();
            let t = Instant::now();
            enqueue_echo(&producer, class, run.tasks, run.producer_concurrency).await?;
            let enqueue_seconds = t.elapsed().as_secs_f64();
            wait_done(&store.done, n, run.timeout).await?;
            (t.elapsed().as_secs_f64(), enqueue_seconds, fleet)
        }
    };
    let ops = store.ops.snapshot();
    fleet.stop().await;
    Ok(Measured {
        store: factory.kind().to_string(),
        mode: run.mode,
        workers: run.workers,
        concurrency: run.concurrency,
        tasks: run.tasks,
        seconds: (seconds * 1000.0).round() / 1000.0,
        tasks_per_s: round1(run.tasks as f64 / seconds),
        enqueue_per_s: round1(run.tasks as f64 / enqueue_seconds),
        ops_per_task: PerTask::of(&ops, run.tasks),
    })
}

async fn wait_done(
    done: &crate::done_watch::DoneWatch,
    n: u64,
    timeout: Duration,
) -> BenchResult<()> {
    if done.wait_for(n, timeout).await {
        Ok(())
    } else {
        Err(format!(
            "only {} of {n} tasks reached done/ within {timeout:?}",
            done.count()
        )
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_task_divides_and_rounds() {
        let ops = OpCounts {
            class_a: 10,
            class_b: 7,
            free: 3,
            ..OpCounts::default()
        };
        let p = PerTask::of(&ops, 3);
        assert_eq!((p.class_a, p.class_b, p.free), (3.33, 2.33, 1.0));
        assert_eq!("e2e".parse::<Mode>().unwrap(), Mode::EndToEnd);
        assert!("fast".parse::<Mode>().is_err());
    }
}
