//! The scale-out table and its chart (an SVG written by this code; no plotting tool).

use std::fmt::Write as _;

use serde_json::Value;

use super::blocks::Table;
use super::{MISSING, Results, fmt, num, status};

/// The scaling target: 64 slots at least this many times one slot.
pub const TARGET_64: f64 = 40.0;

fn points(v: &Value) -> Vec<(f64, &Value)> {
    v["points"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| Some((num(&p["slots"])?, p)))
                .collect()
        })
        .unwrap_or_default()
}

fn one_slot(v: &Value) -> Option<f64> {
    points(v)
        .iter()
        .find(|(s, _)| *s == 1.0)
        .and_then(|(_, p)| num(&p["tasks_per_s"]))
}

/// The table: each shape's rate, its speed-up over one slot, operations and lost races per
/// task; the run before the fix, when kept, below it.
pub fn scaleout(r: &Results) -> String {
    let Some(after) = &r.scaleout else {
        return MISSING.to_string();
    };
    let mut out = String::new();
    for (title, run) in [
        ("before the fix", r.scaleout_before.as_ref()),
        ("now", Some(after)),
    ] {
        let Some(run) = run else { continue };
        let base = one_slot(run).unwrap_or(f64::NAN);
        let mut t = Table::new([
            "slots (workers × slots)",
            "tasks",
            "tasks/s",
            "× one slot",
            "Class A / task",
            "Class B / task",
            "lost races / task (failed creates + vanished reads)",
        ]);
        for (slots, p) in points(run) {
            let rate = num(&p["tasks_per_s"]).unwrap_or(f64::NAN);
            t.row([
                format!(
                    "{slots} ({} × {})",
                    fmt(&p["workers"], 0),
                    fmt(&p["concurrency"], 0)
                ),
                fmt(&p["tasks"], 0),
                format!("{rate:.1}"),
                format!("{:.1}×", rate / base),
                fmt(&p["ops_per_task"]["class_a"], 2),
                fmt(&p["ops_per_task"]["class_b"], 2),
                format!(
                    "{} + {}",
                    fmt(&p["failed_creates_per_task"], 2),
                    fmt(&p["vanished_reads_per_task"], 2)
                ),
            ]);
        }
        let _ = write!(
            out,
            "**{title}** ({} store):\n\n{}\n",
            run["store"].as_str().unwrap_or("?"),
            t.render()
        );
    }
    if let Some(x64) = points(after)
        .iter()
        .find(|(s, _)| *s == 64.0)
        .and_then(|(_, p)| num(&p["tasks_per_s"]))
    {
        let speedup = x64 / one_slot(after).unwrap_or(f64::NAN);
        let _ = writeln!(
            out,
            "Target: 64 slots ≥ {TARGET_64:.0}× one slot — {}.\n",
            status(speedup >= TARGET_64, format!("{speedup:.1}×"))
        );
    }
    out.push_str("![tasks per second against slots, log-log](scaleout.svg)\n");
    out
}

/// A line of the chart: name, colour, (slots, tasks/s) points.
type Series = (&'static str, &'static str, Vec<(f64, f64)>);

/// Chart geometry: a log-log plot of tasks/s against slots.
const W: f64 = 560.0;
const H: f64 = 360.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 50.0;

