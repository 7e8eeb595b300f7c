//! When a schedule fires. A [`Spec`] is a cron expression (read in the schedule's zone) or a
//! fixed interval; both are turned into *slots*: instants in UTC that every scheduler computes
//! identically, because slot times are idempotency keys.
//!
//! # Cron across daylight-saving changes
//!
//! A cron expression describes wall-clock times. Where the wall clock jumps, the rule is that of
//! Vixie cron, decided by the hour field:
//!
//! - **Named hours** (`30 2 * * *`, `0 9,18 * * 1-5`) — each named wall time runs once per day.
//!   A time that does not exist (the spring-forward gap: 02:30 on 2026-03-08 in New York) runs
//!   at the first instant after the gap (03:00 EDT). A time that happens twice (the fall-back
//!   overlap: 01:30 on 2026-11-01) runs at its first occurrence only.
//! - **Wildcard hours** (`*/30 * * * *`, `0 */2 * * *`) — the job follows elapsed time: wall
//!   times inside the gap do not happen, and wall times that happen twice run twice (they are
//!   real instants, an hour apart).
//!
//! Slots are computed from the *set* of matching wall times, not by stepping from the previous
//! answer, so the answer does not depend on where a scheduler starts looking (croner's own
//! `find_next_occurrence` does: from inside a fall-back overlap it can return an instant in the
//! past). The scan looks three hours of wall time either side of the answer: a daily job costs
//! a couple of microseconds per slot, a per-minute one tens of microseconds, and a per-second
//! pattern (six fields, `*` seconds) a few milliseconds.
//!
//! # Intervals
//!
//! `every = "30m"` fires at every multiple of the interval since the Unix epoch (UTC) — so
//! schedulers agree without sharing state, and `30m` fires at :00 and :30 in every zone whose
//! offset is a whole or half hour. The zone is ignored. For wall-clock times ("every day at
//! midnight") use cron: `every = "1d"` fires at 00:00 UTC, which is 09:00 in Seoul.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::ControlFlow;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use crate::error::{Error, Result};

/// How far a wall-clock time can be from "its" instant's neighbours: larger than any
/// daylight-saving shift in the tz database (2 hours).
const MARGIN: Duration = Duration::hours(3);

/// Longest interval accepted.
const MAX_EVERY_SECS: u64 = 366 * 24 * 3600;

/// When a schedule fires.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// A cron expression in the schedule's zone.
    Cron(CronSpec),
    /// A fixed interval aligned to the Unix epoch.
    Every(Every),
}

/// A parsed cron expression: 5 fields, or 6 with seconds first.
#[derive(Debug, Clone)]
pub struct CronSpec {
    expr: String,
    cron: Box<Cron>,
    named_hours: bool,
}

impl PartialEq for CronSpec {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr
    }
}

/// A fixed interval: whole seconds, 1 second to 366 days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Every {
    text: String,
    secs: i64,
}

const CRON_HELP: &str = "write 5 fields (minute hour day-of-month month day-of-week), e.g. \
\"0 9 * * *\" for every day at 09:00 or \"*/30 * * * *\" for every 30 minutes; \
6 fields put seconds first, e.g. \"30 0 9 * * *\"";

