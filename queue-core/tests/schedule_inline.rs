//! Inline schedules (`run = "inline"`), on the in-memory and the local-directory store: two
//! schedulers run every slot exactly once between them; the hourly roll-up is the only Class A
//! write of a healthy hour; a failed run becomes a replayable failed task; a scheduler that
//! cannot run the kind leaves the hours to one that can; when an hour's owner stops, the other
//! takes over at the next hour without running any slot twice.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use queue_core::schedule::inline::{Rollup, rollup_name};
use queue_core::schedule::{
    CatchUp, InlineOutcome, InlineRunner, RunMode, Schedule, ScheduleStore, Scheduler,
    SchedulerSettings, Spec,
};
use queue_core::store::counting::CountingStore;
use queue_core::{Bucket, Class, Clock, Envelope, ManualClock, Queue, Settings, TaskState};

/// Every run of every scheduler: slot → owners that ran it.
type Runs = Arc<Mutex<BTreeMap<DateTime<Utc>, Vec<String>>>>;

#[derive(Debug)]
struct Recorder {
    me: String,
    runs: Runs,
    can: bool,
    fail_at: Option<DateTime<Utc>>,
}

#[async_trait]
impl InlineRunner for Recorder {
    fn can_run(&self, _: &Schedule) -> bool {
        self.can
    }

    async fn run(&self, envelope: &Envelope) -> InlineOutcome {
        let slot = envelope.due_at;
        self.runs
            .lock()
            .unwrap()
            .entry(slot)
            .or_default()
            .push(self.me.clone());
        if Some(slot) == self.fail_at {
            InlineOutcome::Failed("sync target unreachable: host=nas.local".into())
        } else {
            InlineOutcome::Done(serde_json::json!({"in_sync": true}))
        }
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()
}

struct World {
    bucket: Bucket,
    counting: Arc<CountingStore>,
    clock: ManualClock,
    runs: Runs,
    _dir: Option<tempfile::TempDir>,
}

impl World {
    async fn new(local: bool) -> Self {
        let (base, dir) = if local {
            let dir = tempfile::tempdir().unwrap();
            (Bucket::local(dir.path()).unwrap(), Some(dir))
        } else {
            (Bucket::memory(), None)
        };
        let counting = Arc::new(CountingStore::new(base.object_store().clone()));
        let bucket = base.with_object_store(counting.clone());
        let clock = ManualClock::new(t0() - Duration::seconds(30));
        let sync = Schedule::new(
            "sync-check",
            Spec::parse_cron("*/5 * * * *").unwrap(),
            Class::Light,
            "sync-check",
            serde_json::json!({}),
            t0() - Duration::seconds(30),
        )
        .unwrap()
        .with_catch_up(CatchUp::Skip)
        .unwrap();
        let sync = Schedule {
            run: RunMode::Inline,
            ..sync
        };
        ScheduleStore::new(bucket.clone())
            .create(&sync)
            .await
            .unwrap();
        World {
            bucket,
            counting,
            clock,
            runs: Runs::default(),
            _dir: dir,
        }
    }

    fn queue(&self) -> Arc<Queue> {
        Arc::new(
            Queue::new(
                self.bucket.clone(),
                Arc::new(self.clock.clone()),
                Settings::default(),
            )
            .with_seed(3),
        )
    }

    fn scheduler(&self, me: &str, can: bool, fail_at: Option<DateTime<Utc>>) -> Scheduler {
        let runner = Arc::new(Recorder {
            me: me.to_string(),
            runs: self.runs.clone(),
            can,
            fail_at,
        });
        Scheduler::new(self.queue(), SchedulerSettings::default())
            .with_inline(runner, me)
            .unwrap()
    }

    /// Tick every scheduler once a minute until `until`.
    async fn run(&self, schedulers: &[&Scheduler], until: DateTime<Utc>) {
        while self.clock.now() < until {
            self.clock.advance(Duration::seconds(60));
            for s in schedulers {
                s.run_once().await.unwrap();
            }
        }
    }

    fn ran(&self) -> BTreeMap<DateTime<Utc>, Vec<String>> {
        self.runs.lock().unwrap().clone()
    }

