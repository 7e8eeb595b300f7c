//! Noticing a resume: a laptop that slept, a process that was stopped (SIGSTOP) and continued.
//! A ticker looks at the wall clock every [`TICK`]; when far more wall time passed between two
//! looks than the tick, the machine was not running us, and whatever was enqueued meanwhile
//! deserves a look (one listing, and Pub/Sub hands over what it kept).
//!
//! Subscribers (the runner's discovery; presence can subscribe too) get the wall-clock time at
//! which the resume was noticed and how long the gap was.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use queue_core::Clock;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// How often the wall clock is looked at.
pub const TICK: Duration = Duration::from_secs(5);

/// A gap longer than the tick by this much counts as a resume.
pub const SLACK: Duration = Duration::from_secs(10);

/// One resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resumed {
    /// When it was noticed (wall clock).
    pub at: DateTime<Utc>,
    /// How long the machine or process was away.
    pub gap: Duration,
}

/// Whether the wall clock moved from `before` to `now` over one tick of `tick` by more than a
/// running process explains (pure).
pub fn decide(before: DateTime<Utc>, now: DateTime<Utc>, tick: Duration) -> Option<Duration> {
    let gap = (now - before).to_std().ok()?;
    (gap > tick + SLACK).then_some(gap)
}

/// The resume detector: a ticker task and its subscribers.
#[derive(Debug, Clone)]
pub struct Resumes {
    tx: broadcast::Sender<Resumed>,
}

impl Resumes {
    /// Start ticking until `stop`.
    pub fn spawn(clock: Arc<dyn Clock>, stop: CancellationToken) -> Self {
        let (tx, _) = broadcast::channel(8);
        let sender = tx.clone();
        tokio::spawn(async move {
            let mut before = clock.now();
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(TICK) => {}
                }
                let now = clock.now();
                if let Some(gap) = decide(before, now, TICK) {
                    tracing::info!(
                        gap_s = gap.as_secs(),
                        "resumed after a pause or sleep; looking for work that arrived meanwhile"
                    );
                    let _ = sender.send(Resumed { at: now, gap });
                }
                before = now;
            }
        });
        Resumes { tx }
    }

    /// Hear about every later resume.
    pub fn subscribe(&self) -> broadcast::Receiver<Resumed> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn only_a_gap_well_beyond_the_tick_is_a_resume() {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let s = chrono::Duration::seconds;
        assert_eq!(decide(t, t + s(5), TICK), None);
        assert_eq!(decide(t, t + s(14), TICK), None);
        assert_eq!(
            decide(t, t + s(3600), TICK),
            Some(Duration::from_secs(3600))
        );
        // the clock stepped back: not a resume
        assert_eq!(decide(t, t - s(30), TICK), None);
    }
}
