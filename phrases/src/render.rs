//! A schedule's next run, for people: in the schedule's zone (Asia/Seoul by default) and in
//! UTC, as `queuectl schedules ls` prints it and the bot answers it.

use std::fmt;

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

use queue_core::schedule::Schedule;

/// The next run of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextRun {
    /// The slot, in UTC.
    pub at: DateTime<Utc>,
    /// The schedule's zone.
    pub tz: Tz,
}

/// The next run of `schedule` after `now`; `None` when it is paused or never fires again.
pub fn next_run(schedule: &Schedule, now: DateTime<Utc>) -> Option<NextRun> {
    if !schedule.enabled {
        return None;
    }
    schedule.next_slot_after(now).map(|at| NextRun {
        at,
        tz: schedule.tz,
    })
}

impl NextRun {
    /// The slot in the schedule's zone.
    pub fn local(&self) -> DateTime<Tz> {
        self.at.with_timezone(&self.tz)
    }

    /// `2026-03-10 09:00 KST` (seconds only when not zero).
    pub fn local_text(&self) -> String {
        let local = self.local();
        format!("{} {}", clock_text(&local), local.format("%Z"))
    }

    /// `2026-03-10 00:00 UTC`.
    pub fn utc_text(&self) -> String {
        format!("{} UTC", clock_text(&self.at))
    }

    /// `3월 10일 (화) 오전 9시 (KST)` — for the bot's reply.
    pub fn korean(&self) -> String {
        let local = self.local();
        let weekday = ["월", "화", "수", "목", "금", "토", "일"]
            [local.weekday().num_days_from_monday() as usize];
        format!(
            "{}월 {}일 ({weekday}) {} ({})",
            local.month(),
            local.day(),
            crate::phrase::korean_time(local.hour(), local.minute()),
            local.format("%Z")
        )
    }
}

/// `2026-03-10 09:00 KST (2026-03-10 00:00 UTC)`.
impl fmt::Display for NextRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.local_text(), self.utc_text())
    }
}

fn clock_text<T: chrono::TimeZone>(t: &DateTime<T>) -> String
where
    T::Offset: fmt::Display,
{
    if t.second() == 0 {
        t.format("%Y-%m-%d %H:%M").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use queue_core::Class;
    use queue_core::schedule::Spec;

    #[test]
    fn next_run_is_a_whole_second_whatever_now_is() {
        let now = Utc.with_ymd_and_hms(2026, 3, 9, 12, 0, 0).unwrap()
            + chrono::Duration::nanoseconds(858_471_682);
        let s = Schedule::new(
            "nightly",
            Spec::parse_cron("0 0 * * *").unwrap(),
            Class::Light,
            "snapshot",
            serde_json::json!({}),
            now,
        )
        .unwrap();
        let next = next_run(&s, now).unwrap();
        assert_eq!(
            next.at,
            Utc.with_ymd_and_hms(2026, 3, 9, 15, 0, 0).unwrap(),
            "midnight KST"
        );
    }

    #[test]
    fn next_run_in_seoul_and_utc() {
        let now = Utc.with_ymd_and_hms(2026, 3, 9, 12, 0, 0).unwrap();
        let s = Schedule::new(
            "content-ideation",
            Spec::parse_cron("0 9 * * *").unwrap(),
            Class::Light,
            "content-ideation",
            serde_json::json!({}),
            now,
        )
        .unwrap();
        let next = next_run(&s, now).unwrap();
        assert_eq!(
            next.to_string(),
            "2026-03-10 09:00 KST (2026-03-10 00:00 UTC)"
        );
        assert_eq!(next.korean(), "3월 10일 (화) 오전 9시 (KST)");
        assert_eq!(next_run(&s.with_enabled(false), now), None);
    }
}