impl Spec {
    /// Parse a cron expression: 5 fields, or 6 with seconds first. Weekday and month names
    /// (`MON`, `JAN`) are accepted; `@daily`-style nicknames and a year field are not.
    pub fn parse_cron(expr: &str) -> Result<Spec> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if expr.trim_start().starts_with('@') {
            return Err(Error::invalid(format!(
                "bad cron expression: cron={expr:?} (nicknames such as @daily are not accepted; {CRON_HELP})"
            )));
        }
        if fields.len() != 5 && fields.len() != 6 {
            return Err(Error::invalid(format!(
                "bad cron expression: cron={expr:?} has {} fields ({CRON_HELP})",
                fields.len()
            )));
        }
        let normalized = fields.join(" ");
        let cron = parser().parse(&normalized).map_err(|e| {
            let what = match bad_field(&fields) {
                Some((name, value, takes)) => {
                    format!("the {name} field {value:?} is not valid: it takes {takes}")
                }
                None => lowercase_first(&e.to_string()),
            };
            Error::invalid(format!(
                "bad cron expression: cron={expr:?} ({what}; {CRON_HELP})"
            ))
        })?;
        let hour_field = fields[fields.len() - 4];
        let spec = CronSpec {
            expr: normalized,
            cron: Box::new(cron),
            named_hours: !hour_field.contains('*'),
        };
        // A pattern such as "0 0 30 2 *" parses but never fires: refuse it now rather than
        // carry a schedule that silently does nothing.
        let probe = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        if spec.next_naive(probe.naive_utc(), true).is_none() {
            return Err(Error::invalid(format!(
                "bad cron expression: cron={expr:?} never fires (check the day and month fields; {CRON_HELP})"
            )));
        }
        Ok(Spec::Cron(spec))
    }

    /// Parse an interval written `30s`, `5m`, `2h`, `1d`.
    pub fn parse_every(text: &str) -> Result<Spec> {
        let d = crate::settings::parse_duration(text)?;
        if d.subsec_nanos() != 0 || d.as_secs() == 0 || d.as_secs() > MAX_EVERY_SECS {
            return Err(Error::invalid(format!(
                "bad interval: every={text:?} (use whole seconds from 1s to 366d, e.g. 30m or 2h)"
            )));
        }
        Ok(Spec::Every(Every {
            text: text.trim().to_string(),
            secs: d.as_secs() as i64,
        }))
    }

    /// Exactly one of `cron` or `every`, as given in a document or file.
    pub fn from_parts(cron: Option<&str>, every: Option<&str>) -> Result<Spec> {
        match (cron, every) {
            (Some(c), None) => Spec::parse_cron(c),
            (None, Some(e)) => Spec::parse_every(e),
            (Some(_), Some(_)) => Err(Error::invalid(
                "bad schedule: both cron and every are set (give exactly one)",
            )),
            (None, None) => Err(Error::invalid(
                "bad schedule: neither cron nor every is set (give one, e.g. cron = \"0 9 * * *\" or every = \"30m\")",
            )),
        }
    }

    /// The next slot strictly after `t`; `None` if it never fires again.
    pub fn next_after(&self, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Spec::Every(e) => Some(e.slot(t.timestamp().div_euclid(e.secs) + 1)),
            Spec::Cron(c) => c.next_after(tz, t),
        }
    }

    /// Slots in `(from, to]`, ascending, at most `cap` of them (the earliest).
    pub fn slots_between(
        &self,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        cap: usize,
    ) -> Vec<DateTime<Utc>> {
        if to <= from || cap == 0 {
            return Vec::new();
        }
        match self {
            Spec::Every(e) => {
                let first = from.timestamp().div_euclid(e.secs) + 1;
                let last = to.timestamp().div_euclid(e.secs);
                (first..=last).take(cap).map(|k| e.slot(k)).collect()
            }
            Spec::Cron(c) => {
                let set = c.collect(tz, from, to, cap);
                set.into_iter().take(cap).collect()
            }
        }
    }

    /// The latest `n` slots in `(from, to]`, ascending.
    pub fn latest_between(
        &self,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        n: usize,
    ) -> Vec<DateTime<Utc>> {
        if to <= from || n == 0 {
            return Vec::new();
        }
        match self {
            Spec::Every(e) => {
                let first = from.timestamp().div_euclid(e.secs) + 1;
                let last = to.timestamp().div_euclid(e.secs);
                let start = first.max(last - n as i64 + 1);
                (start..=last).map(|k| e.slot(k)).collect()
            }
            Spec::Cron(c) => {
                // Look back through windows that double in length: a per-minute job finds its
                // latest slots in the first window, a weekly one after a few doublings.
                let mut window = Duration::hours(1);
                loop {
                    let lo = (to - window).max(from);
                    let set = c.collect(tz, lo, to, usize::MAX);
                    if set.len() >= n || lo == from {
                        let skip = set.len().saturating_sub(n);
                        return set.into_iter().skip(skip).collect();
                    }
                    window = window * 2;
                }
            }
        }
    }

    /// How many slots lie in `(from, to]`, counting no further than `cap`.
    pub fn count_between(&self, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>, cap: u64) -> u64 {
        if to <= from {
            return 0;
        }
        match self {
            Spec::Every(e) => {
                let n = to.timestamp().div_euclid(e.secs) - from.timestamp().div_euclid(e.secs);
                (n.max(0) as u64).min(cap)
            }
            Spec::Cron(c) => c.collect(tz, from, to, cap as usize).len() as u64,
        }
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Spec::Cron(c) => write!(f, "cron {}", c.expr),
            Spec::Every(e) => write!(f, "every {}", e.text),
        }
    }
}

impl CronSpec {
    /// The expression, whitespace normalised.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// Whether the hour field names its hours (see the module docs for what that changes).
    pub fn has_named_hours(&self) -> bool {
        self.named_hours
    }

