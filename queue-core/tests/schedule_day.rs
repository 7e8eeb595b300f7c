//! Two schedulers over one bucket through a simulated day: every slot of every schedule is
//! enqueued exactly once, and idle ticks cost no store operations.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use queue_core::schedule::{
    RunMode, Schedule, ScheduleStore, Scheduler, SchedulerSettings, parse_toml, slot_key,
};
use queue_core::store::counting::{CountedOp, CountingStore};
use queue_core::store::faulty::{Fault, FaultRule, FaultyStore, Op};
use queue_core::{Bucket, Clock, Envelope, ManualClock, Queue, Settings};

fn scheduler(bucket: &Bucket, clock: &ManualClock, seed: u64) -> Scheduler {
    let queue =
        Queue::new(bucket.clone(), Arc::new(clock.clone()), Settings::default()).with_seed(seed);
    Scheduler::new(Arc::new(queue), SchedulerSettings::default())
}

async fn pending_tasks(bucket: &Bucket) -> Vec<Envelope> {
    let mut out = Vec::new();
    for prefix in ["light/pending/", "heavy/pending/"] {
        for info in bucket.list(prefix).await.unwrap() {
            let object = bucket.get(&info.name).await.unwrap().unwrap();
            out.push(Envelope::from_json(&object.bytes).unwrap());
        }
    }
    out
}

