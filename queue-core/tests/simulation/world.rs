//! One seeded run: build the store stack (backend → recorder → fault injector → one gate per
//! actor), start the actors, drive them for `steps` scheduling decisions (grants, clock moves,
//! crashes, pauses), then stop everything, turn faults off, let reclaim passes and a clean
//! drain worker bring the queue to rest, and hand the final bucket to the auditor.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use queue_core::store::faulty::{Fault, FaultCounts, FaultRule, FaultyStore, Op};
use queue_core::task::{Class, Outcome, TaskState};
use queue_core::{Bucket, Clock, ManualClock, Queue, Settings};
use rand::Rng;
use serde_json::json;
use tokio::task::JoinHandle;

use super::actors::{self, Ctx, Role};
use super::auditor::{self, Snapshot};
use super::history::{Commit, CommitKind, History, Hold, RecorderStore, SharedHistory};
use super::sched::{ActorId, GateStore, OffsetClock, Park, Sched};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Local,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Local => "local",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    pub steps: usize,
    pub backend: Backend,
    pub trace: bool,
}

/// What a run found and did.
#[derive(Debug, Default)]
pub struct Report {
    pub violations: Vec<String>,
    pub trace_tail: Vec<String>,
    pub tally: std::collections::BTreeMap<&'static str, u64>,
    pub errors: std::collections::BTreeMap<String, u64>,
    pub faults: FaultCounts,
    pub accepted: usize,
    pub done: usize,
    pub failed: usize,
    pub simulated: chrono::Duration,
    /// A digest of the run's trace: equal for two runs of the same seed.
    pub digest: u64,
}

pub fn settings() -> Settings {
    Settings {
        lease_ttl: Duration::from_secs(60),
        max_clock_skew: Duration::from_secs(10),
        max_attempts: 4,
        backoff_base: Duration::from_secs(2),
        backoff_max: Duration::from_secs(60),
        claim_batch: 4,
        ..Settings::default()
    }
}

/// The faults every run injects, on every operation and prefix.
pub fn fault_rules() -> Vec<FaultRule> {
    vec![
        FaultRule::new(Fault::Latency(Duration::from_millis(250))).probability(0.05),
        FaultRule::new(Fault::Error).probability(0.03),
        FaultRule::new(Fault::Timeout(Duration::from_secs(5))).probability(0.01),
        FaultRule::new(Fault::LostReply)
            .ops([Op::Put, Op::Delete, Op::Copy])
            .probability(0.03),
        FaultRule::new(Fault::LandedThenConflict).probability(0.03),
        // the lease chain and the idempotency records get extra attention: they decide races
        FaultRule::new(Fault::LostReply)
            .ops([Op::Put])
            .prefix("heavy/running/")
            .probability(0.05),
        FaultRule::new(Fault::Error)
            .ops([Op::Head, Op::Get])
            .prefix("light/running/")
            .probability(0.05),
        FaultRule::new(Fault::LostReply)
            .ops([Op::Put])
            .prefix("keys/")
            .probability(0.05),
    ]
}

struct Slot {
    role: Role,
    index: usize,
    generation: u32,
    actor: ActorId,
    name: String,
    handle: JoinHandle<()>,
    paused_until: Option<DateTime<Utc>>,
}

struct World {
    cfg: Config,
    sched: Arc<Sched>,
    truth: ManualClock,
    history: SharedHistory,
    faulty: Arc<FaultyStore>,
    base: Bucket,
    settings: Settings,
    serial: Arc<AtomicU64>,
    next_actor: ActorId,
    rng: rand::rngs::StdRng,
}

