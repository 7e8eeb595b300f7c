//! The pure decision of a scheduler tick: given where a schedule left off, the time now and its
//! catch-up policy, which slots to enqueue. No I/O — the scheduler performs what this decides.
//!
//! Slots in `(after, now]` are *due*. A due slot no older than `grace` is **on time**: it is
//! always enqueued (the scheduler was running; it just woke up a little late). Older due slots
//! were **missed** — whatever the reason: the VM was down, the MacBook asleep, or the store
//! refused the enqueue for longer than `grace` — and the policy says what becomes of them:
//!
//! | policy          | missed slots enqueued                                         |
//! | --------------- | ------------------------------------------------------------- |
//! | `skip`          | none                                                          |
//! | `once`          | the latest one, unless an on-time slot runs in the same tick  |
//! | `each { max }`  | the latest `max`                                              |
//!
//! Enqueuing a slot twice is harmless (its idempotency key makes it one task), so a decision
//! made from stale knowledge costs store operations, never duplicate work.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::CatchUp;
use super::spec::Spec;

/// At most this many on-time slots are enqueued in one tick (a per-second schedule ticked
/// every few seconds stays far below it).
pub const MAX_ON_TIME: usize = 1000;

/// Counting missed slots stops here; reports say "at least" beyond it.
pub const COUNT_CAP: u64 = 100_000;

/// What one tick does for one schedule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    /// Slots to enqueue now, ascending.
    pub enqueue: Vec<DateTime<Utc>>,
    /// Of those, how many are missed slots run as catch-up (the rest are on time).
    pub catch_up: usize,
    /// Missed slots dropped by the policy (saturates at [`COUNT_CAP`]).
    pub skipped: u64,
    /// The latest due slot: once the enqueues succeed, every slot up to here is decided and
    /// the schedule's cursor moves here. `None` when nothing was due.
    pub through: Option<DateTime<Utc>>,
}

impl Decision {
    /// Whether any due slot was missed (catch-up ran or slots were skipped).
    pub fn missed_any(&self) -> bool {
        self.catch_up > 0 || self.skipped > 0
    }
}

/// Decide which slots of a schedule to enqueue at `now`, when every slot up to `after` is
/// already decided (the last fired slot, or the time the schedule became active).
pub fn decide(
    spec: &Spec,
    tz: Tz,
    policy: CatchUp,
    after: DateTime<Utc>,
    now: DateTime<Utc>,
    grace: Duration,
) -> Decision {
    let Some(through) = spec.latest_between(tz, after, now, 1).into_iter().next() else {
        return Decision::default();
    };
    let boundary = (now - grace).max(after);
    let on_time = spec.slots_between(tz, boundary, now, MAX_ON_TIME);
    let missed_count = if boundary > after {
        spec.count_between(tz, after, boundary, COUNT_CAP)
    } else {
        0
    };
    let wanted = match policy {
        CatchUp::Skip => 0,
        CatchUp::Once if on_time.is_empty() => 1,
        CatchUp::Once => 0,
        CatchUp::Each { max } => max as usize,
    };
    let missed = if wanted > 0 && missed_count > 0 {
        spec.latest_between(tz, after, boundary, wanted)
    } else {
        Vec::new()
    };
    let catch_up = missed.len();
    let mut enqueue = missed;
    enqueue.extend(on_time);
    Decision {
        enqueue,
        catch_up,
        skipped: missed_count.saturating_sub(catch_up as u64),
        through: Some(through),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Asia::Seoul;

    fn utc(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, h, m, 0).unwrap()
    }

    fn grace() -> Duration {
        Duration::minutes(5)
    }

    fn every30() -> Spec {
        Spec::parse_every("30m").unwrap()
    }

    #[test]
    fn nothing_due_decides_nothing() {
        let d = decide(
            &every30(),
            Seoul,
            CatchUp::Once,
            utc(1, 0),
            utc(1, 29),
            grace(),
        );
        assert_eq!(d, Decision::default());
    }

    #[test]
    fn an_on_time_slot_runs_under_every_policy() {
        for policy in [CatchUp::Skip, CatchUp::Once, CatchUp::Each { max: 3 }] {
            let d = decide(&every30(), Seoul, policy, utc(1, 0), utc(1, 31), grace());
            assert_eq!(d.enqueue, vec![utc(1, 30)], "{policy}");
            assert_eq!(d.through, Some(utc(1, 30)));
            assert!(!d.missed_any());
        }
    }

    // Three hours down: last decided slot 01:00, back at 04:10 (04:00 is 10 minutes old).
    #[test]
    fn three_hours_down_skip_drops_everything() {
        let d = decide(
            &every30(),
            Seoul,
            CatchUp::Skip,
            utc(1, 0),
            utc(4, 10),
            grace(),
        );
        assert!(d.enqueue.is_empty());
        assert_eq!(d.skipped, 6);
        assert_eq!(d.through, Some(utc(4, 0)));
    }

    #[test]
    fn three_hours_down_once_runs_the_latest() {
        let d = decide(
            &every30(),
            Seoul,
            CatchUp::Once,
            utc(1, 0),
            utc(4, 10),
            grace(),
        );
        assert_eq!(d.enqueue, vec![utc(4, 0)]);
        assert_eq!((d.catch_up, d.skipped), (1, 5));
    }

    #[test]
    fn three_hours_down_each_runs_the_latest_n() {
        let d = decide(
            &every30(),
            Seoul,
            CatchUp::Each { max: 3 },
            utc(1, 0),
            utc(4, 10),
            grace(),
        );
        assert_eq!(d.enqueue, vec![utc(3, 0), utc(3, 30), utc(4, 0)]);
        assert_eq!((d.catch_up, d.skipped), (3, 3));
        let all = decide(
            &every30(),
            Seoul,
            CatchUp::Each { max: 100 },
            utc(1, 0),
            utc(4, 10),
            grace(),
        );
        assert_eq!(all.enqueue.len(), 6);
        assert_eq!(all.skipped, 0);
    }

    #[test]
    fn once_is_satisfied_by_an_on_time_slot() {
        // back at 04:02: 04:00 is on time and stands in for the missed ones
        let d = decide(
            &every30(),
            Seoul,
            CatchUp::Once,
            utc(1, 0),
            utc(4, 2),
            grace(),
        );
        assert_eq!(d.enqueue, vec![utc(4, 0)]);
        assert_eq!((d.catch_up, d.skipped), (0, 5));
        // each still runs its latest missed slots before the on-time one
        let d = decide(
            &every30(),
            Seoul,
            CatchUp::Each { max: 2 },
            utc(1, 0),
            utc(4, 2),
            grace(),
        );
        assert_eq!(d.enqueue, vec![utc(3, 0), utc(3, 30), utc(4, 0)]);
    }

    #[test]
    fn a_daily_job_missed_by_hours() {
        let nine_kst = Spec::parse_cron("0 9 * * *").unwrap(); // 00:00 UTC
        let after = utc(0, 0) - Duration::hours(2);
        let skip = decide(&nine_kst, Seoul, CatchUp::Skip, after, utc(3, 0), grace());
        assert!(skip.enqueue.is_empty());
        assert_eq!(skip.through, Some(utc(0, 0)));
        let once = decide(&nine_kst, Seoul, CatchUp::Once, after, utc(3, 0), grace());
        assert_eq!(once.enqueue, vec![utc(0, 0)]);
    }
}
