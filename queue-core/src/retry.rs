//! Pure retry decisions. Given the time, the task and the settings, decide when a failed attempt
//! runs again, or that it does not. No I/O here; the protocol performs what these decide.

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::settings::Settings;
use crate::task::Envelope;

/// What happens after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Run again at this time.
    RetryAt(DateTime<Utc>),
    /// No attempts left: dead-letter.
    DeadLetter,
}

/// The backoff before attempt `attempt + 1`, for a task that has failed `attempt` times
/// (1-based): `base * 2^(attempt-1)`, capped at `max`, with "equal jitter" (a uniformly random
/// point in the upper half), so many tasks failing together do not come back together.
pub fn backoff(attempt: u32, settings: &Settings, rng: &mut impl Rng) -> std::time::Duration {
    let exp = attempt.saturating_sub(1).min(30);
    let raw = settings.backoff_base.saturating_mul(1u32 << exp);
    let capped = raw.min(settings.backoff_max);
    let half = capped / 2;
    let jitter_ms = rng.random_range(0..=half.as_millis().max(1) as u64);
    half + std::time::Duration::from_millis(jitter_ms)
}

/// Decide what happens to `task` after a failed attempt at `now`. `task.attempt` already counts
/// the attempt that failed.
pub fn next_retry_at(
    now: DateTime<Utc>,
    task: &Envelope,
    settings: &Settings,
    rng: &mut impl Rng,
) -> RetryDecision {
    if task.attempt >= task.max_attempts {
        return RetryDecision::DeadLetter;
    }
    let delay = backoff(task.attempt, settings, rng);
    RetryDecision::RetryAt(
        now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::time::Duration;

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        let settings = Settings {
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(300),
            ..Settings::default()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for attempt in 1..=10u32 {
            let full =
                Duration::from_secs(10 * (1u64 << (attempt - 1))).min(Duration::from_secs(300));
            for _ in 0..50 {
                let d = backoff(attempt, &settings, &mut rng);
                assert!(
                    d >= full / 2 && d <= full,
                    "attempt={attempt} d={d:?} full={full:?}"
                );
            }
        }
        // jitter: not every draw is the same
        let draws: std::collections::HashSet<_> =
            (0..20).map(|_| backoff(3, &settings, &mut rng)).collect();
        assert!(draws.len() > 5);
    }
}
