//! The simulated month: the real queue, discovery, presence and scheduler code on an injected
//! clock ([`ManualClock`]) over an in-memory store, driven as a discrete-event simulation.
//! Every actor's store operations are counted separately (queue-core's `CountingStore`).
//!
//! - [`workload`] — the month's requests, the MacBook's hours, handler run times (pure).
//! - [`worker`]   — a worker process as events: discovery steps, renewals, completions, presence.
//! - [`bill`]     — GCS prices, the free allowance, the bill (pure).
//!
//! The actors: the ingress (a keyed enqueue per Telegram request; for heavy requests also the
//! presence listing it uses to say whether the MacBook is online), worker-light (one slot, the
//! scheduler with the six routine schedules), worker-heavy (four slots, up only while the
//! MacBook is). What is modelled rather than run: handler processes (a run time per kind) and
//! Telegram itself.

pub mod bill;
pub mod worker;
pub mod workload;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use queue_core::schedule::{
    InlineOutcome, InlineRunner, Schedule, ScheduleStore, Scheduler, SchedulerSettings, parse_toml,
};
use queue_core::store::counting::{CountingStore, OpCounts};
use queue_core::{Bucket, Class, EnqueueRequest, Envelope, ManualClock, Queue, Settings, presence};
use queue_worker::DiscoverySettings;
use queue_worker::config::{CloudCadence, Defaults};
use serde::Serialize;
use serde_json::json;

use self::worker::{SimWorker, Wake};
use self::workload::{
    Arrival, TELEGRAM_HEAVY, TELEGRAM_LIGHT, Workload, arrivals, macbook_windows,
};
use crate::BenchResult;

/// The six routine schedules of today, as the workers load them.
pub const SCHEDULES_TOML: &str = include_str!("../../../examples/schedules.toml");

/// The cadences that decide the bill: plain data. The defaults are what the binaries use on
/// `gs://` (queue-worker's `Defaults::light()` / `Defaults::heavy()` cloud cadences).
#[derive(Debug, Clone, PartialEq)]
pub struct Knobs {
    /// Longest wait between two wake-up reads of an idle worker (`--idle-poll`).
    pub idle_poll: StdDuration,
    /// First wake-up read after work (`--busy-poll`).
    pub busy_poll: StdDuration,
    /// Lease TTL (`--lease-ttl`); renewals every third of it.
    pub lease_ttl: StdDuration,
    /// worker-light's presence, safety-net listing, reclaim and schedule-refresh cadences.
    pub light: CloudCadence,
    /// worker-heavy's.
    pub heavy: CloudCadence,
}

impl Default for Knobs {
    fn default() -> Self {
        let cloud = DiscoverySettings::cloud();
        Knobs {
            idle_poll: cloud.idle_poll,
            busy_poll: cloud.busy_poll,
            lease_ttl: Settings::default().lease_ttl,
            light: Defaults::light().cloud,
            heavy: Defaults::heavy().cloud,
        }
    }
}

impl Knobs {
    /// These knobs with `change` applied to both workers' cadences.
    pub fn both(mut self, change: impl Fn(&mut CloudCadence)) -> Self {
        change(&mut self.light);
        change(&mut self.heavy);
        self
    }

    fn discovery(&self, cadence: &CloudCadence) -> DiscoverySettings {
        DiscoverySettings {
            busy_poll: self.busy_poll.min(self.idle_poll),
            idle_poll: self.idle_poll,
            list_every: cadence.list_every,
            reclaim_every: cadence.reclaim_every,
        }
    }

    fn settings(&self) -> Settings {
        Settings {
            lease_ttl: self.lease_ttl,
            ..Settings::default()
        }
    }
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// When the month starts.
    pub start: DateTime<Utc>,
    /// How many days.
    pub days: u32,
    /// Requests and the MacBook's hours.
    pub workload: Workload,
    /// Schedules loaded by worker-light at start (empty: the scheduler runs with none).
    pub schedules: Vec<Schedule>,
    /// Cadences.
    pub knobs: Knobs,
    /// Count from this long after the start (leave out start-up costs).
    pub measure_from: Duration,
}

impl Scenario {
    /// Issue 9's month: 30 days from Monday 2026-06-01 00:00 in Seoul, today's workload and
    /// schedules, default knobs, counted from the start.
    pub fn month() -> Self {
        let start = Utc.with_ymd_and_hms(2026, 5, 31, 15, 0, 0).unwrap();
        Scenario {
            start,
            days: 30,
            workload: Workload::today(),
            schedules: parse_toml(SCHEDULES_TOML, start)
                .expect("examples/schedules.toml is a valid schedules file"),
            knobs: Knobs::default(),
            measure_from: Duration::zero(),
        }
    }
}

