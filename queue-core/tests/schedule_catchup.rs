//! Downtime: what each catch-up policy enqueues when the scheduler comes back, whether the
//! process restarted (it reads the fired marker) or the machine slept (it kept its memory),
//! and that a second scheduler back from sleep duplicates nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use queue_core::schedule::{
    CatchUp, FiredSlot, Schedule, ScheduleStore, Scheduler, SchedulerSettings, Spec, TickReport,
};
use queue_core::{Bucket, Class, Clock, Envelope, ManualClock, Queue, Settings};

fn scheduler(bucket: &Bucket, clock: &ManualClock, seed: u64) -> Scheduler {
    let queue =
        Queue::new(bucket.clone(), Arc::new(clock.clone()), Settings::default()).with_seed(seed);
    Scheduler::new(Arc::new(queue), SchedulerSettings::default())
}

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, h, m, 0).unwrap()
}

async fn add(store: &ScheduleStore, name: &str, spec: Spec, catch_up: CatchUp, now: DateTime<Utc>) {
    let s = Schedule::new(name, spec, Class::Light, name, serde_json::json!({}), now)
        .unwrap()
        .with_catch_up(catch_up)
        .unwrap();
    store.create(&s).await.unwrap();
}

/// Three schedules every 30 minutes, one per policy, plus a daily one (09:00 KST = 00:00 UTC).
async fn setup(t0: DateTime<Utc>) -> (Bucket, ManualClock, ScheduleStore) {
    let bucket = Bucket::memory();
    let clock = ManualClock::new(t0);
    let store = ScheduleStore::new(bucket.clone());
    let every30 = || Spec::parse_every("30m").unwrap();
    add(&store, "skip", every30(), CatchUp::Skip, t0).await;
    add(&store, "once", every30(), CatchUp::Once, t0).await;
    add(&store, "each", every30(), CatchUp::Each { max: 3 }, t0).await;
    let daily = Spec::parse_cron("0 9 * * *").unwrap();
    add(&store, "daily", daily, CatchUp::Once, t0).await;
    (bucket, clock, store)
}

/// Tick once a minute until `until` (inclusive), collecting what was created.
async fn tick_until(s: &Scheduler, clock: &ManualClock, until: DateTime<Utc>) -> Vec<FiredSlot> {
    let mut fired = Vec::new();
    while clock.now() <= until {
        let report = s.run_once().await.unwrap();
        assert!(report.errors.is_empty(), "{report:?}");
        fired.extend(report.fired.into_iter().filter(|f| f.created));
        clock.advance(Duration::minutes(1));
    }
    fired
}

fn by_schedule(fired: &[FiredSlot]) -> BTreeMap<&str, Vec<DateTime<Utc>>> {
    let mut map: BTreeMap<&str, Vec<DateTime<Utc>>> = BTreeMap::new();
    for f in fired {
        map.entry(f.schedule.as_str()).or_default().push(f.slot);
    }
    map
}

async fn task_count(bucket: &Bucket, schedule: &str) -> usize {
    let mut n = 0;
    for info in bucket.list("light/pending/").await.unwrap() {
        let object = bucket.get(&info.name).await.unwrap().unwrap();
        let env = Envelope::from_json(&object.bytes).unwrap();
        if env.labels.get("schedule").map(String::as_str) == Some(schedule) {
            n += 1;
        }
    }
    n
}

fn check_catch_up(report: &TickReport) {
    let fired = by_schedule(&report.fired);
    // skip: nothing; the 6 missed slots (22:00 … 00:30 UTC) are reported
    assert!(!fired.contains_key("skip"), "{report:?}");
    let skipped: BTreeMap<_, _> = report
        .skipped
        .iter()
        .map(|s| (s.schedule.as_str(), s.count))
        .collect();
    assert_eq!(skipped["skip"], 6);
    // once: the latest missed slot only
    assert_eq!(fired["once"], vec![at(0, 30)]);
    assert_eq!(skipped["once"], 5);
    // each { max: 3 }: the latest three
    assert_eq!(
        fired["each"],
        vec![at(0, 0) - Duration::minutes(30), at(0, 0), at(0, 30)]
    );
    assert_eq!(skipped["each"], 3);
    // the daily 09:00 KST job missed at 00:00 UTC runs once
    assert_eq!(fired["daily"], vec![at(0, 0)]);
    assert!(report.fired.iter().all(|f| f.created && f.catch_up));
}