/// The chart as an SVG document: each run's tasks/s against slots (log-log), and linear
/// scaling from the run's single slot as a dashed line.
pub fn scaleout_svg(r: &Results) -> Option<String> {
    let after = r.scaleout.as_ref()?;
    let mut series: Vec<Series> = Vec::new();
    let rates = |v: &Value| -> Vec<(f64, f64)> {
        points(v)
            .iter()
            .filter_map(|(s, p)| Some((*s, num(&p["tasks_per_s"])?)))
            .collect()
    };
    let base = one_slot(after)?;
    let slots: Vec<f64> = rates(after).iter().map(|(s, _)| *s).collect();
    let max_slots = slots.iter().copied().fold(1.0, f64::max);
    series.push((
        "linear from 1 slot",
        "#999999",
        vec![(1.0, base), (max_slots, base * max_slots)],
    ));
    if let Some(before) = &r.scaleout_before {
        series.push(("before the fix", "#d62728", rates(before)));
    }
    series.push(("now", "#1f77b4", rates(after)));

    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .collect();
    let (lo, hi) = (
        all.iter().copied().fold(f64::MAX, f64::min).max(0.01),
        all.iter().copied().fold(0.0, f64::max),
    );
    let (ylo, yhi) = (
        10f64.powf(lo.log10().floor()),
        10f64.powf(hi.log10().ceil()),
    );
    let x = |s: f64| LEFT + (s.log2() / max_slots.log2().max(1.0)) * (W - LEFT - RIGHT);
    let y = |v: f64| {
        TOP + (1.0 - (v.log10() - ylo.log10()) / (yhi.log10() - ylo.log10())) * (H - TOP - BOTTOM)
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, TOP, H - BOTTOM);
    let _ = writeln!(
        svg,
        "<path d=\"M{x0},{y0} V{y1} H{x1}\" stroke=\"black\" fill=\"none\"/>"
    );
    for &s in &slots {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{s}</text>",
            x(s),
            y1 + 16.0
        );
    }
    let mut decade = ylo;
    while decade <= yhi * 1.001 {
        let _ = writeln!(
            svg,
            "<line x1=\"{x0}\" x2=\"{x1}\" y1=\"{0:.1}\" y2=\"{0:.1}\" stroke=\"#eeeeee\"/>\
             <text x=\"{1:.1}\" y=\"{2:.1}\" text-anchor=\"end\">{decade}</text>",
            y(decade),
            x0 - 6.0,
            y(decade) + 4.0
        );
        decade *= 10.0;
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">worker slots (log scale)</text>\n\
         <text transform=\"translate(14,{:.1}) rotate(-90)\" text-anchor=\"middle\">tasks/s (log scale)</text>",
        (x0 + x1) / 2.0,
        H - 10.0,
        (y0 + y1) / 2.0
    );
    for (i, (name, colour, pts)) in series.iter().enumerate() {
        let dash = if i == 0 {
            " stroke-dasharray=\"5,4\""
        } else {
            ""
        };
        let d: Vec<String> = pts
            .iter()
            .enumerate()
            .map(|(j, (s, v))| {
                format!(
                    "{}{:.1},{:.1}",
                    if j == 0 { "M" } else { "L" },
                    x(*s),
                    y(*v)
                )
            })
            .collect();
        let _ = writeln!(
            svg,
            "<path d=\"{}\" stroke=\"{colour}\" stroke-width=\"2\" fill=\"none\"{dash}/>",
            d.join(" ")
        );
        for (s, v) in pts.iter().filter(|_| i > 0) {
            let _ = writeln!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"><title>{s} slots: {v:.1} tasks/s</title></circle>",
                x(*s),
                y(*v)
            );
        }
        let ly = TOP + 10.0 + 18.0 * i as f64;
        let _ = writeln!(
            svg,
            "<line x1=\"{0:.1}\" x2=\"{1:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{2:.1}\" y=\"{3:.1}\">{name}</text>",
            x1 + 12.0,
            x1 + 32.0,
            x1 + 38.0,
            ly + 4.0
        );
    }
    svg.push_str("</svg>\n");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(rates: &[(u64, f64)]) -> Value {
        let points: Vec<Value> = rates
            .iter()
            .map(|(s, r)| {
                json!({"slots": s, "workers": 1, "concurrency": s, "tasks": 100,
                "tasks_per_s": r, "ops_per_task": {"class_a": 4.0, "class_b": 8.0},
                "failed_creates_per_task": 0.5, "vanished_reads_per_task": 0.25})
            })
            .collect();
        json!({"store": "memory-50ms", "points": points})
    }

    #[test]
    fn the_table_marks_the_target_and_the_chart_has_every_point() {
        let r = Results {
            scaleout: Some(run(&[(1, 2.0), (4, 8.0), (16, 30.0), (64, 100.0)])),
            scaleout_before: Some(run(&[(1, 2.0), (4, 6.0), (16, 10.0), (64, 12.0)])),
            ..Results::default()
        };
        let table = scaleout(&r);
        assert!(
            table.contains("| 64 (1 × 64) | 100 | 100.0 | 50.0× |"),
            "{table}"
        );
        assert!(table.contains("— met."), "{table}");
        assert!(table.contains("**before the fix**"));
        let svg = scaleout_svg(&r).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 8);
        assert!(svg.contains("64 slots: 100.0 tasks/s"));

        let slow = Results {
            scaleout: Some(run(&[(1, 2.0), (64, 20.0)])),
            ..Results::default()
        };
        assert!(scaleout(&slow).contains("**missed** (10.0×)"));
        assert!(scaleout_svg(&Results::default()).is_none());
    }
}