/// Tasks the month created and finished.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TaskCounts {
    /// Telegram requests enqueued as heavy.
    pub telegram_heavy: u64,
    /// Telegram requests enqueued as light.
    pub telegram_light: u64,
    /// Tasks the scheduler created.
    pub scheduled: u64,
    /// Tasks worker-light completed.
    pub done_light: u64,
    /// Tasks worker-heavy completed.
    pub done_heavy: u64,
    /// Lease renewals.
    pub renewals: u64,
    /// Slots of inline schedules run inside worker-light's scheduler (no task).
    pub inline_runs: u64,
    /// Roll-ups the scheduler wrote for inline schedules.
    pub rollups: u64,
}

/// What the simulation counted.
#[derive(Debug, Clone, Serialize)]
pub struct SimReport {
    /// Hours counted.
    pub hours: f64,
    /// Operations by actor: ingress, worker-light, worker-heavy, scheduler.
    pub by_actor: BTreeMap<String, OpCounts>,
    /// All Class A operations.
    pub class_a: u64,
    /// All Class B operations.
    pub class_b: u64,
    /// Tasks.
    pub tasks: TaskCounts,
}

#[derive(Debug, Clone)]
enum Event {
    Arrival(usize),
    Worker(usize, Wake),
    Online(usize),
    Offline(usize),
    SchedulerTick,
    Measure,
}

/// The event queue: earliest first, then in the order scheduled.
#[derive(Debug, Default)]
struct Agenda {
    heap: BinaryHeap<Reverse<(DateTime<Utc>, u64)>>,
    events: BTreeMap<u64, Event>,
    seq: u64,
}

impl Agenda {
    fn push(&mut self, at: DateTime<Utc>, event: Event) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq)));
        self.events.insert(self.seq, event);
    }

    fn pop(&mut self) -> Option<(DateTime<Utc>, Event)> {
        let Reverse((at, seq)) = self.heap.pop()?;
        Some((
            at,
            self.events
                .remove(&seq)
                .expect("every queued event is stored"),
        ))
    }
}

fn counted(shared: &Bucket) -> (Bucket, Arc<CountingStore>) {
    let ops = Arc::new(CountingStore::new(shared.object_store().clone()));
    (shared.with_object_store(ops.clone()), ops)
}

const LIGHT: usize = 0;
const HEAVY: usize = 1;

/// Run the scenario.
pub async fn run(scenario: &Scenario) -> BenchResult<SimReport> {
    let clock = ManualClock::new(scenario.start);
    let shared = Bucket::memory();
    let settings = scenario.knobs.settings();
    let queue_on = |bucket: Bucket, seed: u64| {
        Arc::new(Queue::new(bucket, Arc::new(clock.clone()), settings.clone()).with_seed(seed))
    };

    let (ingress_bucket, ingress_ops) = counted(&shared);
    let ingress = queue_on(ingress_bucket, 1);
    let (scheduler_bucket, scheduler_ops) = counted(&shared);
    let scheduler_queue = queue_on(scheduler_bucket, 2);
    let mut workers = Vec::new();
    let knobs = &scenario.knobs;
    for (name, class, slots, seed, cadence) in [
        ("worker-light", Class::Light, 1, 3, &knobs.light),
        ("worker-heavy", Class::Heavy, 4, 4, &knobs.heavy),
    ] {
        let (bucket, ops) = counted(&shared);
        workers.push(SimWorker::new(
            name,
            class,
            slots,
            queue_on(bucket, seed),
            ops,
            knobs.discovery(cadence),
            cadence.presence_every,
        ));
    }

    let end = scenario.start + Duration::days(i64::from(scenario.days));
    let requests = arrivals(&scenario.workload, scenario.start, scenario.days);
    let mut agenda = Agenda::default();
    for (i, a) in requests.iter().enumerate() {
        agenda.push(a.at, Event::Arrival(i));
    }
    agenda.push(scenario.start, Event::Online(LIGHT));
    for (up, down) in macbook_windows(&scenario.workload, scenario.start, scenario.days) {
        agenda.push(up, Event::Online(HEAVY));
        if down < end {
            agenda.push(down, Event::Offline(HEAVY));
        }
    }
    agenda.push(scenario.start + scenario.measure_from, Event::Measure);

    // worker-light loads the schedules file at start and runs the scheduler.
    let store = ScheduleStore::new(scheduler_queue.bucket().clone());
    for schedule in &scenario.schedules {
        store.upsert(schedule, scenario.start).await?;
    }
    let scheduler = Scheduler::new(
        scheduler_queue.clone(),
        SchedulerSettings {
            refresh_every: knobs.light.schedule_refresh,
            ..SchedulerSettings::default()
        },
    )
    .with_inline(Arc::new(InlineModel), "worker-light.sim")?;
    agenda.push(scenario.start, Event::SchedulerTick);

    let mut tasks = TaskCounts::default();

    while let Some((at, event)) = agenda.pop() {
        if at >= end {
            break;
        }
        clock.set(at);
        match event {
            Event::Arrival(i) => {
                let created = telegram(&ingress, &requests[i]).await?;
                if created {
                    match requests[i].class {
                        Class::Heavy => tasks.telegram_heavy += 1,
                        Class::Light => tasks.telegram_light += 1,
                    }
                }
            }
            Event::Worker(w, wake) => {
                for (t, next) in workers[w].wake(wake).await {
                    agenda.push(t, Event::Worker(w, next));
                }
            }
            Event::Online(w) => {
                for (t, next) in workers[w].start().await {
                    agenda.push(t, Event::Worker(w, next));
                }
            }
            Event::Offline(w) => workers[w].stop().await,
            Event::SchedulerTick => {
                if let Ok(report) = scheduler.run_once().await {
                    tasks.scheduled += report.created().count() as u64;
                    tasks.inline_runs += report.ran.len() as u64;
                    tasks.rollups += report.rollups.len() as u64;
                }
                let max_sleep = Duration::from_std(scheduler.settings().max_sleep)
                    .unwrap_or(Duration::seconds(30));
                let next = scheduler
                    .next_wakeup()
                    .unwrap_or(at + max_sleep)
                    .clamp(at + Duration::milliseconds(10), at + max_sleep);
                agenda.push(next, Event::SchedulerTick);
            }
            Event::Measure => {
                ingress_ops.reset();
                scheduler_ops.reset();
                for w in &workers {
                    w.ops.reset();
                }
                tasks = TaskCounts::default();
                for w in &mut workers {
                    w.renewals = 0;
                    w.completed = 0;
                }
            }
        }
    }

    tasks.done_light = workers[LIGHT].completed;
    tasks.done_heavy = workers[HEAVY].completed;
    tasks.renewals = workers.iter().map(|w| w.renewals).sum();
    let mut by_actor = BTreeMap::new();
    by_actor.insert("ingress".to_string(), ingress_ops.snapshot());
    by_actor.insert("scheduler".to_string(), scheduler_ops.snapshot());
    for (name, ops) in workers_ops(&workers) {
        by_actor.insert(name, ops.snapshot());
    }
    let class_a = by_actor.values().map(|o| o.class_a).sum();
    let class_b = by_actor.values().map(|o| o.class_b).sum();
    let hours = (end - (scenario.start + scenario.measure_from)).num_seconds() as f64 / 3600.0;
    Ok(SimReport {
        hours,
        by_actor,
        class_a,
        class_b,
        tasks,
    })
}

