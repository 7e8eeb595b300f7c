//! Wake-up sources: how an idle worker learns that a task arrived.
//!
//! - [`WakeSpec::Poll`] — read `{class}/wake.json` on a backed-off poll (the discovery does it;
//!   nothing runs here). One Class B read per poll on a cloud store.
//! - [`WakeSpec::Fs`] — filesystem events on a local-directory store ([`fs`], the `notify`
//!   crate: inotify on Linux, FSEvents on macOS). The event names the new pending file.
//! - [`WakeSpec::Pubsub`] — Cloud Storage bucket notifications (`OBJECT_FINALIZE` under
//!   `{class}/pending/`) pulled from a Pub/Sub subscription ([`pubsub`]). The message names the
//!   object, so the worker claims it without listing.
//!
//! A push source runs as a task and sends [`Wake`] events to the runner: `Up` when it works
//! (idle workers then stop polling), `Down` when it fails (polling resumes; the source retries
//! with backoff), and one [`Notice`] per new pending object. [`resume`] notices when the wall
//! clock jumps (a laptop woke up, a stopped process continued); the wiring turns that into a
//! `Look`.

pub mod fs;
pub mod pubsub;
pub mod resume;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use queue_core::Class;
use queue_core::store::StoreUrl;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Which wake-up source a worker uses (`--wake`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WakeSpec {
    /// Poll the wake-up object.
    Poll,
    /// Filesystem events (local-directory stores only).
    Fs,
    /// Pull bucket notifications from `projects/P/subscriptions/S`.
    Pubsub {
        /// The full subscription name.
        subscription: String,
    },
}

impl WakeSpec {
    /// Parse `poll`, `fs` or `pubsub:projects/P/subscriptions/S`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        match s {
            "poll" => return Ok(WakeSpec::Poll),
            "fs" => return Ok(WakeSpec::Fs),
            _ => {}
        }
        let bad = || {
            format!(
                "bad wake-up source: {s:?}; use poll, fs or pubsub:projects/PROJECT/subscriptions/SUBSCRIPTION"
            )
        };
        let sub = s.strip_prefix("pubsub:").ok_or_else(bad)?;
        let parts: Vec<&str> = sub.split('/').collect();
        let ok = parts.len() == 4
            && parts[0] == "projects"
            && parts[2] == "subscriptions"
            && [parts[1], parts[3]].iter().all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || b"-_.~+%".contains(&c))
            });
        if !ok {
            return Err(bad());
        }
        Ok(WakeSpec::Pubsub {
            subscription: sub.to_string(),
        })
    }

    /// Whether this source pushes (idle workers stop polling while it works).
    pub fn is_push(&self) -> bool {
        !matches!(self, WakeSpec::Poll)
    }
}

impl fmt::Display for WakeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WakeSpec::Poll => f.write_str("poll"),
            WakeSpec::Fs => f.write_str("fs"),
            WakeSpec::Pubsub { subscription } => write!(f, "pubsub:{subscription}"),
        }
    }
}

/// What a wake-up source tells the runner.
#[derive(Debug)]
pub enum Wake {
    /// The push source works: stop polling the wake-up object, and list once for what arrived
    /// while it did not.
    Up,
    /// The push source failed: poll again until it is back.
    Down,
    /// A pending object was created.
    Notice(Notice),
    /// List once: the machine or process was suspended (the wall clock jumped), or a pending
    /// directory appeared whose first files a new watch may have missed.
    Look,
}

/// One new pending object, named relative to the store's root.
#[derive(Debug)]
pub struct Notice {
    /// `{class}/pending/{due}_{id}.json`.
    pub name: String,
    /// Acknowledge once the claim is decided (Pub/Sub); none for filesystem events.
    pub ack: Option<Ack>,
}

/// The receipt of one Pub/Sub message: [`Ack::done`] acknowledges it (batched by the source).
/// Dropping it without `done` lets the message be delivered again after its ack deadline.
#[derive(Debug)]
pub struct Ack {
    id: String,
    to: mpsc::UnboundedSender<String>,
}

impl Ack {
    /// A receipt whose id goes to `to` when done.
    pub fn new(id: String, to: mpsc::UnboundedSender<String>) -> Self {
        Ack { id, to }
    }

    /// The claim was decided: the message can go.
    pub fn done(self) {
        let _ = self.to.send(self.id);
    }
}

/// The sending side a source writes to.
pub type WakeTx = mpsc::UnboundedSender<Wake>;
/// The receiving side the runner reads.
pub type WakeRx = mpsc::UnboundedReceiver<Wake>;

/// Start the wake-up source `spec` for the worker of `class` on `store`, plus the resume
/// detector (a resume asks for one listing, whatever the source). `vars` is the environment
/// the Pub/Sub client reads (`PUBSUB_EMULATOR_HOST`, `GOOGLE_*`, `HOME`). The returned
/// [`resume::Resumes`] can be subscribed to by others (presence on wake).
pub fn start(
    spec: &WakeSpec,
    store: &StoreUrl,
    class: Class,
    vars: &BTreeMap<String, String>,
    clock: Arc<dyn queue_core::Clock>,
    stop: CancellationToken,
) -> Result<(WakeRx, resume::Resumes), String> {
    let (tx, rx) = mpsc::unbounded_channel();
    match (spec, store) {
        (WakeSpec::Poll, _) => {}
        (WakeSpec::Fs, StoreUrl::Local(dir)) => {
            fs::spawn(dir.clone(), class, tx.clone(), stop.clone())
        }
        (WakeSpec::Pubsub { subscription }, StoreUrl::Gcs { bucket, prefix }) => {
            let client =
                pubsub::PubsubClient::from_env(subscription, vars).map_err(|e| e.to_string())?;
            let scope = pubsub::Scope {
                bucket: bucket.clone(),
                prefix: prefix.clone(),
                class,
            };
            pubsub::spawn(client, scope, tx.clone(), stop.clone());
        }
        (spec, _) => return Err(format!("--wake {spec} does not work with this store")),
    }
    let resumes = resume::Resumes::spawn(clock, stop.clone());
    let mut heard = resumes.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                r = heard.recv() => match r {
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        if tx.send(Wake::Look).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
            }
        }
    });
    Ok((rx, resumes))
}

/// `{class}/pending/` — the prefix every notice of `class` is under.
pub fn pending_prefix(class: Class) -> String {
    queue_core::names::state_prefix(class, queue_core::TaskState::Pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print_back() {
        for s in [
            "poll",
            "fs",
            "pubsub:projects/my-proj/subscriptions/queue-heavy",
        ] {
            assert_eq!(WakeSpec::parse(s).unwrap().to_string(), s);
        }
        assert!(!WakeSpec::Poll.is_push());
        assert!(WakeSpec::Fs.is_push());
    }

    #[test]
    fn bad_specs_say_what_to_write() {
        for s in [
            "",
            "inotify",
            "pubsub:",
            "pubsub:my-sub",
            "pubsub:projects/p/topics/t",
            "pubsub:projects//subscriptions/s",
            "pubsub:projects/p/subscriptions/s/extra",
        ] {
            let err = WakeSpec::parse(s).unwrap_err();
            assert!(err.contains("pubsub:projects/PROJECT"), "{s}: {err}");
        }
    }
}
