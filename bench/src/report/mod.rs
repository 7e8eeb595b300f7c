//! The docs' tables, rendered from the JSON the benchmark binaries wrote (`bench/results/`)
//! into the generated blocks of docs/benchmarks.md and docs/cost.md ([`blocks`]).
//!
//! Every renderer takes the parsed results and returns markdown; a missing result renders
//! as a line saying how to produce it.

pub mod blocks;
pub mod cost;
pub mod scaleout;

pub use self::cost::{cost_inline, cost_knobs, cost_month, cost_schedules};
pub use self::scaleout::{scaleout, scaleout_svg};

use serde_json::Value;

use self::blocks::Table;

/// The results of one `scripts/bench.sh` run, each `None` when its file is missing.
#[derive(Debug, Default)]
pub struct Results {
    /// machine.json: the machine the numbers come from.
    pub machine: Option<Value>,
    /// throughput.json.
    pub throughput: Option<Value>,
    /// process.json.
    pub process: Option<Value>,
    /// ops.json.
    pub ops: Option<Value>,
    /// baselines.json.
    pub baselines: Option<Value>,
    /// cost.json.
    pub cost: Option<Value>,
    /// scaleout.json (the run after the claiming fix).
    pub scaleout: Option<Value>,
    /// scaleout-before.json (the same run before it), if kept.
    pub scaleout_before: Option<Value>,
}

pub(crate) const MISSING: &str = "_Not measured yet: run `scripts/bench.sh`._\n";

pub(crate) fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// A number with `digits` decimals, or "–".
pub(crate) fn fmt(v: &Value, digits: usize) -> String {
    num(v).map_or_else(|| "–".to_string(), |x| format!("{x:.digits$}"))
}

/// A whole number with thousands separators.
pub(crate) fn count(v: &Value) -> String {
    match v.as_f64() {
        Some(x) => thousands(x.round() as i64),
        None => "–".to_string(),
    }
}

pub(crate) fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

pub(crate) fn usd(v: &Value) -> String {
    match num(v) {
        Some(x) if x < 0.0 => format!("-${:.4}", -x),
        Some(x) => format!("${x:.4}"),
        None => "–".to_string(),
    }
}

/// The machine paragraph.
pub fn machine(r: &Results) -> String {
    let Some(m) = &r.machine else {
        return MISSING.to_string();
    };
    let s = |k: &str| m[k].as_str().unwrap_or("?").to_string();
    format!(
        "- CPU: {} ({} cores visible)\n- RAM: {} GiB\n- OS: {}, Linux {}\n- Rust: {}; Python {}\n- Measured: {} (load average at start: {})\n",
        s("cpu_model"),
        m["cores"],
        m["ram_gib"],
        s("os"),
        s("kernel"),
        s("rustc"),
        s("python"),
        s("date"),
        s("load_average"),
    )
}

fn runs(r: &Results) -> Vec<&Value> {
    r.throughput
        .as_ref()
        .and_then(|t| t["runs"].as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn find_run<'a>(runs: &[&'a Value], store: &str, mode: &str, workers: u64) -> Option<&'a Value> {
    runs.iter()
        .find(|r| r["store"] == store && r["mode"] == mode && r["workers"] == workers)
        .copied()
}

/// Tasks/s by store and worker count.
pub fn throughput(r: &Results) -> String {
    let runs = runs(r);
    if runs.is_empty() {
        return MISSING.to_string();
    }
    let mut stores: Vec<String> = Vec::new();
    let mut workers: Vec<u64> = Vec::new();
    for run in &runs {
        let s = run["store"].as_str().unwrap_or("?").to_string();
        if !stores.contains(&s) {
            stores.push(s);
        }
        let w = run["workers"].as_u64().unwrap_or(0);
        if !workers.contains(&w) {
            workers.push(w);
        }
    }
    let mut t = Table::new([
        "store",
        "workers",
        "tasks",
        "end to end, tasks/s",
        "drain, tasks/s",
        "Class A / task",
        "Class B / task",
    ]);
    for store in &stores {
        for &w in &workers {
            let e2e = find_run(&runs, store, "end-to-end", w);
            let drain = find_run(&runs, store, "drain", w);
            let Some(any) = e2e.or(drain) else { continue };
            let ops = &any["ops_per_task"];
            t.row([
                format!("`{store}`"),
                w.to_string(),
                count(&any["tasks"]),
                e2e.map_or("–".into(), |v| fmt(&v["tasks_per_s"], 1)),
                drain.map_or("–".into(), |v| fmt(&v["tasks_per_s"], 1)),
                fmt(&ops["class_a"], 2),
                fmt(&ops["class_b"], 2),
            ]);
        }
    }
    t.render()
}

