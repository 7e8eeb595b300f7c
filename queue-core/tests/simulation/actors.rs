//! The simulated processes: enqueuers, workers, reclaimers and an operator. Each is a plain loop
//! over the public queue API, with its own seeded RNG, its own (skewed) clock and its own
//! `Queue` over a gated view of the shared store, like a separate process would have. Errors
//! are expected under injected faults: an actor notes them and goes on, as a real caller that
//! retries later would.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use queue_core::queue::CancelOutcome;
use queue_core::store::ObjectInfo;
use queue_core::task::{Class, Outcome};
use queue_core::{Clock, EnqueueRequest, ErrorKind, ManualClock, Queue};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::history::{Accepted, Commit, CommitKind, Hold, OperatorCall, SharedHistory};
use super::sched::{ActorId, OffsetClock, Park, Sched};

/// What an actor does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Enqueuer,
    Worker,
    Reclaimer,
    Operator,
}

impl Role {
    pub fn prefix(self) -> &'static str {
        match self {
            Role::Enqueuer => "enq",
            Role::Worker => "w",
            Role::Reclaimer => "rec",
            Role::Operator => "op",
        }
    }
}

/// Everything one simulated process has.
pub struct Ctx {
    pub actor: ActorId,
    pub name: String,
    pub queue: Queue,
    pub sched: Arc<Sched>,
    pub clock: OffsetClock,
    pub truth: ManualClock,
    pub history: SharedHistory,
    pub rng: StdRng,
    /// Distinct values for results and payloads across the whole run.
    pub serial: Arc<std::sync::atomic::AtomicU64>,
    /// How many distinct idempotency keys enqueuers draw from.
    pub key_pool: u32,
}

impl Ctx {
    pub fn seeded(seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed)
    }

    fn true_now(&self) -> DateTime<Utc> {
        self.truth.now()
    }

    fn local_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn to_true(&self, local: DateTime<Utc>) -> DateTime<Utc> {
        local - self.clock.offset
    }

    fn ttl(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.queue.settings().lease_ttl).unwrap()
    }

    async fn sleep_for(&self, d: chrono::Duration) {
        let until = self.true_now() + d;
        self.sched.park(self.actor, Park::Until(until)).await;
    }

    async fn sleep_until_local(&self, local: DateTime<Utc>) {
        self.sched
            .park(self.actor, Park::Until(self.to_true(local)))
            .await;
    }

    fn secs(&mut self, lo: i64, hi: i64) -> chrono::Duration {
        chrono::Duration::milliseconds(self.rng.random_range(lo * 1000..=hi * 1000))
    }

    fn serial(&self) -> u64 {
        self.serial
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }

    fn trace(&self, line: String) {
        let at = self.true_now();
        self.history
            .lock()
            .unwrap()
            .trace(at, format!("{} {line}", self.name));
    }

    fn error(&self, op: &str, err: &queue_core::Error) {
        self.trace(format!("{op} -> err {err}"));
        self.history.lock().unwrap().error(op, err);
    }

    /// Write an operator call down before making it (a crash inside leaves it unanswered).
    fn operator_call(
        &self,
        task: queue_core::TaskId,
        list: impl FnOnce(&mut super::history::History) -> &mut Vec<OperatorCall>,
    ) -> usize {
        let mut h = self.history.lock().unwrap();
        let call = OperatorCall {
            task,
            by: self.name.clone(),
            at: self.truth.now(),
            result: None,
        };
        let calls = list(&mut h);
        calls.push(call);
        calls.len() - 1
    }

    fn class(&mut self) -> Class {
        if self.rng.random_bool(0.5) {
            Class::Heavy
        } else {
            Class::Light
        }
    }
}

pub async fn run(role: Role, ctx: Ctx) {
    match role {
        Role::Enqueuer => enqueuer(ctx).await,
        Role::Worker => worker(ctx).await,
        Role::Reclaimer => reclaimer(ctx).await,
        Role::Operator => operator(ctx).await,
    }
}

async fn enqueuer(mut ctx: Ctx) {
    loop {
        let pause = ctx.secs(2, 60);
        ctx.sleep_for(pause).await;
        let class = ctx.class();
        let n = ctx.serial();
        let mut req = EnqueueRequest::new(class, "sim", json!({ "n": n }));
        let key = ctx
            .rng
            .random_bool(0.4)
            .then(|| format!("key-{}", ctx.rng.random_range(0..ctx.key_pool)));
        if let Some(k) = &key {
            req = req.key(k.clone());
        }
        if ctx.rng.random_bool(0.2) {
            let later = ctx.secs(1, 180);
            req = req.due_at(ctx.local_now() + later);
        }
        if ctx.rng.random_bool(0.3) {
            req = req.max_attempts(ctx.rng.random_range(1..=4));
        }
        match ctx.queue.enqueue(req).await {
            Ok(e) => {
                ctx.trace(format!(
                    "enqueue {class} {} key={key:?} created={}",
                    e.id, e.created
                ));
                let mut h = ctx.history.lock().unwrap();
                h.count("enqueue ok");
                h.accepted.push(Accepted {
                    id: e.id,
                    class,
                    key,
                    created: e.created,
                });
            }
            Err(e) => ctx.error("enqueue", &e),
        }
    }
}

