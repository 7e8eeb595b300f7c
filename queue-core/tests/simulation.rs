//! Seeded simulation of the whole protocol under faults, crashes, pauses and clock skew, with
//! an auditor that checks the invariants of docs/invariants.md after every run (docs/reliability.md).
//!
//! Default: a short run over a handful of seeds per backend. Environment:
//! - `SIM_SEEDS=N`   run seeds 0..N (long mode);
//! - `SIM_SEED=S`    run only seed S (reproduce a failure);
//! - `SIM_STEPS=N`   scheduling decisions per run;
//! - `SIM_BACKEND=memory|local`  only this backend;
//! - `SIM_TRACE=1`   print every event as it happens.
//!
//! A failing seed is printed with the command that reruns it exactly.

#[path = "simulation/actors.rs"]
mod actors;
#[path = "simulation/auditor.rs"]
mod auditor;
#[allow(dead_code)]
#[path = "../../fuzz/src/bodies.rs"]
mod fuzz_bodies;
#[allow(dead_code)]
#[path = "../../fuzz/src/corpus.rs"]
mod fuzz_corpus;
#[path = "simulation/fuzz_smoke.rs"]
mod fuzz_smoke;
#[path = "simulation/history.rs"]
mod history;
#[path = "simulation/regressions.rs"]
mod regressions;
#[path = "simulation/sched.rs"]
mod sched;
#[path = "simulation/world.rs"]
mod world;

use world::{Backend, Config, Report};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}"))
    })
}

fn rerun_command(cfg: &Config) -> String {
    format!(
        "SIM_SEED={} SIM_STEPS={} SIM_BACKEND={} cargo test -p queue-core --test simulation -- --nocapture",
        cfg.seed,
        cfg.steps,
        cfg.backend.name()
    )
}

/// Run `seeds` on `backend`; panic with every failing seed and how to rerun it.
fn run_seeds(backend: Backend, default_seeds: u64, default_steps: usize) {
    if let Ok(only) = std::env::var("SIM_BACKEND")
        && only != backend.name()
    {
        return;
    }
    let steps = env_u64("SIM_STEPS").map_or(default_steps, |n| n as usize);
    let seeds: Vec<u64> = match (env_u64("SIM_SEED"), env_u64("SIM_SEEDS")) {
        (Some(s), _) => vec![s],
        (None, Some(n)) => (0..n).collect(),
        (None, None) => (0..default_seeds).collect(),
    };
    let trace = std::env::var("SIM_TRACE").is_ok_and(|v| v == "1");
    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    let mut total = Totals::default();
    for seed in seeds.iter().copied() {
        let cfg = Config {
            seed,
            steps,
            backend,
            trace,
        };
        let report = world::run(&cfg);
        total.add(&report);
        if !report.violations.is_empty() {
            eprintln!(
                "\n=== simulation FAILED: backend={} seed={seed} steps={steps}\n--- violations:",
                backend.name()
            );
            for v in &report.violations {
                eprintln!("  - {v}");
            }
            eprintln!("--- last events:");
            for line in &report.trace_tail {
                eprintln!("  {line}");
            }
            eprintln!("--- rerun: {}", rerun_command(&cfg));
            failures.push(rerun_command(&cfg));
        }
    }
    total.print(backend, seeds.len(), steps, started.elapsed());
    assert!(
        failures.is_empty(),
        "{} of {} seeds broke an invariant; rerun with:\n{}",
        failures.len(),
        seeds.len(),
        failures.join("\n")
    );
}

#[derive(Default)]
struct Totals {
    tally: std::collections::BTreeMap<&'static str, u64>,
    errors: u64,
    faults: queue_core::store::faulty::FaultCounts,
    accepted: usize,
    done: usize,
    failed: usize,
    simulated: i64,
}

impl Totals {
    fn add(&mut self, r: &Report) {
        for (k, n) in &r.tally {
            *self.tally.entry(k).or_insert(0) += n;
        }
        self.errors += r.errors.values().sum::<u64>();
        self.faults.calls += r.faults.calls;
        self.faults.errors += r.faults.errors;
        self.faults.timeouts += r.faults.timeouts;
        self.faults.delayed += r.faults.delayed;
        self.faults.lost_replies += r.faults.lost_replies;
        self.faults.landed_conflicts += r.faults.landed_conflicts;
        self.accepted += r.accepted;
        self.done += r.done;
        self.failed += r.failed;
        self.simulated += r.simulated.num_seconds();
    }

    fn print(&self, backend: Backend, seeds: usize, steps: usize, took: std::time::Duration) {
        let f = &self.faults;
        println!(
            "simulation backend={} seeds={seeds} steps={steps} took={:.1}s simulated={}h",
            backend.name(),
            took.as_secs_f64(),
            self.simulated / 3600
        );
        println!(
            "  tasks: accepted={} done={} failed={}",
            self.accepted, self.done, self.failed
        );
        println!(
            "  store calls under faults={} errors={} timeouts={} delayed={} lost_replies={} landed_conflicts={}",
            f.calls, f.errors, f.timeouts, f.delayed, f.lost_replies, f.landed_conflicts
        );
        println!("  errors seen by callers={}", self.errors);
        for (k, n) in &self.tally {
            println!("  {k}={n}");
        }
    }
}

#[test]
fn seeded_runs_keep_the_invariants_in_memory() {
    run_seeds(Backend::Memory, 20, 3000);
}

#[test]
fn seeded_runs_keep_the_invariants_on_the_local_filesystem() {
    run_seeds(Backend::Local, 3, 1500);
}

#[test]
fn a_seed_reruns_the_same_way() {
    let cfg = Config {
        seed: 7,
        steps: 800,
        backend: Backend::Memory,
        trace: false,
    };
    let (a, b) = (world::run(&cfg), world::run(&cfg));
    assert_eq!(a.digest, b.digest, "the same seed must replay the same run");
    assert_eq!(a.tally, b.tally);
    let other = world::run(&Config { seed: 8, ..cfg });
    assert_ne!(a.digest, other.digest);
}