/// The example file's schedules, all as tasks: these cases are about slots becoming tasks
/// (the inline sync check has its own, tests/schedule_inline.rs).
fn example_schedules(now: DateTime<Utc>) -> Vec<Schedule> {
    let text = include_str!("../../examples/schedules.toml");
    let mut schedules = parse_toml(text, now).unwrap();
    for s in &mut schedules {
        s.run = RunMode::Task;
    }
    schedules
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_enqueue_every_slot_of_a_day_exactly_once() {
    // Saturday 15:00 KST to Sunday 15:00 KST: the weekly Sunday-midnight job, both midnight
    // jobs, the 09:00 job, 48 backups and 288 sync checks fall inside.
    let t0 = Utc.with_ymd_and_hms(2026, 3, 14, 6, 0, 0).unwrap();
    let end = t0 + Duration::hours(24);
    let clock = ManualClock::new(t0);
    let memory = Bucket::memory();
    let counting = Arc::new(CountingStore::new(memory.object_store().clone()));
    let bucket = memory.with_object_store(counting.clone());

    let store = ScheduleStore::new(bucket.clone());
    let schedules = example_schedules(t0);
    for s in &schedules {
        store.create(s).await.unwrap();
    }

    let a = Arc::new(scheduler(&bucket, &clock, 1));
    let b = Arc::new(scheduler(&bucket, &clock, 2));
    let mut created: BTreeMap<(String, DateTime<Utc>), usize> = BTreeMap::new();
    let mut seen_by_both = 0;
    let mut minute = 0u32;
    while clock.now() <= end {
        let before = counting.snapshot().total();
        // Alternate which scheduler ticks; every third minute both tick at once.
        let reports = match minute % 3 {
            0 => vec![a.run_once().await.unwrap()],
            1 => vec![b.run_once().await.unwrap()],
            _ => {
                let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
                vec![ra.unwrap(), rb.unwrap()]
            }
        };
        let idle = reports.iter().all(|r| r.fired.is_empty() && !r.refreshed);
        if idle {
            assert_eq!(
                counting.snapshot().total(),
                before,
                "an idle tick touched the store at {}",
                clock.now()
            );
        }
        for r in &reports {
            assert!(r.errors.is_empty() && r.invalid.is_empty(), "{r:?}");
            for f in &r.fired {
                assert!(!f.catch_up, "nothing was missed: {f:?}");
                if f.created {
                    *created.entry((f.schedule.clone(), f.slot)).or_default() += 1;
                } else {
                    seen_by_both += 1;
                }
            }
        }
        clock.advance(Duration::minutes(1));
        minute += 1;
    }

    // What should have fired: every slot in (t0, end] of every schedule.
    let mut expected = BTreeSet::new();
    for s in &schedules {
        for slot in s.spec.slots_between(s.tz, t0, end, 10_000) {
            expected.insert((s.name.clone(), slot));
        }
    }
    let per_schedule = |name: &str| expected.iter().filter(|(n, _)| n == name).count();
    assert_eq!(per_schedule("content-ideation"), 1);
    assert_eq!(per_schedule("system-evolution"), 1);
    assert_eq!(per_schedule("snapshot"), 1);
    assert_eq!(per_schedule("log-analysis"), 1);
    assert_eq!(per_schedule("clipboard-backup"), 48);
    assert_eq!(per_schedule("sync-check"), 288);

    assert!(
        created.values().all(|&n| n == 1),
        "a slot was created twice"
    );
    assert_eq!(created.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(seen_by_both > 0, "the schedulers never raced for a slot");

    // The bucket agrees: one pending task per slot, keyed and due at its slot.
    let tasks = pending_tasks(&bucket).await;
    assert_eq!(tasks.len(), expected.len());
    let mut keys = BTreeSet::new();
    for t in &tasks {
        let name = &t.labels["schedule"];
        let slot = t.due_at;
        assert!(
            expected.contains(&(name.clone(), slot)),
            "unexpected task {t:?}"
        );
        assert_eq!(
            t.idempotency_key.as_deref(),
            Some(slot_key(name, slot).as_str())
        );
        assert_eq!(
            t.source.as_ref().unwrap().schedule.as_deref(),
            Some(name.as_str())
        );
        assert!(keys.insert(t.idempotency_key.clone()));
    }
    let evolution = tasks.iter().find(|t| t.kind == "system-evolution").unwrap();
    // Sunday 00:00 KST
    assert_eq!(
        evolution.due_at,
        Utc.with_ymd_and_hms(2026, 3, 14, 15, 0, 0).unwrap()
    );

    // Nothing changed the schedules after the start, so each scheduler listed them at its first
    // tick and at the daily full refresh (t0 + 24h); the refreshes in between were one GET of
    // the change marker each.
    let lists = counting.snapshot().get(CountedOp::List);
    assert_eq!(lists, 4, "lists={lists}");
}

#[tokio::test]
async fn a_schedule_added_later_is_picked_up_without_listing_every_refresh() {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 14, 6, 0, 0).unwrap();
    let clock = ManualClock::new(t0);
    let memory = Bucket::memory();
    let counting = Arc::new(CountingStore::new(memory.object_store().clone()));
    let bucket = memory.with_object_store(counting.clone());
    let s = scheduler(&bucket, &clock, 1);
    s.run_once().await.unwrap();
    let lists_at_start = counting.snapshot().get(CountedOp::List);
    // an hour of refreshes with no change: no listing
    for _ in 0..60 {
        clock.advance(Duration::minutes(1));
        s.run_once().await.unwrap();
    }
    assert_eq!(counting.snapshot().get(CountedOp::List), lists_at_start);
    // another process adds a schedule: picked up at the next refresh, with one listing
    let store = ScheduleStore::new(bucket.clone());
    let every_minute = example_schedules(t0)
        .into_iter()
        .find(|x| x.name == "sync-check")
        .unwrap();
    store.create(&every_minute).await.unwrap();
    let mut fired = false;
    for _ in 0..11 {
        clock.advance(Duration::minutes(1));
        fired |= s.run_once().await.unwrap().fired.iter().any(|f| f.created);
    }
    assert!(
        fired,
        "the new schedule fired within one refresh interval and a slot"
    );
    assert_eq!(counting.snapshot().get(CountedOp::List), lists_at_start + 1);
}

#[tokio::test]
async fn next_wakeup_is_the_earliest_slot_or_refresh() {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 14, 6, 1, 0).unwrap();
    let clock = ManualClock::new(t0);
    let bucket = Bucket::memory();
    let store = ScheduleStore::new(bucket.clone());
    for s in example_schedules(t0) {
        store.create(&s).await.unwrap();
    }
    let s = scheduler(&bucket, &clock, 3);
    assert_eq!(s.next_wakeup(), None, "before the first tick: tick now");
    s.run_once().await.unwrap();
    // sync-check every 5 minutes: 06:05
    assert_eq!(
        s.next_wakeup(),
        Some(Utc.with_ymd_and_hms(2026, 3, 14, 6, 5, 0).unwrap())
    );

    // Pausing everything leaves the list refresh as the only wake-up.
    for name in [
        "content-ideation",
        "system-evolution",
        "clipboard-backup",
        "snapshot",
        "log-analysis",
        "sync-check",
    ] {
        store.pause(name).await.unwrap();
    }
    s.refresh_soon();
    let tick = s.run_once().await.unwrap();
    let refresh = Duration::from_std(s.settings().refresh_every).unwrap();
    assert_eq!(s.next_wakeup(), Some(tick.at + refresh));
}

