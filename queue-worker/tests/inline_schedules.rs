//! An inline schedule (`run = "inline"`) inside the worker: the scheduler runs the kind's
//! handler from the handlers file (a real process), a failed run becomes a replayable failed
//! task with the handler's error, the hour's roll-up appears — and successful runs leave no
//! task behind.

mod common;

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use queue_core::schedule::inline::{Rollup, rollup_name};
use queue_core::schedule::{Scheduler, SchedulerSettings};
use queue_core::{Bucket, Class, Clock, ManualClock, TaskState, names};
use queue_worker::scheduler::{InlineHandlers, owner_id, upsert_file};
use queue_worker::{Handlers, Worker};
use tokio_util::sync::CancellationToken;

use common::{queue, settings, sh_command};

#[tokio::test]
async fn an_inline_schedule_runs_its_handler_records_failures_and_rolls_up_the_hour() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let t0 = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let clock = ManualClock::new(t0 - Duration::seconds(30));
    let bucket = Bucket::memory();
    let q = queue(
        bucket.clone(),
        Arc::new(clock.clone()),
        settings(std::time::Duration::from_secs(300)),
    );

    let schedules = work.join("schedules.toml");
    std::fs::write(
        &schedules,
        "[[schedule]]\nname = \"sync-check\"\ncron = \"*/5 * * * *\"\nclass = \"light\"\n\
         kind = \"sync-check\"\ncatch_up = \"skip\"\nrun = \"inline\"\n",
    )
    .unwrap();
    upsert_file(&q, &schedules).await.unwrap();

    // the handler appends its slot to `runs`, and fails while `down` exists
    let script = format!(
        "echo \"$QUEUE_TASK_KIND\" >> {runs}; if [ -e {down} ]; then echo 'nas unreachable' >&2; exit 65; fi; echo '{{\"in_sync\": true}}'",
        runs = work.join("runs").display(),
        down = work.join("down").display(),
    );
    let handlers = Handlers::parse(
        &format!("[handlers.sync-check]\ncommand = {}\n", sh_command(&script)),
        work,
        &work.join("handlers.toml"),
    )
    .unwrap();
    let worker = Arc::new(Worker::new(q.clone(), Class::Light, "vm", handlers));
    let stop = CancellationToken::new();
    let scheduler = Scheduler::new(q.clone(), SchedulerSettings::default())
        .with_inline(
            InlineHandlers::new(worker, stop.clone()),
            owner_id("vm", clock.now()),
        )
        .unwrap();

    let mut failed = Vec::new();
    for step in 0..=12 {
        clock.set(t0 + Duration::minutes(5 * step) + Duration::seconds(2));
        if step == 2 {
            std::fs::write(work.join("down"), "").unwrap();
        }
        let mut report = scheduler.run_once().await.unwrap();
        if step == 0 {
            // nobody ran the hour before: a new scheduler waits a minute for its roll-up
            assert!(report.ran.is_empty(), "{report:?}");
            clock.set(t0 + Duration::seconds(61));
            report = scheduler.run_once().await.unwrap();
        }
        if step == 2 {
            std::fs::remove_file(work.join("down")).unwrap();
        }
        assert!(report.errors.is_empty(), "{report:?}");
        assert_eq!(report.ran.len(), 1, "step {step}: {report:?}");
        failed.extend(report.ran.iter().filter_map(|r| r.failed_task));
    }

    let runs = std::fs::read_to_string(work.join("runs")).unwrap();
    assert_eq!(runs.lines().count(), 13, "{runs}");

    // the failure is an ordinary failed task, with the handler's error, and replays
    assert_eq!(failed.len(), 1);
    let found = q.find(failed[0]).await.unwrap();
    assert_eq!(found.location.state(), TaskState::Failed);
    assert!(
        found
            .envelope
            .last_error()
            .unwrap()
            .contains("nas unreachable"),
        "{found:?}"
    );
    assert_eq!(found.envelope.labels["slot"], "20260601T001000Z");
    let replayed = q.replay(failed[0]).await.unwrap();
    assert_eq!(
        q.find(replayed.id).await.unwrap().location.state(),
        TaskState::Pending
    );

    // the first hour's roll-up, written at the first slot of the next
    let object = bucket
        .get(&rollup_name("sync-check", t0))
        .await
        .unwrap()
        .unwrap();
    let rollup: Rollup = serde_json::from_slice(&object.bytes).unwrap();
    assert_eq!(
        (rollup.runs, rollup.successes, rollup.failures),
        (12, 11, 1)
    );
    assert_eq!(rollup.failed_tasks, failed);
    assert_eq!(
        rollup.last_result,
        Some(serde_json::json!({"in_sync": true}))
    );

    // successful runs left no task: nothing done, only the replayed failure pending
    let done = names::state_prefix(Class::Light, TaskState::Done);
    assert!(bucket.list(&done).await.unwrap().is_empty());
}