/// Memory and pickup of the worker binaries.
pub fn process(r: &Results) -> String {
    let Some(p) = &r.process else {
        return MISSING.to_string();
    };
    let mut t = Table::new([
        "binary",
        "idle RSS",
        "busy RSS (median / peak)",
        "idle after busy",
    ]);
    for key in ["worker_light", "worker_heavy"] {
        let w = &p[key];
        if w.is_null() {
            continue;
        }
        let m = &w["memory"];
        let busy = if m["busy_peak_mib"].is_null() {
            "–".to_string()
        } else {
            format!(
                "{} / {} MiB",
                fmt(&m["busy_median_mib"], 1),
                fmt(&m["busy_peak_mib"], 1)
            )
        };
        let after = if m["idle_after_mib"].is_null() {
            "–".to_string()
        } else {
            format!("{} MiB", fmt(&m["idle_after_mib"], 1))
        };
        t.row([
            format!("`{}`", w["binary"].as_str().unwrap_or("?")),
            format!("{} MiB", fmt(&m["idle_mib"], 1)),
            busy,
            after,
        ]);
    }
    let mut out = t.render();
    let light = &p["worker_light"];
    if !light["busy"].is_null() {
        out.push_str(&format!(
            "\nBusy stream: {} echo tasks in {} s, all done: {}.\n",
            count(&light["busy"]["tasks"]),
            fmt(&light["busy"]["seconds"], 1),
            light["busy"]["all_done"]
        ));
    }
    out
}

/// Pickup latency: ours and the baselines', with how many times slower ours is (p50).
pub fn pickup(r: &Results) -> String {
    let mut t = Table::new([
        "system",
        "samples",
        "p50",
        "p99",
        "max",
        "ours ÷ theirs (p50)",
    ]);
    let ours = r
        .process
        .as_ref()
        .map(|p| &p["worker_light"]["pickup"])
        .filter(|p| !p.is_null());
    let our_p50 = ours.and_then(|p| num(&p["p50_ms"]));
    let mut row = |name: String, p: &Value| {
        let ratio = match (our_p50, num(&p["p50_ms"])) {
            (Some(o), Some(t)) if t > 0.0 => format!("{:.1}×", o / t),
            _ => "–".to_string(),
        };
        t.row([
            name,
            count(&p["samples"]),
            format!("{} ms", fmt(&p["p50_ms"], 1)),
            format!("{} ms", fmt(&p["p99_ms"], 1)),
            format!("{} ms", fmt(&p["max_ms"], 1)),
            ratio,
        ]);
    };
    if let Some(p) = ours {
        row(
            "worker-light, local store (idle poll 200 ms)".to_string(),
            p,
        );
    }
    if let Some(b) = &r.baselines {
        for (key, name) in BASELINES {
            let p = &b[key]["pickup"];
            if !p.is_null() {
                row(name.to_string(), p);
            }
        }
    }
    t.render()
}

const BASELINES: [(&str, &str); 3] = [
    ("rq", "RQ (default worker: forks a work horse per job)"),
    ("rq_simple", "RQ `SimpleWorker` (no fork)"),
    ("celery", "Celery (prefork pool)"),
];

