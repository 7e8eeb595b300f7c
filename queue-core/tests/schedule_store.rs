//! Schedules in the bucket: an invalid cron expression is refused at creation, a malformed
//! object in the store is skipped (and reported) by a tick that carries on, the schedules file
//! upserts without undoing operators' changes, and daily jobs in a daylight-saving zone fire
//! once on both change days.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use queue_core::schedule::{
    CatchUp, Schedule, ScheduleStore, Scheduler, SchedulerSettings, Spec, Upserted, parse_toml,
};
use queue_core::{Bucket, Class, Clock, ErrorKind, ManualClock, Queue, Settings};

fn scheduler(bucket: &Bucket, clock: &ManualClock) -> Scheduler {
    let queue =
        Queue::new(bucket.clone(), Arc::new(clock.clone()), Settings::default()).with_seed(7);
    Scheduler::new(Arc::new(queue), SchedulerSettings::default())
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap()
}

fn schedule(name: &str, cron: &str, tz: &str) -> Schedule {
    Schedule::new(
        name,
        Spec::parse_cron(cron).unwrap(),
        Class::Light,
        "k",
        serde_json::json!({}),
        t0(),
    )
    .unwrap()
    .with_tz(tz)
    .unwrap()
}

#[tokio::test]
async fn an_invalid_cron_expression_is_refused_at_creation() {
    let err = Spec::parse_cron("0 9 * *").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("has 4 fields"), "{err}");
    assert!(err.message().contains("e.g. \"0 9 * * *\""), "{err}");
    let err = Spec::parse_cron("0 9 * * 8").unwrap_err();
    assert!(
        err.message().contains("the day-of-week field \"8\""),
        "{err}"
    );

    // through the file, the entry is named
    let file = "[[schedule]]\nname = \"morning\"\ncron = \"0 27 * * *\"\nclass = \"light\"\nkind = \"k\"\n";
    let err = parse_toml(file, t0()).unwrap_err();
    assert!(
        err.message().contains("name=morning") && err.message().contains("the hour field"),
        "{err}"
    );

    // a bad name or zone never reaches the bucket
    let bucket = Bucket::memory();
    let store = ScheduleStore::new(bucket.clone());
    let mut s = schedule("ok", "0 9 * * *", "Asia/Seoul");
    s.name = "Bad Name".into();
    assert_eq!(
        store.create(&s).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(
        schedule("ok", "0 9 * * *", "Asia/Seoul")
            .with_tz("Mars/Olympus")
            .is_err()
    );
    assert!(bucket.list("schedules/").await.unwrap().is_empty());

    // and a name can be added only once
    store
        .create(&schedule("ok", "0 9 * * *", "Asia/Seoul"))
        .await
        .unwrap();
    let err = store
        .create(&schedule("ok", "0 10 * * *", "Asia/Seoul"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

#[tokio::test]
async fn a_malformed_schedule_object_is_skipped_and_reported() {
    let bucket = Bucket::memory();
    let clock = ManualClock::new(t0() - Duration::minutes(1));
    let store = ScheduleStore::new(bucket.clone());
    store
        .create(&schedule("good", "*/5 * * * *", "Asia/Seoul"))
        .await
        .unwrap();

    // garbage, a bad cron expression inside valid JSON, and a name that does not match
    bucket
        .put("schedules/garbage.json", b"{ not json".to_vec())
        .await
        .unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&schedule("bad-cron", "0 9 * * *", "Asia/Seoul").to_json()).unwrap();
    doc["cron"] = "0 9 * *".into();
    bucket
        .put(
            "schedules/bad-cron.json",
            serde_json::to_vec_pretty(&doc).unwrap(),
        )
        .await
        .unwrap();
    bucket
        .put(
            "schedules/other.json",
            schedule("renamed", "0 9 * * *", "Asia/Seoul").to_json(),
        )
        .await
        .unwrap();
    // objects that are not definitions at all are ignored
    bucket
        .put("schedules/README.txt", b"notes".to_vec())
        .await
        .unwrap();

    let s = scheduler(&bucket, &clock);
    let report = s.run_once().await.unwrap();
    let invalid: Vec<&str> = report.invalid.iter().map(|i| i.object.as_str()).collect();
    assert_eq!(
        invalid,
        [
            "schedules/bad-cron.json",
            "schedules/garbage.json",
            "schedules/other.json"
        ]
    );
    let reason = |o: &str| {
        report
            .invalid
            .iter()
            .find(|i| i.object == o)
            .unwrap()
            .reason
            .clone()
    };
    assert!(
        reason("schedules/bad-cron.json").contains("has 4 fields"),
        "{report:?}"
    );
    assert!(
        reason("schedules/other.json").contains("must match the object name"),
        "{report:?}"
    );

    // the good schedule still fires
    clock.set(t0());
    let report = s.run_once().await.unwrap();
    assert_eq!(report.fired.len(), 1);
    assert_eq!(report.fired[0].schedule, "good");
    assert_eq!(report.invalid.len(), 3, "still reported");

    // `ls` sets them apart the same way
    let listing = store.list().await.unwrap();
    assert_eq!(listing.schedules.len(), 1);
    assert_eq!(listing.invalid.len(), 3);

    // fixed in place, it is picked up at the next refresh
    doc["cron"] = "*/5 * * * *".into();
    bucket
        .put(
            "schedules/bad-cron.json",
            serde_json::to_vec_pretty(&doc).unwrap(),
        )
        .await
        .unwrap();
    s.refresh_soon();
    clock.set(t0() + Duration::minutes(5));
    let report = s.run_once().await.unwrap();
    let mut fired: Vec<&str> = report.fired.iter().map(|f| f.schedule.as_str()).collect();
    fired.sort();
    assert_eq!(fired, ["bad-cron", "good"]);
    assert_eq!(report.invalid.len(), 2);
}

#[tokio::test]
async fn the_schedules_file_upserts_without_undoing_operators() {
    let bucket = Bucket::memory();
    let store = ScheduleStore::new(bucket.clone());
    let text = include_str!("../../examples/schedules.toml");
    for s in parse_toml(text, t0()).unwrap() {
        assert_eq!(store.upsert(&s, t0()).await.unwrap(), Upserted::Created);
    }
    // a restart a day later changes nothing
    let later = t0() + Duration::days(1);
    let again = store
        .upsert_all(&parse_toml(text, later).unwrap(), later)
        .await
        .unwrap();
    assert_eq!(again.len(), 6);
    assert!(
        again.iter().all(|(_, u)| *u == Upserted::Unchanged),
        "{again:?}"
    );
    // an operator pauses one; the file does not resume it
    store.pause("sync-check").await.unwrap();
    for s in parse_toml(text, later).unwrap() {
        store.upsert(&s, later).await.unwrap();
    }
    assert!(!store.get("sync-check").await.unwrap().unwrap().enabled);
    // a changed time moves the catch-up start; created_at stays
    let changed = text.replace("cron = \"0 9 * * *\"", "cron = \"0 10 * * *\"");
    let ideation = parse_toml(&changed, later)
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(
        store.upsert(&ideation, later).await.unwrap(),
        Upserted::Updated
    );
    let stored = store.get("content-ideation").await.unwrap().unwrap();
    assert_eq!(stored.created_at, t0());
    assert_eq!(stored.active_since, later);
    assert_eq!(stored.catch_up, CatchUp::Once);

    // the stored object is pretty JSON with a schema version
    let raw = bucket
        .get("schedules/content-ideation.json")
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(raw.bytes.to_vec()).unwrap();
    assert!(text.contains("\n  \"schema\": 1,"), "{text}");
    // the next slot (`schedules ls` shows it in KST through the phrases crate): 10:00 KST
    assert_eq!(
        stored.next_slot_after(later),
        Some(Utc.with_ymd_and_hms(2026, 3, 11, 1, 0, 0).unwrap())
    );

    // removing takes the marker along
    bucket
        .put("schedules/_fired/snapshot.json", b"{}".to_vec())
        .await
        .unwrap();
    assert!(store.remove("snapshot").await.unwrap());
    assert!(!store.remove("snapshot").await.unwrap());
    assert!(
        !bucket
            .exists("schedules/_fired/snapshot.json")
            .await
            .unwrap()
    );
}

/// Run one scheduler minute by minute over `[from, to]` and return the created slots per
/// schedule.
async fn simulate(
    schedules: &[Schedule],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> std::collections::BTreeMap<String, Vec<DateTime<Utc>>> {
    let bucket = Bucket::memory();
    let store = ScheduleStore::new(bucket.clone());
    for s in schedules {
        let mut s = s.clone();
        s.created_at = from;
        s.active_since = from;
        store.create(&s).await.unwrap();
    }
    let clock = ManualClock::new(from);
    let s = scheduler(&bucket, &clock);
    let mut out: std::collections::BTreeMap<String, Vec<DateTime<Utc>>> = Default::default();
    while clock.now() <= to {
        let report = s.run_once().await.unwrap();
        for f in report.fired {
            assert!(f.created && !f.catch_up, "{f:?}");
            out.entry(f.schedule).or_default().push(f.slot);
        }
        clock.advance(Duration::minutes(1));
    }
    out
}

fn utc(mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, mo, d, h, mi, 0).unwrap()
}

#[tokio::test]
async fn daily_jobs_fire_once_on_both_daylight_saving_days() {
    let ny = "America/New_York";
    let schedules = [
        schedule("at-0230", "30 2 * * *", ny),
        schedule("at-0130", "30 1 * * *", ny),
        schedule("half-hourly", "*/30 * * * *", ny),
    ];

    // 2026-03-08: 02:00 EST jumps to 03:00 EDT. Simulate 2026-03-08 00:00 EST .. 2026-03-09 00:00 EDT.
    let fired = simulate(&schedules, utc(3, 8, 5, 0), utc(3, 9, 4, 0)).await;
    // 02:30 does not exist that day: it runs once, right after the gap (03:00 EDT = 07:00 UTC)
    assert_eq!(fired["at-0230"], vec![utc(3, 8, 7, 0)]);
    assert_eq!(fired["at-0130"], vec![utc(3, 8, 6, 30)]); // 01:30 EST
    // a 23-hour day: 46 half-hour slots
    assert_eq!(fired["half-hourly"].len(), 46);

    // 2026-11-01: 02:00 EDT falls back to 01:00 EST. Simulate 2026-11-01 00:00 EDT .. 2026-11-02 00:00 EST.
    let fired = simulate(&schedules, utc(11, 1, 4, 0), utc(11, 2, 5, 0)).await;
    // 01:30 happens twice: the daily job runs at the first (EDT), once
    assert_eq!(fired["at-0130"], vec![utc(11, 1, 5, 30)]);
    assert_eq!(fired["at-0230"], vec![utc(11, 1, 7, 30)]); // 02:30 EST, once
    // a 25-hour day: 50 half-hour slots, the repeated hour included
    assert_eq!(fired["half-hourly"].len(), 50);
}
