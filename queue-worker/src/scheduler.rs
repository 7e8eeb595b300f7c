//! The scheduler inside a worker (worker-light runs it by default; `--no-scheduler` turns it
//! off, `--scheduler` turns it on in worker-heavy). The loop itself is queue-core's
//! [`Scheduler`]; this module loads the `--schedules` file into the store at start, runs
//! schedules marked `run = "inline"` with this worker's handlers ([`InlineHandlers`]), and
//! runs the loop until shutdown. Several schedulers may run at once: slot keys make each slot
//! one task, and an inline schedule's hourly roll-up decides which scheduler runs each hour.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use queue_core::schedule::scheduler::SchedulerSettings;
use queue_core::schedule::{
    InlineOutcome, InlineRunner, Schedule, ScheduleStore, Scheduler, Upserted, load_file,
};
use queue_core::{Envelope, Outcome, Queue};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::runner::Worker;

/// Write every schedule of `path` into the store (keeping what operators paused); returns
/// how many were created, updated and unchanged.
pub async fn upsert_file(queue: &Queue, path: &Path) -> queue_core::Result<[usize; 3]> {
    let now = queue.clock().now();
    let schedules = load_file(path, now)?;
    let store = ScheduleStore::new(queue.bucket().clone());
    let mut counts = [0; 3];
    for schedule in &schedules {
        let i = match store.upsert(schedule, now).await? {
            Upserted::Created => 0,
            Upserted::Updated => 1,
            Upserted::Unchanged => 2,
        };
        counts[i] += 1;
    }
    tracing::info!(
        file = %path.display(),
        created = counts[0],
        updated = counts[1],
        unchanged = counts[2],
        "schedules file loaded"
    );
    Ok(counts)
}

/// Runs inline schedules with the worker's handlers file and exec path (no lease, no
/// heartbeat; the scheduler records failures and the hourly roll-up).
#[derive(Debug)]
pub struct InlineHandlers {
    worker: Arc<Worker>,
    stop: CancellationToken,
}

impl InlineHandlers {
    /// Inline runs through `worker`'s handlers; `stop` (shutdown) stops a running handler.
    pub fn new(worker: Arc<Worker>, stop: CancellationToken) -> Arc<Self> {
        Arc::new(InlineHandlers { worker, stop })
    }
}

#[async_trait]
impl InlineRunner for InlineHandlers {
    fn can_run(&self, schedule: &Schedule) -> bool {
        self.worker.handles(&schedule.kind)
    }

    async fn run(&self, envelope: &Envelope) -> InlineOutcome {
        match self.worker.run_unleased(envelope, &self.stop).await {
            Outcome::Done(result) => InlineOutcome::Done(result),
            Outcome::Fail { error } | Outcome::Retry { error, .. } => InlineOutcome::Failed(error),
            // Nothing to put off: the next slot comes anyway.
            Outcome::Snooze { .. } => InlineOutcome::Done(serde_json::json!({"snoozed": true})),
        }
    }
}

/// The owner id of this scheduler instance in roll-ups: the worker id and the start time
/// (milliseconds), at most 64 characters — a valid worker id.
pub fn owner_id(worker_id: &str, started: DateTime<Utc>) -> String {
    let suffix = format!(".{}", started.timestamp_millis());
    let keep = 64usize.saturating_sub(suffix.len());
    let head: String = worker_id.chars().take(keep).collect();
    format!("{head}{suffix}")
}

/// Run the scheduler until `stop`, leaving inline schedules to schedulers that run them.
pub fn spawn(
    queue: Arc<Queue>,
    settings: SchedulerSettings,
    stop: CancellationToken,
) -> JoinHandle<()> {
    spawn_with_inline(queue, settings, None, stop)
}

/// Run the scheduler until `stop`; with `inline` (the runner and this instance's
/// [`owner_id`]), it runs inline schedules itself.
pub fn spawn_with_inline(
    queue: Arc<Queue>,
    settings: SchedulerSettings,
    inline: Option<(Arc<InlineHandlers>, String)>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    let mut scheduler = Scheduler::new(queue.clone(), settings.clone());
    if let Some((runner, owner)) = inline {
        scheduler = scheduler.with_inline(runner, owner).unwrap_or_else(|e| {
            tracing::error!(error = %e, "inline schedules are left to other schedulers");
            Scheduler::new(queue, settings)
        });
    }
    tokio::spawn(scheduler.run(stop.cancelled_owned()))
}
