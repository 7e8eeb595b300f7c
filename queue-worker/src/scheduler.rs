//! The scheduler inside a worker (worker-light runs it by default; `--no-scheduler` turns it
//! off, `--scheduler` turns it on in worker-heavy). The loop itself is queue-core's
//! [`Scheduler`]; this module loads the `--schedules` file into the store at start and runs
//! the loop until shutdown. Several schedulers may run at once: slot keys make each slot one
//! task.

use std::path::Path;
use std::sync::Arc;

use queue_core::Queue;
use queue_core::schedule::scheduler::SchedulerSettings;
use queue_core::schedule::{ScheduleStore, Scheduler, Upserted, load_file};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

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

/// Run the scheduler until `stop`.
pub fn spawn(
    queue: Arc<Queue>,
    settings: SchedulerSettings,
    stop: CancellationToken,
) -> JoinHandle<()> {
    let scheduler = Scheduler::new(queue, settings);
    tokio::spawn(scheduler.run(stop.cancelled_owned()))
}