/// RQ and Celery, with ratios against ours.
pub fn baselines(r: &Results) -> String {
    let Some(b) = &r.baselines else {
        return MISSING.to_string();
    };
    let runs = runs(r);
    let ours = |mode: &str, w: u64| {
        find_run(&runs, "local-tmpfs", mode, w)
            .or_else(|| find_run(&runs, "local", mode, w))
            .and_then(|v| num(&v["tasks_per_s"]))
    };
    let mut t = Table::new([
        "system",
        "workers",
        "end to end, tasks/s",
        "drain, tasks/s",
        "ours ÷ theirs (end to end)",
        "ours ÷ theirs (drain)",
    ]);
    for (key, name) in BASELINES {
        let sys = &b[key];
        let Some(tp) = sys["throughput"].as_object() else {
            continue;
        };
        for (w, v) in tp {
            let workers: u64 = w.parse().unwrap_or(0);
            let drain = &sys["drain"][w.as_str()]["tasks_per_s"];
            let ratio = |ours: Option<f64>, theirs: Option<f64>| match (ours, theirs) {
                (Some(o), Some(t)) if t > 0.0 => format!("{:.2}×", o / t),
                _ => "–".to_string(),
            };
            t.row([
                name.to_string(),
                w.clone(),
                fmt(&v["tasks_per_s"], 1),
                fmt(drain, 1),
                ratio(ours("end-to-end", workers), num(&v["tasks_per_s"])),
                ratio(ours("drain", workers), num(drain)),
            ]);
        }
    }
    let mut out = t.render();

    let mut m = Table::new([
        "system",
        "idle worker RSS",
        "plus redis-server",
        "theirs ÷ ours (worker / with Redis)",
    ]);
    let our_idle = r
        .process
        .as_ref()
        .and_then(|p| num(&p["worker_light"]["memory"]["idle_mib"]));
    if let Some(idle) = our_idle {
        m.row([
            "worker-light".to_string(),
            format!("{idle:.1} MiB"),
            "– (no broker)".to_string(),
            "1×".to_string(),
        ]);
    }
    let redis_mib = num(&b["redis_server"]["idle_rss_kib"]).map(|k| k / 1024.0);
    for (key, name) in BASELINES {
        let Some(kib) = num(&b[key]["idle_rss"]["tree_kib"]) else {
            continue;
        };
        let mib = kib / 1024.0;
        m.row([
            name.to_string(),
            format!("{mib:.1} MiB"),
            redis_mib.map_or("–".into(), |r| format!("{:.1} MiB", mib + r)),
            match (our_idle, redis_mib) {
                (Some(o), Some(r)) if o > 0.0 => format!("{:.1}× / {:.1}×", mib / o, (mib + r) / o),
                (Some(o), None) if o > 0.0 => format!("{:.1}×", mib / o),
                _ => "–".to_string(),
            },
        ]);
    }
    out.push('\n');
    out.push_str(&m.render());
    out.push_str(&format!(
        "\nVersions: {}; redis-server {} (idle RSS {} MiB).\n",
        b["versions"]
            .as_object()
            .map(|v| v
                .iter()
                .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default(),
        b["redis_server"]["version"].as_str().unwrap_or("?"),
        redis_mib.map_or("?".into(), |r| format!("{r:.1}")),
    ));
    out
}

/// Operations of each protocol step.
pub fn ops_steps(r: &Results) -> String {
    let Some(steps) = r.ops.as_ref().and_then(|o| o["steps"].as_array()) else {
        return MISSING.to_string();
    };
    let mut t = Table::new(["step", "Class A", "Class B", "deletes (free)", "operations"]);
    for s in steps {
        let by_op = s["ops"]["by_op"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        t.row([
            s["step"].as_str().unwrap_or("?").to_string(),
            count(&s["class_a"]),
            count(&s["class_b"]),
            count(&s["free"]),
            by_op,
        ]);
    }
    t.render()
}

/// Operations per task through the worker.
pub fn ops_per_task(r: &Results) -> String {
    let Some(rows) = r.ops.as_ref().and_then(|o| o["per_task"].as_array()) else {
        return MISSING.to_string();
    };
    let mut t = Table::new([
        "tasks arrive",
        "enqueue A",
        "worker A",
        "**total A**",
        "enqueue B",
        "worker B",
        "total B",
    ]);
    for p in rows {
        t.row([
            p["pattern"].as_str().unwrap_or("?").to_string(),
            fmt(&p["enqueue_a"], 2),
            fmt(&p["worker_a"], 2),
            format!("**{}**", fmt(&p["total_a"], 2)),
            fmt(&p["enqueue_b"], 2),
            fmt(&p["worker_b"], 2),
            fmt(&p["total_b"], 2),
        ]);
    }
    t.render()
}

/// Idle operations per hour.
pub fn idle(r: &Results) -> String {
    let Some(i) = r.ops.as_ref().map(|o| &o["idle_per_hour"]) else {
        return MISSING.to_string();
    };
    let mut t = Table::new([
        "process",
        "Class A / hour",
        "Class B / hour",
        "operations / hour",
    ]);
    for (key, name) in [
        ("worker_heavy", "worker-heavy (discovery + presence)"),
        ("worker_light", "worker-light (discovery + presence)"),
        (
            "scheduler_in_worker_light",
            "scheduler inside worker-light (no slot due)",
        ),
    ] {
        let w = &i[key];
        let by_op = w["by_op_per_hour"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k} {}", fmt(v, 2)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        t.row([
            name.to_string(),
            fmt(&w["class_a"], 2),
            fmt(&w["class_b"], 2),
            by_op,
        ]);
    }
    let mut out = t.render();
    out.push_str(&format!(
        "\nMeasured over {} simulated hours after the first (start-up) hour.\n",
        fmt(&i["hours"], 0)
    ));
    out
}

pub(crate) fn status(met: bool, gap: String) -> String {
    if met {
        "met".to_string()
    } else {
        format!("**missed** ({gap})")
    }
}

