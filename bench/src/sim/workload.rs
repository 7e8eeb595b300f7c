//! Today's workload, as data (pure): the Telegram requests of a month, when the MacBook is
//! online, and how long each kind of handler runs.
//!
//! Assumptions (docs/cost.md repeats them):
//! - 3,000 Telegram requests a month: 100 a day at uniformly random times between 08:00 and
//!   24:00 Korean time (seeded), each keyed by its `update_id` as the ingress does.
//! - 30 % of them are heavy (analysis, strategy, branding, photos, long texts — the ingress's
//!   heavy rules), 70 % light (lookups, calendar, logs, status checks, and everything else).
//! - The MacBook is online 10 hours a day, 10:00–20:00 Korean time; heavy requests sent
//!   outside wait for it.
//! - Handler run times (they decide the lease renewals): see [`handler_seconds`].

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use queue_core::Class;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// The user's zone.
pub const ZONE: Tz = chrono_tz::Asia::Seoul;

/// The kind the ingress gives heavy requests.
pub const TELEGRAM_HEAVY: &str = "telegram-heavy";
/// The kind the ingress gives light requests.
pub const TELEGRAM_LIGHT: &str = "telegram-light";

/// The month's shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// Telegram requests a day.
    pub requests_per_day: u32,
    /// Share of them that are heavy (0..=1).
    pub heavy_share: f64,
    /// Requests arrive between these hours, Korean time (`to` may be 24).
    pub awake_hours: (u32, u32),
    /// The MacBook is online between these hours, Korean time; `None`: always online.
    pub macbook_hours: Option<(u32, u32)>,
    /// Seed for arrival times and classes.
    pub seed: u64,
}

impl Workload {
    /// The workload of issue 9.
    pub fn today() -> Self {
        Workload {
            requests_per_day: 100,
            heavy_share: 0.3,
            awake_hours: (8, 24),
            macbook_hours: Some((10, 20)),
            seed: 2026,
        }
    }

    /// No requests and the MacBook always online: idle workers.
    pub fn idle() -> Self {
        Workload {
            requests_per_day: 0,
            heavy_share: 0.0,
            awake_hours: (8, 24),
            macbook_hours: None,
            seed: 0,
        }
    }
}

/// One Telegram request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// When the webhook delivers it.
    pub at: DateTime<Utc>,
    /// Its update id (the idempotency key).
    pub update_id: u64,
    /// Heavy or light.
    pub class: Class,
}

/// Midnight (Korean time) of day `day` after `start`'s day.
fn local_midnight(start: DateTime<Utc>, day: i64) -> DateTime<Utc> {
    let date = start.with_timezone(&ZONE).date_naive() + Duration::days(day);
    ZONE.from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .expect("Korea has no daylight-saving gaps")
        .with_timezone(&Utc)
}

/// Every request of `days` days from `start`, in time order.
pub fn arrivals(workload: &Workload, start: DateTime<Utc>, days: u32) -> Vec<Arrival> {
    let mut rng = SmallRng::seed_from_u64(workload.seed);
    let (from, to) = workload.awake_hours;
    let mut out = Vec::new();
    for day in 0..i64::from(days) {
        let midnight = local_midnight(start, day);
        for _ in 0..workload.requests_per_day {
            let secs = rng.random_range(i64::from(from) * 3600..i64::from(to) * 3600);
            let class = if rng.random_bool(workload.heavy_share.clamp(0.0, 1.0)) {
                Class::Heavy
            } else {
                Class::Light
            };
            out.push((midnight + Duration::seconds(secs), class));
        }
    }
    out.sort_by_key(|(at, _)| *at);
    out.into_iter()
        .enumerate()
        .map(|(i, (at, class))| Arrival {
            at,
            update_id: 500_000_000 + i as u64,
            class,
        })
        .collect()
}

/// The MacBook's online windows (start, end) over `days` days from `start`.
pub fn macbook_windows(
    workload: &Workload,
    start: DateTime<Utc>,
    days: u32,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    match workload.macbook_hours {
        None => vec![(start, start + Duration::days(i64::from(days)))],
        Some((from, to)) => (0..i64::from(days))
            .map(|day| {
                let midnight = local_midnight(start, day);
                (
                    midnight + Duration::hours(i64::from(from)),
                    midnight + Duration::hours(i64::from(to)),
                )
            })
            .collect(),
    }
}

/// How long a handler of `kind` runs, in seconds (a modelling assumption: the real handlers
/// are the user's scripts). Unknown kinds take 30 s.
pub fn handler_seconds(kind: &str) -> i64 {
    match kind {
        TELEGRAM_HEAVY => 10 * 60,
        TELEGRAM_LIGHT => 20,
        "content-ideation" => 3 * 60,
        "system-evolution" => 15 * 60,
        "clipboard-backup" => 10,
        "snapshot" => 60,
        "log-analysis" => 2 * 60,
        "sync-check" => 10,
        _ => 30,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> DateTime<Utc> {
        // 2026-06-01 00:00 in Seoul.
        Utc.with_ymd_and_hms(2026, 5, 31, 15, 0, 0).unwrap()
    }

    #[test]
    fn a_month_of_requests_in_waking_hours() {
        let w = Workload::today();
        let all = arrivals(&w, start(), 30);
        assert_eq!(all.len(), 3000);
        assert!(all.windows(2).all(|p| p[0].at <= p[1].at));
        for a in &all {
            let hour = a.at.with_timezone(&ZONE).format("%H").to_string();
            assert!(hour.as_str() >= "08", "{a:?}");
        }
        let heavy = all.iter().filter(|a| a.class == Class::Heavy).count();
        assert!((800..1000).contains(&heavy), "heavy={heavy}");
        // same seed, same month
        assert_eq!(arrivals(&w, start(), 30), all);
    }

    #[test]
    fn the_macbook_is_online_ten_hours_a_day() {
        let windows = macbook_windows(&Workload::today(), start(), 2);
        assert_eq!(windows.len(), 2);
        assert_eq!(windows[0].1 - windows[0].0, Duration::hours(10));
        assert_eq!(
            windows[0]
                .0
                .with_timezone(&ZONE)
                .format("%H:%M")
                .to_string(),
            "10:00"
        );
        assert_eq!(windows[1].0 - windows[0].0, Duration::days(1));
        let always = macbook_windows(&Workload::idle(), start(), 3);
        assert_eq!(always, vec![(start(), start() + Duration::days(3))]);
    }
}
