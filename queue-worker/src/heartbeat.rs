//! The heartbeat: renew the lease every `lease_ttl / 3` while the handler runs. When a renewal
//! says the lease is gone (taken over, cancelled, or run out on this machine's clock because
//! the process was paused or the laptop slept), it cancels the handler and reports the loss,
//! and the runner commits nothing.
//!
//! It wakes at least every [`MAX_TICK`] and compares the wall clock (the injected [`Clock`])
//! with the lease deadline, so a resume after a pause is noticed within seconds even where the
//! monotonic timer stood still during sleep.
//!
//! [`Clock`]: queue_core::Clock

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use queue_core::{Envelope, ErrorKind, Lease, Queue};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The longest the heartbeat sleeps between two looks at the clock.
pub const MAX_TICK: Duration = Duration::from_secs(5);

/// A running heartbeat. [`Heartbeat::stop`] ends it and hands the lease back.
#[derive(Debug)]
pub struct Heartbeat {
    stop: CancellationToken,
    handle: JoinHandle<HeartbeatEnd>,
}

/// What the heartbeat leaves behind.
#[derive(Debug)]
pub struct HeartbeatEnd {
    /// The lease, with its deadline as last renewed.
    pub lease: Lease,
    /// Set when the lease was lost: the handler was cancelled and nothing may be committed.
    pub lost: Option<queue_core::Error>,
    /// Successful renewals.
    pub renewals: u32,
}

/// What the heartbeat does at one look at the clock (pure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// Renew now (due, or the deadline has passed: renewal then reports the loss).
    Renew,
    /// Nothing to do yet.
    Wait,
}

/// Decide whether to renew at `now`.
pub fn decide(now: DateTime<Utc>, next_renewal: DateTime<Utc>, deadline: DateTime<Utc>) -> Beat {
    if now >= next_renewal || now >= deadline {
        Beat::Renew
    } else {
        Beat::Wait
    }
}

/// How often the lease is renewed: a third of its TTL.
pub fn renew_every(lease_ttl: Duration) -> Duration {
    lease_ttl / 3
}

/// Start renewing `lease`; `on_lost` is cancelled if the lease is lost.
pub fn spawn(
    queue: Arc<Queue>,
    lease: Lease,
    envelope: Envelope,
    on_lost: CancellationToken,
) -> Heartbeat {
    let stop = CancellationToken::new();
    let handle = tokio::spawn(beat(queue, lease, envelope, on_lost, stop.clone()));
    Heartbeat { stop, handle }
}

impl Heartbeat {
    /// Stop renewing (the handler is done) and get the lease back.
    pub async fn stop(self) -> HeartbeatEnd {
        self.stop.cancel();
        self.handle
            .await
            .expect("the heartbeat task does not panic")
    }
}

async fn beat(
    queue: Arc<Queue>,
    mut lease: Lease,
    envelope: Envelope,
    on_lost: CancellationToken,
    stop: CancellationToken,
) -> HeartbeatEnd {
    let every = renew_every(queue.settings().lease_ttl);
    let tick = every.min(MAX_TICK).max(Duration::from_millis(50));
    let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::seconds(100));
    let retry = chrono::Duration::from_std(tick).unwrap_or(chrono::Duration::seconds(5));
    let mut next_renewal = queue.clock().now() + every;
    let mut renewals = 0;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(tick) => {}
        }
        let now = queue.clock().now();
        if decide(now, next_renewal, lease.deadline) == Beat::Wait {
            continue;
        }
        match queue.renew(&mut lease, &envelope).await {
            Ok(()) => {
                renewals += 1;
                next_renewal = now + every;
                tracing::debug!(task = %lease.id, deadline = %lease.deadline, "lease renewed");
            }
            Err(e) if e.kind() == ErrorKind::LeaseLost => {
                tracing::warn!(task = %lease.id, epoch = lease.epoch, error = %e, "lease lost; stopping the handler");
                on_lost.cancel();
                return HeartbeatEnd {
                    lease,
                    lost: Some(e),
                    renewals,
                };
            }
            Err(e) => {
                // Transient: try again at the next tick. If it keeps failing, the deadline
                // passes and the next renewal reports the loss.
                tracing::warn!(task = %lease.id, error = %e, deadline = %lease.deadline, "lease renewal failed; retrying");
                next_renewal = now + retry;
            }
        }
    }
    HeartbeatEnd {
        lease,
        lost: None,
        renewals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn renews_when_due_or_past_the_deadline() {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let s = chrono::Duration::seconds;
        assert_eq!(decide(t, t + s(10), t + s(30)), Beat::Wait);
        assert_eq!(decide(t + s(10), t + s(10), t + s(30)), Beat::Renew);
        // a resume after a long pause: past the deadline, renewal will report the loss
        assert_eq!(decide(t + s(90), t + s(200), t + s(30)), Beat::Renew);
        assert_eq!(
            renew_every(Duration::from_secs(300)),
            Duration::from_secs(100)
        );
    }
}