async fn worker(mut ctx: Ctx) {
    let mut cache: [Vec<ObjectInfo>; 2] = [Vec::new(), Vec::new()];
    loop {
        let class = ctx.class();
        let slot = class as usize;
        let claimed = if !cache[slot].is_empty() && ctx.rng.random_bool(0.5) {
            // a busy worker claims from its cached listing, which may have gone stale
            let c = std::mem::take(&mut cache[slot]);
            let res = ctx.queue.claim_from(class, &ctx.name, &c).await;
            if matches!(res, Ok(Some(_))) {
                cache[slot] = c;
            }
            res
        } else {
            match ctx.queue.due_candidates(class).await {
                Ok(c) => {
                    let res = ctx.queue.claim_from(class, &ctx.name, &c).await;
                    cache[slot] = c;
                    res
                }
                Err(e) => Err(e),
            }
        };
        let task = match claimed {
            Ok(Some(task)) => task,
            Ok(None) => {
                let idle = ctx.secs(1, 8);
                ctx.sleep_for(idle).await;
                continue;
            }
            Err(e) => {
                ctx.error("claim", &e);
                let idle = ctx.secs(0, 5);
                ctx.sleep_for(idle).await;
                continue;
            }
        };
        let mut lease = task.lease;
        let env = task.envelope;
        let hold = {
            let start = ctx.true_now();
            let deadline = ctx.to_true(lease.deadline);
            let mut h = ctx.history.lock().unwrap();
            h.count("claim ok");
            h.trace(
                start,
                format!("{} claim {} e{}", ctx.name, lease.id, lease.epoch),
            );
            h.holds.push(Hold {
                task: lease.id,
                epoch: lease.epoch,
                worker: ctx.name.clone(),
                start,
                deadline,
                stop: None,
            });
            h.holds.len() - 1
        };
        let stop = |ctx: &Ctx| {
            let at = ctx.true_now();
            ctx.history.lock().unwrap().holds[hold]
                .stop
                .get_or_insert(at);
        };

        // The handler runs for a while; the heartbeat renews every ttl/3 (a lazy worker
        // forgets, and its lease runs out under it).
        let ttl = ctx.ttl();
        let run_for = match ctx.rng.random_range(0..10) {
            0 => chrono::Duration::zero(),
            1..=5 => ctx.secs(1, ttl.num_seconds() / 2),
            _ => ctx.secs(ttl.num_seconds() / 2, ttl.num_seconds() * 3),
        };
        let lazy = ctx.rng.random_bool(0.1);
        let end = ctx.local_now() + run_for;
        let mut lost = false;
        loop {
            let next_renew = ctx.local_now() + ttl / 3;
            if lazy || next_renew >= end {
                ctx.sleep_until_local(end).await;
                break;
            }
            ctx.sleep_until_local(next_renew).await;
            match ctx.queue.renew(&mut lease, &env).await {
                Ok(()) => {
                    let deadline = ctx.to_true(lease.deadline);
                    let mut h = ctx.history.lock().unwrap();
                    h.count("renew ok");
                    h.holds[hold].deadline = deadline;
                }
                Err(e) if e.kind() == ErrorKind::LeaseLost => {
                    stop(&ctx);
                    ctx.trace(format!("renew {} e{} -> lost", lease.id, lease.epoch));
                    ctx.history.lock().unwrap().count("renew lost");
                    lost = true;
                    break;
                }
                Err(e) => ctx.error("renew", &e),
            }
        }
        if lost {
            continue;
        }

        let (kind, outcome) = match ctx.rng.random_range(0..100) {
            0..45 => {
                let value =
                    json!({ "task": lease.id.to_string(), "by": ctx.name, "n": ctx.serial() });
                (CommitKind::Done, Some(Outcome::Done(value)))
            }
            45..60 => {
                let after = ctx
                    .rng
                    .random_bool(0.3)
                    .then(|| Duration::from_secs(ctx.rng.random_range(1..90)));
                let error = "handler exited 1".to_string();
                (CommitKind::Retry, Some(Outcome::Retry { error, after }))
            }
            60..70 => {
                let error = "handler said: fail now".to_string();
                (CommitKind::Fail, Some(Outcome::Fail { error }))
            }
            70..80 => {
                let after = Duration::from_secs(ctx.rng.random_range(1..60));
                (CommitKind::Snooze, Some(Outcome::Snooze { after }))
            }
            80..88 => (CommitKind::Release, None),
            _ => {
                // walks away without a word (the handler hung, the process wedged): the
                // lease must run out and be taken over
                stop(&ctx);
                ctx.history.lock().unwrap().count("walked away");
                continue;
            }
        };
        stop(&ctx);
        let value = match &outcome {
            Some(Outcome::Done(v)) => Some(v.clone()),
            _ => None,
        };
        // a real worker retries a commit the store did not answer, a few times
        for _ in 0..3 {
            // written down before the call: a crash inside it leaves an unanswered commit
            let entry = {
                let mut h = ctx.history.lock().unwrap();
                h.commits.push(Commit {
                    task: lease.id,
                    epoch: lease.epoch,
                    worker: ctx.name.clone(),
                    kind,
                    value: value.clone(),
                    at: ctx.truth.now(),
                    result: None,
                });
                h.commits.len() - 1
            };
            let res = match &outcome {
                Some(o) => ctx.queue.complete(&lease, &env, o.clone()).await,
                None => ctx.queue.release(&lease, &env).await,
            };
            let result = res.as_ref().map(|c| c.state).map_err(|e| e.kind());
            ctx.trace(format!(
                "commit {kind:?} {} e{} -> {result:?}",
                lease.id, lease.epoch
            ));
            {
                let mut h = ctx.history.lock().unwrap();
                h.commits[entry].result = Some(result);
                match &res {
                    Ok(_) => h.count("commit ok"),
                    Err(e) => h.error("commit", e),
                }
            }
            match res {
                Err(e) if e.kind().is_retryable() => {
                    let wait = ctx.secs(0, 3);
                    ctx.sleep_for(wait).await;
                }
                _ => break,
            }
        }
    }
}