/// Targets of issue 9 against the measurements.
pub fn targets(r: &Results) -> String {
    let mut t = Table::new(["target", "measured", "status"]);
    if let Some(o) = &r.ops {
        let rows = o["per_task"].as_array().cloned().unwrap_or_default();
        let spaced = rows.first().and_then(|p| num(&p["total_a"]));
        let backlog = rows.last().and_then(|p| num(&p["total_a"]));
        if let (Some(s), Some(b)) = (spaced, backlog) {
            t.row([
                "≤ 3 Class A per task (+1 per renewal)".to_string(),
                format!("{s:.2} (task alone, idle worker), {b:.2} (backlog); +1 with an idempotency key; renewal 1"),
                status(s <= 3.0, format!("+{:.2} per isolated task", s - 3.0)),
            ]);
        }
        let i = &o["idle_per_hour"];
        if let (Some(h), Some(l)) = (
            num(&i["worker_heavy"]["class_a"]),
            num(&i["worker_light"]["class_a"]),
        ) {
            let sched = num(&i["scheduler_in_worker_light"]["class_a"]).unwrap_or(0.0);
            t.row([
                "idle worker ≤ 6 Class A / hour".to_string(),
                format!("worker-heavy {h:.2}; worker-light {l:.2} (+{sched:.2} scheduler)"),
                status(
                    h.max(l + sched) <= 6.0,
                    format!("+{:.2}", h.max(l + sched) - 6.0),
                ),
            ]);
        }
    }
    if let Some((c, total)) = r
        .cost
        .as_ref()
        .and_then(|c| num(&c["bill"]["total_usd"]).map(|t| (c, t)))
    {
        t.row([
            "today's workload ≤ $0.10 / month in operations".to_string(),
            format!(
                "{} (free allowance applied); {} without it",
                usd(&c["bill"]["total_usd"]),
                usd(&c["bill"]["total_without_free_tier_usd"])
            ),
            status(total <= 0.10, format!("{:.1}× the target", total / 0.10)),
        ]);
    }
    if let Some(idle) = r
        .process
        .as_ref()
        .and_then(|p| num(&p["worker_light"]["memory"]["idle_mib"]))
    {
        t.row([
            "worker-light idle RSS ≤ 15 MiB".to_string(),
            format!("{idle:.1} MiB"),
            status(idle <= 15.0, format!("+{:.1} MiB", idle - 15.0)),
        ]);
    }
    let runs = runs(r);
    for store in ["local", "local-tmpfs"] {
        let Some(e2e) =
            find_run(&runs, store, "end-to-end", 2).and_then(|v| num(&v["tasks_per_s"]))
        else {
            continue;
        };
        let drain = find_run(&runs, store, "drain", 2).and_then(|v| num(&v["tasks_per_s"]));
        t.row([
            format!("≥ 2,000 tasks/s, `{store}` store, 2 workers"),
            format!(
                "{e2e:.0} end to end, {} draining",
                drain.map_or("–".to_string(), |d| format!("{d:.0}"))
            ),
            status(
                e2e >= 2000.0,
                format!("{:.0}% of the target end to end", e2e / 20.0),
            ),
        ]);
    }
    if let Some(p50) = r
        .process
        .as_ref()
        .and_then(|p| num(&p["worker_light"]["pickup"]["p50_ms"]))
    {
        t.row([
            "pickup p50 ≤ 100 ms, idle worker, local store".to_string(),
            format!("{p50:.1} ms"),
            status(p50 <= 100.0, format!("+{:.1} ms", p50 - 100.0)),
        ]);
    }
    if t.render().lines().count() <= 2 {
        return MISSING.to_string();
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_grouped_and_missing_results_say_so() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(throughput(&Results::default()), MISSING);
        assert_eq!(targets(&Results::default()), MISSING);
    }

    #[test]
    fn throughput_rows_pair_the_two_timings() {
        let r = Results {
            throughput: Some(json!({"runs": [
                {"store": "local", "mode": "end-to-end", "workers": 2, "tasks": 5000,
                 "tasks_per_s": 1234.5, "ops_per_task": {"class_a": 4.0, "class_b": 3.0}},
                {"store": "local", "mode": "drain", "workers": 2, "tasks": 5000,
                 "tasks_per_s": 2345.6, "ops_per_task": {"class_a": 3.0, "class_b": 3.0}},
            ]})),
            ..Results::default()
        };
        let table = throughput(&r);
        assert!(
            table.contains("| `local` | 2 | 5,000 | 1234.5 | 2345.6 | 4.00 | 3.00 |"),
            "{table}"
        );
        let targets = targets(&r);
        assert!(targets.contains("**missed**"), "{targets}");
    }
}
