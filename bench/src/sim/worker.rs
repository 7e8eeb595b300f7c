//! A worker process in the simulated month: queue-worker's real [`Discovery`] and
//! [`PresenceKeeper`] on the injected clock, with the runner's loop replayed as events.
//!
//! What the runner does, and what stands in for it here:
//! - claim: `Discovery::step` while a slot is free, again at once after a claim, after the
//!   returned wait when idle, and at once when a task ends (the runner's `learn`);
//! - a handler: no process; it "runs" for [`handler_seconds`] of its kind, and the heartbeat's
//!   renewals (`Queue::renew` every lease TTL / 3) and the final `Queue::complete(Done)` are
//!   made at the simulated times;
//! - presence: written at start (plus the clock check's read-back), every `presence_every`,
//!   and with `running = false` at a clean stop.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use queue_core::store::counting::CountingStore;
use queue_core::{Class, Envelope, Lease, Outcome, Queue, TaskId, names};
use queue_worker::discovery::Step;
use queue_worker::presence::{Identity, PresenceKeeper, TaskSet};
use queue_worker::{Discovery, DiscoverySettings};
use serde_json::json;

use super::workload::handler_seconds;

/// What a worker asks the event loop to do later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// Step discovery (ignored unless it is the latest step asked for).
    Step(u64),
    /// Rewrite presence (ignored once the process that armed it stopped).
    Presence(u64),
    /// Renew a running task's lease.
    Renew(TaskId),
    /// A running task's handler ends.
    End(TaskId),
}

#[derive(Debug)]
struct Running {
    lease: Lease,
    envelope: Envelope,
    ends_at: DateTime<Utc>,
}

/// One simulated worker process.
#[derive(Debug)]
pub struct SimWorker {
    /// worker-light or worker-heavy.
    pub name: &'static str,
    class: Class,
    queue: Arc<Queue>,
    /// Its operations.
    pub ops: Arc<CountingStore>,
    discovery_settings: DiscoverySettings,
    presence_every: Duration,
    slots: usize,
    discovery: Option<Discovery>,
    keeper: Option<PresenceKeeper>,
    running: BTreeMap<TaskId, Running>,
    step_gen: u64,
    presence_gen: u64,
    /// Lease renewals made.
    pub renewals: u64,
    /// Tasks committed.
    pub completed: u64,
}

impl SimWorker {
    /// A stopped worker.
    pub fn new(
        name: &'static str,
        class: Class,
        slots: usize,
        queue: Arc<Queue>,
        ops: Arc<CountingStore>,
        discovery: DiscoverySettings,
        presence_every: std::time::Duration,
    ) -> Self {
        SimWorker {
            name,
            class,
            queue,
            ops,
            discovery_settings: discovery,
            presence_every: Duration::from_std(presence_every).unwrap_or(Duration::minutes(20)),
            slots,
            discovery: None,
            keeper: None,
            running: BTreeMap::new(),
            step_gen: 0,
            presence_gen: 0,
            renewals: 0,
            completed: 0,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.queue.clock().now()
    }

    /// Whether the process is up.
    pub fn online(&self) -> bool {
        self.discovery.is_some()
    }

    /// Start the process: presence and clock check, a fresh discovery.
    pub async fn start(&mut self) -> Vec<(DateTime<Utc>, Wake)> {
        let now = self.now();
        self.presence_gen += 1;
        let keeper = PresenceKeeper::new(
            self.queue.bucket().clone(),
            self.queue.clock().clone(),
            Identity {
                worker_id: self.name.to_string(),
                class: self.class,
                host: "sim".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                concurrency: self.slots,
                kinds: Vec::new(),
            },
            self.presence_every.to_std().unwrap_or_default(),
            TaskSet::default(),
        );
        // publish_and_check_clock: the write, then a HEAD of it (the store's own timestamp
        // would not match the simulated clock, so the check itself is left out).
        let _ = keeper.publish(true).await;
        let _ = self.queue.bucket().head(&names::worker(self.name)).await;
        self.keeper = Some(keeper);
        self.discovery = Some(Discovery::new(
            self.class,
            self.name,
            self.discovery_settings.clone(),
            &self.queue,
        ));
        vec![
            (now, Wake::Step(self.next_step_gen())),
            (now + self.presence_every, Wake::Presence(self.presence_gen)),
        ]
    }

    /// A new step generation: steps asked for earlier are dropped.
    fn next_step_gen(&mut self) -> u64 {
        self.step_gen += 1;
        self.step_gen
    }

    /// Clean stop: stop claiming, mark presence stopped. Running handlers still finish.
    pub async fn stop(&mut self) {
        self.step_gen += 1;
        self.presence_gen += 1;
        self.discovery = None;
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.publish(false).await;
        }
    }