async fn reclaimer(mut ctx: Ctx) {
    loop {
        let pause = ctx.secs(2, 25);
        ctx.sleep_for(pause).await;
        for class in Class::ALL {
            match ctx.queue.reclaim(class, &ctx.name).await {
                Ok(r) => {
                    let mut h = ctx.history.lock().unwrap();
                    *h.tally.entry("reclaim: expired taken over").or_insert(0) +=
                        r.expired.len() as u64;
                    *h.tally.entry("reclaim: rolled forward").or_insert(0) +=
                        r.rolled_forward.len() as u64;
                    *h.tally.entry("reclaim: fences collected").or_insert(0) += r.collected as u64;
                    if !r.expired.is_empty() || !r.rolled_forward.is_empty() {
                        let at = ctx.truth.now();
                        h.trace(
                            at,
                            format!(
                                "{} reclaim {class}: expired={:?} rolled={:?}",
                                ctx.name, r.expired, r.rolled_forward
                            ),
                        );
                    }
                }
                Err(e) => ctx.error("reclaim", &e),
            }
        }
    }
}

async fn operator(mut ctx: Ctx) {
    loop {
        let pause = ctx.secs(20, 150);
        ctx.sleep_for(pause).await;
        if ctx.rng.random_bool(0.5) {
            let target = {
                let h = ctx.history.lock().unwrap();
                if h.accepted.is_empty() {
                    None
                } else {
                    Some(h.accepted[ctx.rng.random_range(0..h.accepted.len())].id)
                }
            };
            let Some(id) = target else { continue };
            let entry = ctx.operator_call(id, |h| &mut h.cancels);
            let res = ctx.queue.cancel(id, &ctx.name, "simulated operator").await;
            ctx.trace(format!(
                "cancel {id} -> {:?}",
                res.as_ref()
                    .map(|o| matches!(o, CancelOutcome::CancelledRunning(_)))
            ));
            let mut h = ctx.history.lock().unwrap();
            if let Err(e) = &res {
                h.error("cancel", e);
            }
            h.cancels[entry].result = Some(res.map(|_| ()).map_err(|e| e.kind()));
        } else {
            let failed = match ctx.queue.failed_matching(&Default::default()).await {
                Ok(f) => f,
                Err(e) => {
                    ctx.error("failed_matching", &e);
                    continue;
                }
            };
            if failed.is_empty() {
                continue;
            }
            let id = failed[ctx.rng.random_range(0..failed.len())].id;
            let entry = ctx.operator_call(id, |h| &mut h.replays);
            let res = ctx.queue.replay(id).await;
            ctx.trace(format!(
                "replay {id} -> {:?}",
                res.as_ref().map(|e| e.epoch)
            ));
            let mut h = ctx.history.lock().unwrap();
            if let Err(e) = &res {
                h.error("replay", e);
            }
            if let Ok(env) = &res {
                // a replay is a new task, accepted like an enqueue
                h.accepted.push(Accepted {
                    id: env.id,
                    class: env.class,
                    key: None,
                    created: true,
                });
            }
            h.replays[entry].result = Some(res.map(|_| ()).map_err(|e| e.kind()));
        }
    }
}