    /// The next wall-clock time matching the pattern at or after (`inclusive`) / after `n`.
    /// Croner runs over UTC here, where every wall-clock time exists exactly once.
    fn next_naive(&self, n: NaiveDateTime, inclusive: bool) -> Option<NaiveDateTime> {
        self.cron
            .find_next_occurrence(&n.and_utc(), inclusive)
            .ok()
            .map(|d| d.naive_utc())
    }

    /// The instants of wall-clock time `n` in `tz` (see the module docs).
    fn instants(&self, tz: Tz, n: NaiveDateTime, mut out: impl FnMut(DateTime<Utc>)) {
        match tz.from_local_datetime(&n) {
            LocalResult::Single(x) => out(x.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, second) => {
                out(first.with_timezone(&Utc));
                if !self.named_hours {
                    out(second.with_timezone(&Utc));
                }
            }
            LocalResult::None => {
                if let Some(x) = self.named_hours.then(|| gap_end(tz, n)).flatten() {
                    out(x);
                }
            }
        }
    }

    /// Walk the matching wall-clock times from `start` (inclusive), handing each one's
    /// instants to `f` until it breaks or croner finds no further match.
    fn walk(
        &self,
        tz: Tz,
        start: NaiveDateTime,
        mut f: impl FnMut(NaiveDateTime, &[DateTime<Utc>]) -> ControlFlow<()>,
    ) {
        // Slots are whole seconds: a cursor with a fraction would carry it into every answer.
        let mut cursor = start.with_nanosecond(0).unwrap_or(start);
        let mut inclusive = true;
        let mut found = Vec::with_capacity(2);
        while let Some(n) = self.next_naive(cursor, inclusive) {
            found.clear();
            self.instants(tz, n, |x| found.push(x));
            if f(n, &found).is_break() {
                return;
            }
            cursor = n;
            inclusive = false;
        }
    }

    fn next_after(&self, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut best: Option<DateTime<Utc>> = None;
        self.walk(tz, local(tz, t) - MARGIN, |n, found| {
            if let Some(b) = best {
                // Wall times this far past the best instant cannot map before it.
                if n > local(tz, b) + MARGIN {
                    return ControlFlow::Break(());
                }
            }
            for &x in found {
                if x > t && best.is_none_or(|b| x < b) {
                    best = Some(x);
                }
            }
            ControlFlow::Continue(())
        });
        best
    }

    /// Slots in `(from, to]`, stopping once `cap` are collected (then the set holds the
    /// earliest `cap` — wall-clock order and instant order differ only inside an overlap, which
    /// the margin covers).
    fn collect(
        &self,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        cap: usize,
    ) -> BTreeSet<DateTime<Utc>> {
        let mut set = BTreeSet::new();
        let end = local(tz, to) + MARGIN;
        let mut full_at: Option<NaiveDateTime> = None;
        self.walk(tz, local(tz, from) - MARGIN, |n, found| {
            if n > end || full_at.is_some_and(|f| n > f + MARGIN) {
                return ControlFlow::Break(());
            }
            for &x in found {
                if x > from && x <= to {
                    set.insert(x);
                }
            }
            if set.len() >= cap && full_at.is_none() {
                full_at = Some(n);
            }
            ControlFlow::Continue(())
        });
        while set.len() > cap {
            set.pop_last();
        }
        set
    }
}

impl Every {
    /// The interval as written (`30m`).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The interval in seconds.
    pub fn seconds(&self) -> i64 {
        self.secs
    }