    /// Handle a wake-up.
    pub async fn wake(&mut self, wake: Wake) -> Vec<(DateTime<Utc>, Wake)> {
        match wake {
            Wake::Step(g) if g == self.step_gen => self.step().await,
            Wake::Presence(g) if g == self.presence_gen => {
                if let Some(keeper) = &self.keeper {
                    let _ = keeper.publish(true).await;
                }
                vec![(self.now() + self.presence_every, Wake::Presence(g))]
            }
            Wake::Renew(id) => self.renew(id).await,
            Wake::End(id) => self.end(id).await,
            Wake::Step(_) | Wake::Presence(_) => Vec::new(),
        }
    }

    async fn step(&mut self) -> Vec<(DateTime<Utc>, Wake)> {
        let now = self.now();
        if self.running.len() >= self.slots {
            return Vec::new(); // the next task end steps again
        }
        if self.discovery.is_none() {
            return Vec::new();
        }
        let generation = self.next_step_gen();
        let mut out = Vec::new();
        let discovery = self.discovery.as_mut().expect("checked above");
        match discovery.step(&self.queue).await {
            Ok(Step::Claimed(task)) => {
                let task = *task;
                let id = task.envelope.id;
                let run = Duration::seconds(handler_seconds(&task.envelope.kind));
                let ends_at = now + run;
                out.push((ends_at, Wake::End(id)));
                if let Some(at) = next_renewal(now, ends_at, self.renew_every()) {
                    out.push((at, Wake::Renew(id)));
                }
                self.running.insert(
                    id,
                    Running {
                        lease: task.lease,
                        envelope: task.envelope,
                        ends_at,
                    },
                );
                out.push((now, Wake::Step(generation)));
            }
            Ok(Step::Idle(wait)) => {
                let wait = Duration::from_std(wait).unwrap_or(Duration::seconds(30));
                out.push((now + wait, Wake::Step(generation)));
            }
            Err(_) => out.push((now + Duration::seconds(1), Wake::Step(generation))),
        }
        out
    }

    fn renew_every(&self) -> Duration {
        Duration::from_std(self.queue.settings().lease_ttl / 3).unwrap_or(Duration::seconds(100))
    }

    async fn renew(&mut self, id: TaskId) -> Vec<(DateTime<Utc>, Wake)> {
        let now = self.now();
        let every = self.renew_every();
        let Some(running) = self.running.get_mut(&id) else {
            return Vec::new();
        };
        if self
            .queue
            .renew(&mut running.lease, &running.envelope)
            .await
            .is_ok()
        {
            self.renewals += 1;
        }
        next_renewal(now, running.ends_at, every)
            .map(|at| vec![(at, Wake::Renew(id))])
            .unwrap_or_default()
    }

    async fn end(&mut self, id: TaskId) -> Vec<(DateTime<Utc>, Wake)> {
        let now = self.now();
        let Some(running) = self.running.remove(&id) else {
            return Vec::new();
        };
        let outcome = Outcome::Done(json!({ "ok": true }));
        if self
            .queue
            .complete(&running.lease, &running.envelope, outcome)
            .await
            .is_ok()
        {
            self.completed += 1;
        }
        match self.discovery.as_mut() {
            Some(discovery) => {
                discovery.worked(now);
                vec![(now, Wake::Step(self.next_step_gen()))]
            }
            None => Vec::new(),
        }
    }
}

/// The next renewal after `now` if the handler is still running then.
fn next_renewal(
    now: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    every: Duration,
) -> Option<DateTime<Utc>> {
    let at = now + every;
    (at < ends_at).then_some(at)
}
