//! The text exposition format, version 0.0.4: per family a `# HELP` and a `# TYPE` line, then
//! one line per sample — `name{label="value",…} value`. Histograms write cumulative
//! `_bucket{le="…"}` samples ending with `le="+Inf"`, then `_sum` and `_count`.
//!
//! Escaping: in help text `\` and newline; in label values also `"`.

use std::fmt::Write;

use crate::{Family, Kind, Series};

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved).
pub fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    !name.starts_with("__")
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Help text: `\` → `\\`, newline → `\n`.
pub fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A label value: `\` → `\\`, `"` → `\"`, newline → `\n`.
pub fn escape_label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn labels(out: &mut String, names: &[String], values: &[String], le: Option<&str>) {
    let mut pairs: Vec<(&str, String)> = names
        .iter()
        .zip(values)
        .map(|(n, v)| (n.as_str(), escape_label_value(v)))
        .collect();
    if let Some(le) = le {
        pairs.push(("le", le.to_string()));
    }
    if pairs.is_empty() {
        return;
    }
    out.push('{');
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{name}=\"{value}\"");
    }
    out.push('}');
}

fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    f: &Family,
    values: &[String],
    le: Option<&str>,
    v: f64,
) {
    out.push_str(name);
    out.push_str(suffix);
    labels(out, &f.labels, values, le);
    out.push(' ');
    out.push_str(&format_value(v));
    out.push('\n');
}

/// Append one family's text to `out`.
pub(crate) fn family(out: &mut String, f: &Family) {
    let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(&f.help));
    let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
    let series = f.series.lock().expect("metric family lock").clone();
    for (values, s) in &series {
        match (f.kind, s) {
            (
                Kind::Histogram,
                Series::Histogram {
                    buckets,
                    sum,
                    count,
                },
            ) => {
                let mut cumulative = 0;
                for (bound, n) in f.bounds.iter().zip(buckets) {
                    cumulative += n;
                    let le = format_value(*bound);
                    sample(
                        out,
                        &f.name,
                        "_bucket",
                        f,
                        values,
                        Some(&le),
                        cumulative as f64,
                    );
                }
                sample(
                    out,
                    &f.name,
                    "_bucket",
                    f,
                    values,
                    Some("+Inf"),
                    *count as f64,
                );
                sample(out, &f.name, "_sum", f, values, None, *sum);
                sample(out, &f.name, "_count", f, values, None, *count as f64);
            }
            (_, Series::Value(v)) => sample(out, &f.name, "", f, values, None, *v),
            (_, Series::Histogram { .. }) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Registry;

    #[test]
    fn names_follow_the_format() {
        assert!(is_metric_name("bucketq_tasks"));
        assert!(is_metric_name("a:b_c9"));
        assert!(!is_metric_name("9a"));
        assert!(!is_metric_name("a-b"));
        assert!(!is_metric_name(""));
        assert!(is_label_name("gcs_class"));
        assert!(!is_label_name("__name__"));
        assert!(!is_label_name("a:b"));
    }

    #[test]
    fn label_values_and_help_are_escaped() {
        assert_eq!(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        assert_eq!(escape_help("x\\y\nz \"q\""), "x\\\\y\\nz \"q\"");
        let r = Registry::new();
        let g = r.gauge("g", "line one\nline two", &["who"]);
        g.set(&["say \"hi\"\n"], 1.5);
        assert_eq!(
            r.render(),
            "# HELP g line one\\nline two\n# TYPE g gauge\ng{who=\"say \\\"hi\\\"\\n\"} 1.5\n"
        );
    }

    #[test]
    fn values_are_written_as_the_format_reads_them() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.25), "0.25");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(1e20), "100000000000000000000");
    }
}