    fn slot(&self, k: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(k.saturating_mul(self.secs), 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
}

/// The first field that fails on its own (every other field set to `*`): croner's messages do
/// not say which field they mean.
fn bad_field(fields: &[&str]) -> Option<(&'static str, String, &'static str)> {
    const FIELDS: [(&str, &str); 6] = [
        ("second", "0-59"),
        ("minute", "0-59"),
        ("hour", "0-23"),
        ("day-of-month", "1-31 (or L, W)"),
        ("month", "1-12 or JAN-DEC"),
        ("day-of-week", "0-7 or SUN-SAT (0 and 7 are Sunday)"),
    ];
    let names = &FIELDS[6 - fields.len()..];
    (0..fields.len()).find_map(|i| {
        let alone: Vec<&str> = (0..fields.len())
            .map(|j| if i == j { fields[j] } else { "*" })
            .collect();
        parser()
            .parse(&alone.join(" "))
            .is_err()
            .then(|| (names[i].0, fields[i].to_string(), names[i].1))
    })
}

fn local(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

/// The first instant after the daylight-saving gap that swallowed wall time `n`. Gaps end on
/// a whole minute in every zone since 1970; give up after four hours.
fn gap_end(tz: Tz, n: NaiveDateTime) -> Option<DateTime<Utc>> {
    let mut m = n.with_second(0)?.with_nanosecond(0)?;
    for _ in 0..240 {
        m += Duration::minutes(1);
        if let Some(x) = tz.from_local_datetime(&m).earliest() {
            return Some(x.with_timezone(&Utc));
        }
    }
    None
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c
            .to_lowercase()
            .chain(chars)
            .collect::<String>()
            .trim_end_matches('.')
            .to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Asia::Seoul;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn cron(expr: &str) -> Spec {
        Spec::parse_cron(expr).unwrap()
    }

    #[test]
    fn invalid_cron_says_what_is_wrong_and_shows_an_example() {
        for (expr, needle) in [
            ("0 9 * *", "has 4 fields"),
            ("", "has 0 fields"),
            (
                "61 * * * *",
                "the minute field \"61\" is not valid: it takes 0-59",
            ),
            ("0 25 * * *", "the hour field \"25\""),
            ("0 9 * * MONDAY", "the day-of-week field \"MONDAY\""),
            ("0 0 9 * 13 *", "the month field \"13\""),
            ("x 0 9 * * *", "the second field \"x\""),
            ("@daily", "nicknames"),
            ("0 0 9 * * * 2026", "has 7 fields"),
            ("0 0 30 2 *", "never fires"),
        ] {
            let err = Spec::parse_cron(expr).unwrap_err();
            let msg = err.message();
            assert!(msg.contains(needle), "{expr:?}: {msg}");
            assert!(msg.contains("e.g. \"0 9 * * *\""), "{expr:?}: {msg}");
        }
    }

    #[test]
    fn every_needs_whole_seconds() {
        assert!(Spec::parse_every("30m").is_ok());
        assert!(Spec::parse_every("0s").is_err());
        assert!(Spec::parse_every("1500ms").is_err());
        assert!(Spec::parse_every("soon").is_err());
        assert!(Spec::from_parts(Some("* * * * *"), Some("5m")).is_err());
        assert!(Spec::from_parts(None, None).is_err());
    }

    #[test]
    fn daily_nine_in_seoul_is_midnight_utc() {
        let s = cron("0 9 * * *");
        let t = utc(2026, 3, 9, 23, 0);
        assert_eq!(s.next_after(Seoul, t), Some(utc(2026, 3, 10, 0, 0)));
        // strictly after: from the slot itself, the next day's
        assert_eq!(
            s.next_after(Seoul, utc(2026, 3, 10, 0, 0)),
            Some(utc(2026, 3, 11, 0, 0))
        );
    }

    #[test]
    fn six_fields_put_seconds_first() {
        let s = cron("30 0 9 * * *");
        assert_eq!(
            s.next_after(Seoul, utc(2026, 3, 9, 23, 0)),
            Some(Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 30).unwrap())
        );
    }

    #[test]
    fn sunday_midnight_in_seoul() {
        let s = cron("0 0 * * 0");
        // 2026-03-15 is a Sunday; midnight KST is 15:00 UTC the day before.
        assert_eq!(
            s.next_after(Seoul, utc(2026, 3, 10, 0, 0)),
            Some(utc(2026, 3, 14, 15, 0))
        );
    }

    #[test]
    fn intervals_align_to_the_epoch() {
        let s = Spec::parse_every("30m").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 3, 10, 0, 10, 7).unwrap();
        assert_eq!(s.next_after(Seoul, t), Some(utc(2026, 3, 10, 0, 30)));
        assert_eq!(
            s.next_after(Seoul, utc(2026, 3, 10, 0, 30)),
            Some(utc(2026, 3, 10, 1, 0))
        );
        let slots = s.slots_between(Seoul, utc(2026, 3, 10, 0, 0), utc(2026, 3, 10, 2, 0), 100);
        assert_eq!(slots.len(), 4);
        assert_eq!(
            s.count_between(Seoul, utc(2026, 3, 10, 0, 0), utc(2026, 3, 11, 0, 0), 1000),
            48
        );
        let latest = s.latest_between(Seoul, utc(2026, 3, 10, 0, 0), utc(2026, 3, 10, 3, 10), 2);
        assert_eq!(
            latest,
            vec![utc(2026, 3, 10, 2, 30), utc(2026, 3, 10, 3, 0)]
        );
    }

    #[test]
    fn named_hour_in_the_spring_gap_runs_right_after_it() {
        // 2026-03-08, New York: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
        let s = cron("30 2 * * *");
        let slots = s.slots_between(
            New_York,
            utc(2026, 3, 6, 12, 0),
            utc(2026, 3, 10, 12, 0),
            10,
        );
        assert_eq!(
            slots,
            vec![
                utc(2026, 3, 7, 7, 30), // 02:30 EST
                utc(2026, 3, 8, 7, 0),  // 03:00 EDT, right after the gap
                utc(2026, 3, 9, 6, 30), // 02:30 EDT
                utc(2026, 3, 10, 6, 30),
            ]
        );
        // and the answer does not depend on where one starts looking
        for start in slots.windows(2) {
            assert_eq!(s.next_after(New_York, start[0]), Some(start[1]));
        }
    }

    #[test]
    fn named_hour_in_the_fall_overlap_runs_once() {
        // 2026-11-01, New York: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
        let s = cron("30 1 * * *");
        let slots = s.slots_between(
            New_York,
            utc(2026, 10, 31, 0, 0),
            utc(2026, 11, 2, 12, 0),
            10,
        );
        assert_eq!(
            slots,
            vec![
                utc(2026, 10, 31, 5, 30), // 01:30 EDT
                utc(2026, 11, 1, 5, 30),  // first 01:30 (EDT) only
                utc(2026, 11, 2, 6, 30),  // 01:30 EST
            ]
        );
        // from inside the second pass of the overlap, the next slot is tomorrow's
        let inside = utc(2026, 11, 1, 6, 15); // 01:15 EST
        assert_eq!(
            s.next_after(New_York, inside),
            Some(utc(2026, 11, 2, 6, 30))
        );
        // a daily 02:30 job is untouched by the fall-back: once, at 02:30 EST
        let s = cron("30 2 * * *");
        let day = s.slots_between(New_York, utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 4, 0), 10);
        assert_eq!(day, vec![utc(2026, 11, 1, 7, 30)]);
    }