#[tokio::test]
async fn three_hours_down_then_a_restart_catches_up_per_policy() {
    // Up from 21:00 to 21:40 UTC, down until 00:40 (three hours), then a new process.
    let t0 = at(21, 0) - Duration::days(1);
    let (bucket, clock, _store) = setup(t0).await;
    let first = scheduler(&bucket, &clock, 1);
    let before = tick_until(&first, &clock, t0 + Duration::minutes(40)).await;
    assert_eq!(
        by_schedule(&before)["once"],
        vec![t0 + Duration::minutes(30)]
    );
    drop(first);

    clock.set(at(0, 40));
    let restarted = scheduler(&bucket, &clock, 2);
    let report = restarted.run_once().await.unwrap();
    check_catch_up(&report);

    // and then it carries on normally: 01:00 fires for every policy, once
    clock.set(at(1, 0));
    let report = restarted.run_once().await.unwrap();
    let fired = by_schedule(&report.fired);
    for name in ["skip", "once", "each"] {
        assert_eq!(fired[name], vec![at(1, 0)], "{name}");
    }
    assert!(report.fired.iter().all(|f| !f.catch_up));

    // In the bucket: 21:30 before the downtime, the catch-up, and 01:00.
    assert_eq!(task_count(&bucket, "skip").await, 2);
    assert_eq!(task_count(&bucket, "once").await, 3);
    assert_eq!(task_count(&bucket, "each").await, 5);
    assert_eq!(task_count(&bucket, "daily").await, 1);
}

#[tokio::test]
async fn three_hours_asleep_catches_up_the_same_way() {
    // The same process, but the machine slept: the scheduler keeps its memory.
    let t0 = at(21, 0) - Duration::days(1);
    let (bucket, clock, _store) = setup(t0).await;
    let s = scheduler(&bucket, &clock, 1);
    tick_until(&s, &clock, t0 + Duration::minutes(40)).await;
    clock.set(at(0, 40));
    let report = s.run_once().await.unwrap();
    check_catch_up(&report);
    assert_eq!(task_count(&bucket, "each").await, 4);
}

#[tokio::test]
async fn back_within_the_grace_period_nothing_is_missed() {
    let t0 = at(21, 0) - Duration::days(1);
    let (bucket, clock, _store) = setup(t0).await;
    let s = scheduler(&bucket, &clock, 1);
    s.run_once().await.unwrap();
    // 21:30 passed 4 minutes ago: on time for every policy
    clock.set(t0 + Duration::minutes(34));
    let report = s.run_once().await.unwrap();
    let fired = by_schedule(&report.fired);
    for name in ["skip", "once", "each"] {
        assert_eq!(fired[name], vec![t0 + Duration::minutes(30)], "{name}");
    }
    assert!(report.skipped.is_empty());
}

#[tokio::test]
async fn a_second_scheduler_back_from_sleep_duplicates_nothing() {
    let t0 = at(21, 0) - Duration::days(1);
    let (bucket, clock, _store) = setup(t0).await;
    let vm = scheduler(&bucket, &clock, 1);
    let laptop = scheduler(&bucket, &clock, 2);
    laptop.run_once().await.unwrap();
    // The VM runs through the night; the laptop sleeps.
    let by_vm = tick_until(&vm, &clock, at(0, 40)).await;
    assert_eq!(by_vm.iter().filter(|f| f.catch_up).count(), 0);
    // The laptop wakes: it sees missed slots, reads the markers, and creates nothing new.
    let report = laptop.run_once().await.unwrap();
    assert!(report.created().next().is_none(), "{report:?}");
    for name in ["skip", "once", "each"] {
        assert_eq!(task_count(&bucket, name).await, 7, "{name}"); // 21:30 … 00:30
    }
    assert_eq!(task_count(&bucket, "daily").await, 1);
    // and from then on both tick without duplicates
    assert!(tick_until(&vm, &clock, at(0, 59)).await.is_empty());
    clock.set(at(1, 0));
    let (by_vm, by_laptop) = tokio::join!(vm.run_once(), laptop.run_once());
    let (by_vm, by_laptop) = (by_vm.unwrap(), by_laptop.unwrap());
    assert_eq!(by_vm.created().count() + by_laptop.created().count(), 3);
    assert_eq!(
        by_vm.fired.len() + by_laptop.fired.len(),
        6,
        "both saw every slot"
    );
    for name in ["skip", "once", "each"] {
        assert_eq!(task_count(&bucket, name).await, 8, "{name}");
    }
}

#[tokio::test]
async fn paused_slots_are_not_caught_up_on_resume() {
    let t0 = at(21, 0) - Duration::days(1);
    let (bucket, clock, store) = setup(t0).await;
    let s = scheduler(&bucket, &clock, 1);
    s.run_once().await.unwrap();
    store.pause("each").await.unwrap();
    s.refresh_soon();
    let fired = tick_until(&s, &clock, t0 + Duration::hours(3)).await;
    assert!(!by_schedule(&fired).contains_key("each"));
    // resumed at 00:10: the paused slots stay unrun, even with each { max: 3 }
    clock.set(at(0, 10));
    store.resume("each", clock.now()).await.unwrap();
    s.refresh_soon();
    let report = s.run_once().await.unwrap();
    assert!(
        !by_schedule(&report.fired).contains_key("each"),
        "{report:?}"
    );
    clock.set(at(0, 30));
    let report = s.run_once().await.unwrap();
    assert_eq!(by_schedule(&report.fired)["each"], vec![at(0, 30)]);
    assert_eq!(task_count(&bucket, "each").await, 1);
}
