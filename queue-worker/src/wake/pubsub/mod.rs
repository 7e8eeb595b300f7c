//! Push wake-ups from Cloud Storage bucket notifications, pulled from a Pub/Sub subscription
//! (infra/gcp/pubsub.sh creates the topic, the notification configs and one subscription per
//! class).
//!
//! The source checks the subscription, says [`Wake::Up`], then long-polls `:pull`. Each
//! notification of a new pending object becomes a [`Notice`] carrying an [`Ack`]: the runner
//! acknowledges it once the claim is decided (claimed, already taken, or not due yet and kept
//! in a local timer). Messages that are not for this worker are acknowledged at once. When
//! Pub/Sub cannot be reached the source says [`Wake::Down`] (logged once per outage), and
//! tries again with backoff (1 s doubling to 5 min); the worker polls meanwhile.

pub mod client;
pub mod notice;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use client::{PubsubClient, PubsubError};
pub use notice::{Decision, Scope};

use super::{Ack, Notice, Wake, WakeTx};

/// Messages asked for per pull.
pub const PULL_MAX: u32 = 100;

/// Longest wait between two attempts to reach Pub/Sub.
pub const MAX_RETRY: Duration = Duration::from_secs(300);

/// Pull notifications for `scope` with `client` until `stop`.
pub fn spawn(client: PubsubClient, scope: Scope, tx: WakeTx, stop: CancellationToken) {
    let client = Arc::new(client);
    let (ack_tx, ack_rx) = mpsc::unbounded_channel();
    tokio::spawn(acknowledge(client.clone(), ack_rx));
    tokio::spawn(async move {
        let mut wait = Duration::from_secs(1);
        let mut down = false;
        loop {
            let error = match client.check().await {
                Ok(()) => {
                    tracing::info!(subscription = client.subscription(), class = %scope.class, "push wake-ups on: idle workers stop polling");
                    down = false;
                    wait = Duration::from_secs(1);
                    let _ = tx.send(Wake::Up);
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        error = pull_until_error(&client, &scope, &tx, &ack_tx) => error,
                    }
                }
                Err(error) => error,
            };
            if !down {
                tracing::warn!(subscription = client.subscription(), error = %error, "push wake-ups unavailable; polling until Pub/Sub answers again");
                down = true;
                let _ = tx.send(Wake::Down);
            } else {
                tracing::debug!(error = %error, retry_in = ?wait, "pubsub still unavailable");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(MAX_RETRY);
        }
    });
}

async fn pull_until_error(
    client: &PubsubClient,
    scope: &Scope,
    tx: &WakeTx,
    ack_tx: &mpsc::UnboundedSender<String>,
) -> PubsubError {
    loop {
        let messages = match client.pull(PULL_MAX).await {
            Ok(messages) => messages,
            Err(e) if e.is_timeout() => continue,
            Err(e) => return e,
        };
        for m in messages {
            match notice::decide(scope, &m.attributes, &m.data) {
                Decision::Claim(name) => {
                    tracing::debug!(object = %name, "notified of a pending task");
                    let ack = Some(Ack::new(m.ack_id, ack_tx.clone()));
                    let _ = tx.send(Wake::Notice(Notice { name, ack }));
                }
                Decision::Ignore(reason) => {
                    tracing::debug!(reason, "ignoring a notification");
                    let _ = ack_tx.send(m.ack_id);
                }
            }
        }
    }
}

/// Send acknowledgements in batches. A failed one is only logged: the message comes again,
/// and a claim of a taken name finds nothing.
async fn acknowledge(client: Arc<PubsubClient>, mut ids: mpsc::UnboundedReceiver<String>) {
    while let Some(first) = ids.recv().await {
        let mut batch = vec![first];
        while batch.len() < 1000 {
            match ids.try_recv() {
                Ok(id) => batch.push(id),
                Err(_) => break,
            }
        }
        if let Err(e) = client.acknowledge(&batch).await {
            tracing::warn!(error = %e, messages = batch.len(), "could not acknowledge notifications; they will come again");
        }
    }
}