#[tokio::test]
async fn run_stops_on_shutdown() {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 14, 6, 0, 0).unwrap());
    let s = scheduler(&Bucket::memory(), &clock, 4);
    // The shutdown future is already complete: one tick, then return.
    tokio::time::timeout(std::time::Duration::from_secs(5), s.run(async {}))
        .await
        .expect("run returned");
}

#[tokio::test(start_paused = true)]
async fn store_faults_never_make_a_slot_twice() {
    // 503s, timeouts and writes whose reply was lost, on every kind of request, while two
    // schedulers tick through twelve hours. Slots may be late (retried) or, past the grace
    // period, follow their catch-up policy; none is ever enqueued twice.
    let t0 = Utc.with_ymd_and_hms(2026, 3, 14, 6, 0, 0).unwrap();
    let end = t0 + Duration::hours(12);
    let clock = ManualClock::new(t0);
    let memory = Bucket::memory();
    let store = ScheduleStore::new(memory.clone());
    let schedules = example_schedules(t0);
    for s in &schedules {
        store.create(s).await.unwrap();
    }
    let faulty = Arc::new(FaultyStore::new(
        memory.object_store().clone(),
        11,
        vec![
            FaultRule::new(Fault::Error).probability(0.05),
            FaultRule::new(Fault::Timeout(StdDuration::from_millis(50)))
                .ops([Op::Get, Op::List])
                .probability(0.03),
            FaultRule::new(Fault::LostReply)
                .ops([Op::Put])
                .probability(0.05),
            FaultRule::new(Fault::LandedThenConflict).probability(0.05),
        ],
    ));
    let bucket = memory.with_object_store(faulty.clone());
    let a = scheduler(&bucket, &clock, 1);
    let b = scheduler(&bucket, &clock, 2);

    let mut errors = 0;
    let mut minute = 0u32;
    while clock.now() <= end {
        let s = if minute.is_multiple_of(2) { &a } else { &b };
        match s.run_once().await {
            Ok(report) => errors += report.errors.len(),
            Err(_) => errors += 1, // the first listing failed: nothing known yet, tick again
        }
        clock.advance(Duration::minutes(1));
        minute += 1;
    }
    assert!(errors > 0, "the faults fired");
    assert!(faulty.counts().failures() > 0);

    faulty.set_enabled(false);
    let tasks = pending_tasks(&memory).await;
    let mut per_key: BTreeMap<String, usize> = BTreeMap::new();
    for t in &tasks {
        *per_key
            .entry(t.idempotency_key.clone().unwrap())
            .or_default() += 1;
    }
    let twice: Vec<_> = per_key.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "slots enqueued twice: {twice:?}");
    // every task is a real slot, and nearly every slot made it
    let mut expected = BTreeSet::new();
    for s in &schedules {
        for slot in s.spec.slots_between(s.tz, t0, end, 10_000) {
            expected.insert(slot_key(&s.name, slot));
        }
    }
    assert!(per_key.keys().all(|k| expected.contains(k)));
    assert!(
        per_key.len() * 100 >= expected.len() * 95,
        "only {} of {} slots enqueued",
        per_key.len(),
        expected.len()
    );
}