impl World {
    fn spawn(&mut self, role: Role, index: usize, generation: u32) -> Slot {
        let actor = self.next_actor;
        self.next_actor += 1;
        let name = format!("{}{index}-{generation}", role.prefix());
        let skew = chrono::Duration::from_std(self.settings.max_clock_skew).unwrap();
        // offsets within ±skew/2: any two clocks differ by at most the tolerated skew
        let half = skew.num_milliseconds() / 2;
        let offset = chrono::Duration::milliseconds(self.rng.random_range(-half..=half));
        let clock = OffsetClock {
            base: self.truth.clone(),
            offset,
        };
        let store = GateStore::new(self.faulty.clone(), self.sched.clone(), actor);
        let queue = Queue::new(
            self.base.with_object_store(Arc::new(store)),
            Arc::new(clock.clone()),
            self.settings.clone(),
        )
        .with_seed(
            self.cfg
                .seed
                .wrapping_mul(1_000_003)
                .wrapping_add(actor as u64),
        );
        let ctx = Ctx {
            actor,
            name: name.clone(),
            queue,
            sched: self.sched.clone(),
            clock,
            truth: self.truth.clone(),
            history: self.history.clone(),
            rng: Ctx::seeded(self.cfg.seed ^ ((actor as u64 + 1) << 32)),
            serial: self.serial.clone(),
            key_pool: 8,
        };
        let sched = self.sched.clone();
        let handle = tokio::spawn(async move {
            actors::run(role, ctx).await;
            sched.finish(actor);
        });
        Slot {
            role,
            index,
            generation,
            actor,
            name,
            handle,
            paused_until: None,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.truth.now()
    }

    fn note(&self, line: String) {
        let at = self.now();
        self.history.lock().unwrap().trace(at, line);
    }

    /// Kill the process in `slot` wherever it is parked, and start a new one in its place.
    async fn crash(&mut self, i: usize, slots: &mut [Slot]) {
        let old = &slots[i];
        self.sched.forget(old.actor);
        old.handle.abort();
        let at = self.now();
        {
            let mut h = self.history.lock().unwrap();
            h.stop_all(&old.name, at);
            h.count("crashes");
        }
        self.note(format!("CRASH {}", old.name));
        let (role, index, generation) = (old.role, old.index, old.generation + 1);
        let fresh = self.spawn(role, index, generation);
        let actor = fresh.actor;
        slots[i] = fresh;
        self.sched.settle(actor).await;
    }
}

pub fn run(cfg: &Config) -> Report {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(run_async(cfg.clone()))
}

async fn run_async(cfg: Config) -> Report {
    let start = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
    let truth = ManualClock::new(start);
    let history: SharedHistory = Arc::new(Mutex::new(History {
        keep_trace: cfg.trace,
        ..Default::default()
    }));
    let _dir; // keeps a local store's directory alive for the run
    let base = match cfg.backend {
        Backend::Memory => Bucket::memory(),
        Backend::Local => {
            let dir = tempfile::tempdir().unwrap();
            let bucket = Bucket::local(dir.path()).unwrap();
            _dir = dir;
            bucket
        }
    };
    let recorder = Arc::new(RecorderStore::new(
        base.object_store().clone(),
        history.clone(),
        truth.clone(),
    ));
    let faulty = Arc::new(FaultyStore::new(recorder, cfg.seed, fault_rules()));
    let settings = settings();
    let mut world = World {
        sched: Arc::new(Sched::default()),
        truth: truth.clone(),
        history: history.clone(),
        faulty: faulty.clone(),
        base: base.clone(),
        settings: settings.clone(),
        serial: Arc::new(AtomicU64::new(0)),
        next_actor: 0,
        rng: Ctx::seeded(cfg.seed),
        cfg: cfg.clone(),
    };

    let cast = [
        (Role::Enqueuer, 2),
        (Role::Worker, 6),
        (Role::Reclaimer, 2),
        (Role::Operator, 1),
    ];
    let mut slots = Vec::new();
    for (role, n) in cast {
        for index in 0..n {
            let slot = world.spawn(role, index, 0);
            world.sched.settle(slot.actor).await;
            slots.push(slot);
        }
    }

    let ttl = chrono::Duration::from_std(settings.lease_ttl).unwrap();
    for _ in 0..cfg.steps {
        let roll = world.rng.random_range(0..1000);
        if roll < 5 {
            let i = world.rng.random_range(0..slots.len());
            world.crash(i, &mut slots).await;
        } else if roll < 15 {
            // a laptop lid closes (or SIGSTOP): the process freezes wherever it is
            let workers: Vec<usize> = (0..slots.len())
                .filter(|&i| slots[i].role == Role::Worker && slots[i].paused_until.is_none())
                .collect();
            if !workers.is_empty() {
                let i = workers[world.rng.random_range(0..workers.len())];
                let ms = world
                    .rng
                    .random_range(ttl.num_milliseconds() / 2..=ttl.num_milliseconds() * 4);
                let until = world.now() + chrono::Duration::milliseconds(ms);
                slots[i].paused_until = Some(until);
                world.history.lock().unwrap().count("pauses");
                world.note(format!(
                    "PAUSE {} until {}",
                    slots[i].name,
                    until.format("%H:%M:%S")
                ));
            }
        } else if roll < 80 {
            // time passes between two store operations
            let ms = world.rng.random_range(0..3000);
            truth.advance(chrono::Duration::milliseconds(ms));
        }

        let now = world.now();
        for s in slots.iter_mut() {
            if s.paused_until.is_some_and(|t| t <= now) {
                s.paused_until = None;
            }
        }
        let parked = world.sched.parked();
        let frozen = |actor: ActorId| {
            slots
                .iter()
                .any(|s| s.actor == actor && s.paused_until.is_some())
        };
        let runnable: Vec<ActorId> = parked
            .iter()
            .filter(|(a, why)| {
                !frozen(*a)
                    && match why {
                        Park::Store => true,
                        Park::Until(t) => *t <= now,
                    }
            })
            .map(|(a, _)| *a)
            .collect();
        if runnable.is_empty() {
            // nothing can move: jump to the next instant something can
            let wake = parked
                .iter()
                .filter_map(|(a, why)| match why {
                    Park::Until(t) if !frozen(*a) => Some(*t),
                    _ => None,
                })
                .chain(slots.iter().filter_map(|s| s.paused_until))
                .min();
            if let Some(t) = wake {
                truth.set(t.max(now));
            }
            continue;
        }
        let pick = runnable[world.rng.random_range(0..runnable.len())];
        world.sched.grant(pick).await;
    }

    // Stop every process where it stands.
    let stopped_at = world.now();
    for s in &slots {
        world.sched.forget(s.actor);
        s.handle.abort();
        world.history.lock().unwrap().stop_all(&s.name, stopped_at);
    }
    for s in slots {
        let _ = s.handle.await;
    }
    let simulated = stopped_at - Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();

    // Faults off; reclaim and drain until the queue is at rest.
    faulty.set_enabled(false);
    let clean = base.with_object_store(faulty.clone());
    let q = Queue::new(clean.clone(), Arc::new(truth.clone()), settings.clone())
        .with_seed(cfg.seed ^ 0x5eed);
    let mut violations = Vec::new();
    let step = chrono::Duration::from_std(
        settings.lease_ttl + settings.max_clock_skew + Duration::from_secs(181),
    )
    .unwrap()
        + chrono::Duration::from_std(settings.backoff_max).unwrap();
    let mut at_rest = false;
    for _ in 0..40 {
        truth.advance(step);
        for class in Class::ALL {
            if let Err(e) = q.reclaim(class, "auditor").await {
                violations.push(format!("reclaim failed with faults off: {e}"));
            }
            drain(&q, class, &truth, &history, &world.serial, &mut violations).await;
        }
        let mut busy = false;
        for class in Class::ALL {
            for state in [TaskState::Pending, TaskState::Running] {
                let prefix = queue_core::names::state_prefix(class, state);
                busy |= !clean.list(&prefix).await.unwrap().is_empty();
            }
        }
        if !busy {
            at_rest = true;
            break;
        }
    }
    let snapshot = Snapshot::read(&clean).await;
    if !at_rest {
        violations.push(format!(
            "stuck: the queue did not come to rest after 40 reclaim+drain rounds with faults off: pending={:?} running={:?}",
            snapshot.pending.keys().collect::<Vec<_>>(),
            snapshot.chains.keys().collect::<Vec<_>>()
        ));
    }
    let h = history.lock().unwrap();
    let (found, revoked) = auditor::audit(&h, &snapshot);
    violations.extend(found);
    let mut tally = h.tally.clone();
    tally.insert("overlaps with a cancelled holder (by design)", revoked);
    Report {
        violations,
        trace_tail: h.trace.iter().rev().take(60).rev().cloned().collect(),
        tally,
        errors: h.errors.clone(),
        faults: faulty.counts(),
        accepted: h.accepted.len(),
        done: snapshot.done.len(),
        failed: snapshot.failed.len(),
        simulated,
        digest: h.digest,
    }
}

/// A clean worker: claim every due task and finish it.
async fn drain(
    q: &Queue,
    class: Class,
    truth: &ManualClock,
    history: &SharedHistory,
    serial: &AtomicU64,
    violations: &mut Vec<String>,
) {
    loop {
        let task = match q.claim(class, "drain").await {
            Ok(Some(t)) => t,
            Ok(None) => return,
            Err(e) => {
                violations.push(format!("claim failed with faults off: {e}"));
                return;
            }
        };
        let at = truth.now();
        let n = serial.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let value = json!({ "task": task.lease.id.to_string(), "by": "drain", "n": n });
        let res = q
            .complete(&task.lease, &task.envelope, Outcome::Done(value.clone()))
            .await;
        let mut h = history.lock().unwrap();
        h.holds.push(Hold {
            task: task.lease.id,
            epoch: task.lease.epoch,
            worker: "drain".into(),
            start: at,
            deadline: task.lease.deadline,
            stop: Some(at),
        });
        h.commits.push(Commit {
            task: task.lease.id,
            epoch: task.lease.epoch,
            worker: "drain".into(),
            kind: CommitKind::Done,
            value: Some(value),
            at,
            result: Some(res.as_ref().map(|c| c.state).map_err(|e| e.kind())),
        });
        h.count("drained");
        if let Err(e) = res {
            violations.push(format!(
                "drain commit failed with faults off: task={} ({e})",
                task.lease.id
            ));
        }
    }
}