/// Inline runs as the model has them: the handler succeeds at once (its run time only
/// delays worker-light's other schedules, which the bill does not see).
#[derive(Debug)]
struct InlineModel;

#[async_trait::async_trait]
impl InlineRunner for InlineModel {
    fn can_run(&self, _: &Schedule) -> bool {
        true
    }

    async fn run(&self, _: &Envelope) -> InlineOutcome {
        InlineOutcome::Done(json!({ "ok": true }))
    }
}

fn workers_ops(workers: &[SimWorker]) -> Vec<(String, Arc<CountingStore>)> {
    workers
        .iter()
        .map(|w| (w.name.to_string(), w.ops.clone()))
        .collect()
}

/// What the ingress does with one request: a keyed enqueue; for a heavy one, the presence
/// listing behind its "the MacBook is online / offline" reply. Whether it was created.
async fn telegram(ingress: &Queue, request: &Arrival) -> BenchResult<bool> {
    let kind = match request.class {
        Class::Heavy => TELEGRAM_HEAVY,
        Class::Light => TELEGRAM_LIGHT,
    };
    let req = EnqueueRequest::new(
        request.class,
        kind,
        json!({ "text": "…", "chat_id": 1, "message_id": request.update_id }),
    )
    .key(format!("tg-update-{}", request.update_id));
    let enqueued = ingress.enqueue(req).await?;
    if enqueued.created && request.class == Class::Heavy {
        presence::list(ingress.bucket()).await?;
    }
    Ok(enqueued.created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_day_of_todays_workload_runs_every_task() {
        let scenario = Scenario {
            days: 1,
            ..Scenario::month()
        };
        let report = run(&scenario).await.unwrap();
        let t = &report.tasks;
        assert_eq!(t.telegram_heavy + t.telegram_light, 100);
        // Slots after the schedules' creation at 00:00: 47 clipboard backups and the 09:00
        // ideation as tasks (midnight slots start the next day; 2026-06-01 is a Monday); the
        // sync check inline: 287 runs and 24 roll-ups (the first, empty, claims the first hour).
        assert_eq!(t.scheduled, 48, "{t:?}");
        assert_eq!((t.inline_runs, t.rollups), (287, 24), "{t:?}");
        // heavy requests after 20:00 wait for the next morning
        assert!(t.done_heavy > 0 && t.done_heavy < t.telegram_heavy, "{t:?}");
        assert!(t.done_light + 2 >= t.telegram_light + t.scheduled, "{t:?}");
        assert!(t.renewals > 0);
        assert!(report.class_a > 0 && report.class_b > 0);
    }
}