    async fn rollup(&self, hour: DateTime<Utc>) -> Option<Rollup> {
        let object = self
            .bucket
            .get(&rollup_name("sync-check", hour))
            .await
            .unwrap()?;
        Some(serde_json::from_slice(&object.bytes).unwrap())
    }
}

fn slots(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut t = from;
    while t <= to {
        out.push(t);
        t += Duration::minutes(5);
    }
    out
}

async fn two_schedulers_run_each_slot_once(local: bool) {
    let w = World::new(local).await;
    let (a, b) = (
        w.scheduler("vm.1", true, None),
        w.scheduler("mac.1", true, None),
    );
    w.run(&[&a, &b], t0() + Duration::hours(1)).await;
    let start = w.counting.snapshot();
    w.run(&[&b, &a], t0() + Duration::hours(3)).await;
    let two_hours = w.counting.snapshot();

    let ran = w.ran();
    let expected = slots(t0(), t0() + Duration::hours(3));
    assert_eq!(ran.keys().copied().collect::<Vec<_>>(), expected);
    for (slot, by) in &ran {
        assert_eq!(by.len(), 1, "slot {slot} ran {by:?}");
    }
    // one roll-up per hour, naming its runs and the next hour's owner
    for h in 0..3 {
        let hour = t0() + Duration::hours(h);
        let r = w
            .rollup(hour)
            .await
            .unwrap_or_else(|| panic!("roll-up of {hour}"));
        assert_eq!((r.runs, r.successes, r.failures), (12, 12, 0), "{r:?}");
        assert_eq!(r.owner.as_deref(), Some(r.next_owner.as_str()));
        assert_eq!(r.last_result, Some(serde_json::json!({"in_sync": true})));
    }
    // the two hours after the first: one Class A write each, for both schedulers together
    let class_a = two_hours.class_a - start.class_a;
    assert_eq!(class_a, 2, "{start:?} -> {two_hours:?}");
}

async fn a_failed_run_becomes_a_replayable_failed_task(local: bool) {
    let w = World::new(local).await;
    let bad = t0() + Duration::minutes(20);
    let a = w.scheduler("vm.1", true, Some(bad));
    w.run(&[&a], t0() + Duration::hours(1)).await;

    let r = w.rollup(t0()).await.unwrap();
    assert_eq!((r.runs, r.successes, r.failures), (12, 11, 1));
    assert_eq!(r.failed_tasks.len(), 1);
    let id = r.failed_tasks[0];
    let queue = w.queue();
    let found = queue.find(id).await.unwrap();
    assert_eq!(found.location.state(), TaskState::Failed, "{found:?}");
    let env = found.envelope;
    assert_eq!(env.kind, "sync-check");
    assert_eq!(env.labels["slot"], "20260601T002000Z");
    assert_eq!(env.labels["inline"], "true");
    assert!(
        env.last_error()
            .unwrap()
            .contains("sync target unreachable"),
        "{env:?}"
    );
    // replayable like any failed task: back to pending, due now
    let replayed = queue.replay(id).await.unwrap();
    assert_eq!(replayed.kind, "sync-check");
    assert_eq!(
        queue.find(replayed.id).await.unwrap().location.state(),
        TaskState::Pending
    );
}

async fn the_hours_go_to_a_scheduler_that_can_run_the_kind(local: bool) {
    let w = World::new(local).await;
    let (a, b) = (
        w.scheduler("vm.1", false, None),
        w.scheduler("mac.1", true, None),
    );
    w.run(&[&a, &b], t0() + Duration::hours(2)).await;
    let ran = w.ran();
    assert_eq!(ran.len(), 25);
    assert!(
        ran.values().all(|by| by == &["mac.1".to_string()]),
        "{ran:?}"
    );
}

async fn when_the_owner_stops_the_other_takes_over_at_the_next_hour(local: bool) {
    let w = World::new(local).await;
    let (a, b) = (
        w.scheduler("vm.1", true, None),
        w.scheduler("mac.1", true, None),
    );
    // a ticks first, so a owns the first hour
    w.run(&[&a, &b], t0() + Duration::minutes(20)).await;
    assert!(w.ran().values().all(|by| by == &["vm.1".to_string()]));
    // a stops (the MacBook sleeps); b runs nothing more this hour
    w.run(&[&b], t0() + Duration::hours(2)).await;
    let ran = w.ran();
    for (slot, by) in &ran {
        assert_eq!(by.len(), 1, "slot {slot} ran {by:?}");
    }
    let by_b: Vec<_> = ran
        .iter()
        .filter(|(_, by)| by[0] == "mac.1")
        .map(|(s, _)| *s)
        .collect();
    let hour = t0() + Duration::hours(1);
    assert_eq!(by_b.first(), Some(&hour), "{ran:?}");
    assert_eq!(by_b.len(), 13);
    assert!(!ran.contains_key(&(t0() + Duration::minutes(30))));
    // b claimed hour 1 with an empty roll-up of hour 0 (a never wrote its counts)
    let r = w.rollup(t0()).await.unwrap();
    assert_eq!((r.owner, r.runs, r.next_owner.as_str()), (None, 0, "mac.1"));
}

macro_rules! on_backends {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test]
            async fn $case() {
                super::$case(false).await;
            })*
        }
        mod local_dir {
            $(#[tokio::test]
            async fn $case() {
                super::$case(true).await;
            })*
        }
    };
}

on_backends!(
    two_schedulers_run_each_slot_once,
    a_failed_run_becomes_a_replayable_failed_task,
    the_hours_go_to_a_scheduler_that_can_run_the_kind,
    when_the_owner_stops_the_other_takes_over_at_the_next_hour,
);
