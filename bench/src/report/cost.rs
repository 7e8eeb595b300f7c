//! docs/cost.md's tables: the month, the knobs, each schedule's share, inline runs.

use serde_json::Value;

use super::blocks::Table;
use super::{MISSING, Results, count, num, status, usd};

/// The month: tasks, operations by process, the bill.
pub fn cost_month(r: &Results) -> String {
    let Some(c) = &r.cost else {
        return MISSING.to_string();
    };
    let m = &c["month"];
    let mut t = Table::new(["process", "Class A", "Class B", "deletes (free)"]);
    if let Some(actors) = m["by_actor"].as_object() {
        for (name, ops) in actors {
            t.row([
                name.clone(),
                count(&ops["class_a"]),
                count(&ops["class_b"]),
                count(&ops["free"]),
            ]);
        }
    }
    t.row([
        "**all**".to_string(),
        format!("**{}**", count(&m["class_a"])),
        format!("**{}**", count(&m["class_b"])),
        String::new(),
    ]);
    let tasks = &m["tasks"];
    let b = &c["bill"];
    let mut bill = Table::new(["", "Class A", "Class B", "total"]);
    bill.row([
        "operations".to_string(),
        count(&b["class_a"]),
        count(&b["class_b"]),
        String::new(),
    ]);
    bill.row([
        "past the free allowance".to_string(),
        count(&b["billable_a"]),
        count(&b["billable_b"]),
        String::new(),
    ]);
    bill.row([
        "**bill, free allowance applied**".to_string(),
        usd(&b["class_a_usd"]),
        usd(&b["class_b_usd"]),
        format!("**{}**", usd(&b["total_usd"])),
    ]);
    bill.row([
        "bill without the free allowance (bucket outside us-east1/us-west1/us-central1)"
            .to_string(),
        String::new(),
        String::new(),
        usd(&b["total_without_free_tier_usd"]),
    ]);
    format!(
        "Tasks in the month: {} Telegram requests ({} heavy, {} light), {} from schedules; \
         {} completed by worker-light, {} by worker-heavy; {} lease renewals. Inline runs \
         (no task): {}, with {} hourly roll-ups.\n\n{}\n{}",
        count(&Value::from(
            tasks["telegram_heavy"].as_u64().unwrap_or(0)
                + tasks["telegram_light"].as_u64().unwrap_or(0)
        )),
        count(&tasks["telegram_heavy"]),
        count(&tasks["telegram_light"]),
        count(&tasks["scheduled"]),
        count(&tasks["done_light"]),
        count(&tasks["done_heavy"]),
        count(&tasks["renewals"]),
        count(&tasks["inline_runs"]),
        count(&tasks["rollups"]),
        t.render(),
        bill.render()
    )
}

/// Each knob turned on its own.
pub fn cost_knobs(r: &Results) -> String {
    let Some(c) = &r.cost else {
        return MISSING.to_string();
    };
    let base_total = num(&c["bill"]["total_usd"]).unwrap_or(0.0);
    let d = &c["defaults"];
    let mut t = Table::new([
        "knob",
        "value",
        "Class A / month",
        "Class B / month",
        "bill / month",
        "vs default",
    ]);
    t.row([
        "defaults".to_string(),
        format!(
            "idle poll {}, lease TTL {}; presence {} (light) / {} (heavy), safety listing {} / {}, reclaim {} / {}, schedule refresh {}",
            d["idle_poll"].as_str().unwrap_or("?"),
            d["lease_ttl"].as_str().unwrap_or("?"),
            d["light"]["presence_every"].as_str().unwrap_or("?"),
            d["heavy"]["presence_every"].as_str().unwrap_or("?"),
            d["light"]["list_every"].as_str().unwrap_or("?"),
            d["heavy"]["list_every"].as_str().unwrap_or("?"),
            d["light"]["reclaim_every"].as_str().unwrap_or("?"),
            d["heavy"]["reclaim_every"].as_str().unwrap_or("?"),
            d["light"]["schedule_refresh"].as_str().unwrap_or("?"),
        ),
        count(&c["month"]["class_a"]),
        count(&c["month"]["class_b"]),
        usd(&c["bill"]["total_usd"]),
        String::new(),
    ]);
    for k in c["knobs"].as_array().cloned().unwrap_or_default() {
        let total = num(&k["bill"]["total_usd"]).unwrap_or(0.0);
        t.row([
            k["knob"].as_str().unwrap_or("?").to_string(),
            k["value"].as_str().unwrap_or("?").to_string(),
            count(&k["class_a"]),
            count(&k["class_b"]),
            usd(&k["bill"]["total_usd"]),
            format!("{:+.4}", total - base_total),
        ]);
    }
    t.render()
}

/// What each routine schedule costs.
pub fn cost_schedules(r: &Results) -> String {
    let Some(rows) = r.cost.as_ref().and_then(|c| c["schedules"].as_array()) else {
        return MISSING.to_string();
    };
    let mut t = Table::new([
        "schedule",
        "timing (Asia/Seoul)",
        "tasks / month",
        "Class A",
        "Class B",
        "share of the bill",
    ]);
    for s in rows {
        t.row([
            s["schedule"].as_str().unwrap_or("?").to_string(),
            s["timing"].as_str().unwrap_or("?").to_string(),
            count(&s["tasks"]),
            count(&s["class_a"]),
            count(&s["class_b"]),
            usd(&s["usd_saved_without_it"]),
        ]);
    }
    t.render()
}

/// The sync check inline against the same check as tasks, and the month before inline runs.
pub fn cost_inline(r: &Results) -> String {
    let Some(c) = &r.cost else {
        return MISSING.to_string();
    };
    let s = &c["sync_check"];
    if s.is_null() {
        return MISSING.to_string();
    }
    let mut t = Table::new([
        "sync check (every 5 min)",
        "Class A / hour",
        "Class B / hour",
        "of which the scheduler, Class A / hour",
        "runs",
        "roll-ups",
    ]);
    for (mode, label) in [
        ("task", "as tasks (`run = \"task\"`)"),
        ("inline", "inline (`run = \"inline\"`)"),
    ] {
        let m = &s[mode];
        t.row([
            label.to_string(),
            format!("{:.2}", num(&m["class_a_per_hour"]).unwrap_or(f64::NAN)),
            format!("{:.2}", num(&m["class_b_per_hour"]).unwrap_or(f64::NAN)),
            format!(
                "{:.2}",
                num(&m["scheduler_class_a_per_hour"]).unwrap_or(f64::NAN)
            ),
            count(&m["runs"]),
            count(&m["rollups"]),
        ]);
    }
    let inline_a = num(&s["inline"]["class_a_per_hour"]).unwrap_or(f64::NAN);
    let mut out = t.render();
    out.push_str(&format!(
        "\nTarget ≤ 1 Class A an hour for a 5-minute routine job: {}.\n",
        status(inline_a <= 1.0, format!("{inline_a:.2} an hour"))
    ));
    let before = &c["all_schedules_as_tasks"];
    if !before.is_null() {
        out.push_str(&format!(
            "\nThe month with every schedule a task (before inline runs): {} Class A, {} Class B, \
             {} a month; with the sync check inline (the month above): {} Class A, {} Class B, {}.\n",
            count(&before["class_a"]),
            count(&before["class_b"]),
            usd(&before["bill"]["total_usd"]),
            count(&c["month"]["class_a"]),
            count(&c["month"]["class_b"]),
            usd(&c["bill"]["total_usd"]),
        ));
    }
    out
}