    #[test]
    fn wildcard_hours_follow_elapsed_time_across_both_changes() {
        let s = cron("*/30 * * * *");
        // spring: 01:30 EST (06:30Z) is followed by 03:00 EDT (07:00Z)
        let spring = s.slots_between(New_York, utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 7, 30), 10);
        assert_eq!(
            spring,
            vec![
                utc(2026, 3, 8, 6, 30),
                utc(2026, 3, 8, 7, 0),
                utc(2026, 3, 8, 7, 30)
            ]
        );
        // fall: 01:00 and 01:30 run in EDT and again in EST — every 30 minutes of real time
        let fall = s.slots_between(
            New_York,
            utc(2026, 11, 1, 4, 30),
            utc(2026, 11, 1, 7, 0),
            10,
        );
        assert_eq!(
            fall,
            vec![
                utc(2026, 11, 1, 5, 0),
                utc(2026, 11, 1, 5, 30),
                utc(2026, 11, 1, 6, 0),
                utc(2026, 11, 1, 6, 30),
                utc(2026, 11, 1, 7, 0),
            ]
        );
        // next_after agrees with the enumeration from any starting point
        let mut t = utc(2026, 11, 1, 4, 30);
        for expected in fall {
            let next = s.next_after(New_York, t).unwrap();
            assert_eq!(next, expected, "after {t}");
            t = next;
        }
        // and from inside the first pass, halfway between slots
        assert_eq!(
            s.next_after(New_York, utc(2026, 11, 1, 5, 45)),
            Some(utc(2026, 11, 1, 6, 0))
        );
    }

    #[test]
    fn latest_between_looks_back_far_enough() {
        let s = cron("0 0 * * 0"); // weekly
        let latest = s.latest_between(Seoul, utc(2026, 1, 1, 0, 0), utc(2026, 3, 10, 0, 0), 2);
        assert_eq!(
            latest,
            vec![utc(2026, 2, 28, 15, 0), utc(2026, 3, 7, 15, 0)]
        );
        let none = s.latest_between(Seoul, utc(2026, 3, 8, 0, 0), utc(2026, 3, 10, 0, 0), 2);
        assert!(none.is_empty());
        assert_eq!(
            s.count_between(Seoul, utc(2026, 1, 1, 0, 0), utc(2026, 3, 10, 0, 0), 100),
            10
        );
        assert_eq!(
            s.count_between(Seoul, utc(2026, 1, 1, 0, 0), utc(2026, 3, 10, 0, 0), 3),
            3
        );
    }
}
