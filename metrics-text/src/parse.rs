//! A strict reader of the text exposition format (feature `parse`, for tests): it refuses
//! what Prometheus would refuse — and a little more, the house rules — so a test that parses a
//! scrape checks the format, then reads values back.
//!
//! Checked: `# HELP` / `# TYPE` at most once per family and before its samples; a family's
//! samples together; every sample of a declared family; valid metric and label names; label
//! values with only the `\\`, `\"`, `\n` escapes; no label twice; no series twice; counters
//! named `_total` and never negative; histogram buckets ascending by `le`, cumulative, ending in
//! `le="+Inf"` equal to `_count`, with a `_sum`.

use std::collections::{BTreeMap, BTreeSet};

use crate::render::{is_label_name, is_metric_name};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's name (`x_bucket` for a histogram bucket).
    pub name: String,
    /// Its labels, unescaped.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

/// A family as read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Family {
    /// `counter`, `gauge`, `histogram`, `summary` or `untyped`.
    pub kind: String,
    /// The help text, unescaped.
    pub help: Option<String>,
    /// Its samples in order.
    pub samples: Vec<Sample>,
}

/// A whole scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    /// Families by name.
    pub families: BTreeMap<String, Family>,
}

impl Scrape {
    /// The sum of the samples named `name` whose labels include every pair of `labels`; `None`
    /// when no sample matches.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<f64> = self
            .families
            .values()
            .flat_map(|f| &f.samples)
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
            .collect();
        (!matching.is_empty()).then(|| matching.iter().sum())
    }
}

/// Read `text`, or say which line breaks which rule.
pub fn parse(text: &str) -> Result<Scrape, String> {
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the text must end with a newline".into());
    }
    let mut scrape = Scrape::default();
    let mut declared: BTreeSet<String> = BTreeSet::new();
    let mut helped: BTreeSet<String> = BTreeSet::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut series: BTreeSet<(String, BTreeMap<String, String>)> = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", i + 1);
        if line.is_empty() {
            continue;
        }
        let family_name = if let Some(rest) = line.strip_prefix("# ") {
            let (word, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            let (name, arg) = rest.split_once(' ').unwrap_or((rest, ""));
            match word {
                "HELP" | "TYPE" if !is_metric_name(name) => {
                    return Err(at(format!("bad metric name {name:?}")));
                }
                "HELP" => {
                    if !helped.insert(name.to_string()) {
                        return Err(at("a second HELP".into()));
                    }
                    scrape.families.entry(name.to_string()).or_default().help =
                        Some(unescape(arg).map_err(at)?);
                    name.to_string()
                }
                "TYPE" => {
                    if !matches!(
                        arg,
                        "counter" | "gauge" | "histogram" | "summary" | "untyped"
                    ) {
                        return Err(at(format!("unknown type {arg:?}")));
                    }
                    let family = scrape.families.entry(name.to_string()).or_default();
                    if !family.samples.is_empty() {
                        return Err(at("TYPE after the family's samples".into()));
                    }
                    if !declared.insert(name.to_string()) {
                        return Err(at("a second TYPE".into()));
                    }
                    if arg == "counter" && !name.ends_with("_total") {
                        return Err(at("a counter's name must end in _total".into()));
                    }
                    family.kind = arg.to_string();
                    name.to_string()
                }
                _ => continue, // other comments are allowed
            }
        } else {
            let sample = parse_sample(line).map_err(at)?;
            let family = family_of(&sample.name, &declared)
                .ok_or_else(|| at("a sample of no declared family".into()))?;
            if !series.insert((sample.name.clone(), sample.labels.clone())) {
                return Err(at("the same series twice".into()));
            }
            let f = scrape.families.get_mut(&family).expect("declared");
            if f.kind == "counter" && (sample.value < 0.0 || sample.value.is_nan()) {
                return Err(at("a negative counter".into()));
            }
            f.samples.push(sample);
            family
        };
        if current.as_deref() != Some(family_name.as_str()) {
            if !finished.insert(family_name.clone()) {
                return Err(at("the family's lines are split".into()));
            }
            current = Some(family_name);
        }
    }
    for (name, family) in &scrape.families {
        if family.kind == "histogram" {
            check_histogram(name, family)?;
        }
    }
    Ok(scrape)
}

fn family_of(sample: &str, declared: &BTreeSet<String>) -> Option<String> {
    if declared.contains(sample) {
        return Some(sample.to_string());
    }
    ["_bucket", "_sum", "_count"]
        .iter()
        .filter_map(|s| sample.strip_suffix(s))
        .find(|base| declared.contains(*base))
        .map(str::to_string)
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !is_metric_name(name) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(body) = rest.strip_prefix('{') {
        let mut pos = 0;
        loop {
            if body[pos..].starts_with('}') {
                rest = &body[pos + 1..];
                break;
            }
            let eq = body[pos..]
                .find('=')
                .ok_or("unclosed labels or a label without =")?
                + pos;
            let label = &body[pos..eq];
            if !is_label_name(label) {
                return Err(format!("bad label name {label:?}"));
            }
            let inner = body[eq + 1..]
                .strip_prefix('"')
                .ok_or("a label value must be quoted")?;
            let (value, used) = quoted(inner)?;
            pos = eq + 2 + used;
            if labels.insert(label.to_string(), value).is_some() {
                return Err(format!("label {label} twice"));
            }
            if body[pos..].starts_with(',') {
                pos += 1;
            } else if !body[pos..].starts_with('}') {
                return Err("labels must be separated by ','".into());
            }
        }
    }
    let mut fields = rest
        .strip_prefix(' ')
        .ok_or("one space before the value")?
        .split(' ');
    let value = parse_value(fields.next().unwrap_or(""))?;
    if let Some(ts) = fields.next() {
        ts.parse::<i64>()
            .map_err(|_| format!("bad timestamp {ts:?}"))?;
    }
    if fields.next().is_some() {
        return Err("text after the timestamp".into());
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// A quoted label value's text up to its closing quote: (unescaped, index after the quote).
fn quoted(s: &str) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => match chars.next() {
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                Some((_, 'n')) => out.push('\n'),
                other => return Err(format!("bad escape {other:?}")),
            },
            '\n' => return Err("a raw newline in a label value".into()),
            c => out.push(c),
        }
    }
    Err("an unterminated label value".into())
}

/// Help text: only `\\` and `\n` are escapes.
fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                other => return Err(format!("bad escape in help {other:?}")),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse::<f64>().map_err(|_| format!("bad value {s:?}")),
    }
}

fn check_histogram(name: &str, family: &Family) -> Result<(), String> {
    type Key = BTreeMap<String, String>;
    let mut buckets: BTreeMap<Key, Vec<(f64, f64)>> = BTreeMap::new();
    let mut sums: BTreeMap<Key, f64> = BTreeMap::new();
    let mut counts: BTreeMap<Key, f64> = BTreeMap::new();
    for s in &family.samples {
        let mut key = s.labels.clone();
        if s.name == format!("{name}_bucket") {
            let le = key
                .remove("le")
                .ok_or(format!("{name}: a bucket without le"))?;
            buckets
                .entry(key)
                .or_default()
                .push((parse_value(&le)?, s.value));
        } else if s.name == format!("{name}_sum") {
            sums.insert(key, s.value);
        } else if s.name == format!("{name}_count") {
            counts.insert(key, s.value);
        } else {
            return Err(format!("{name}: a histogram sample {}", s.name));
        }
    }
    for (key, list) in &buckets {
        let ascending = list.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
        if !ascending {
            return Err(format!(
                "{name}{key:?}: buckets not ascending and cumulative"
            ));
        }
        let last = list.last().expect("non-empty");
        if last.0 != f64::INFINITY {
            return Err(format!("{name}{key:?}: no le=\"+Inf\" bucket"));
        }
        if counts.get(key) != Some(&last.1) {
            return Err(format!(
                "{name}{key:?}: _count differs from the +Inf bucket"
            ));
        }
        if !sums.contains_key(key) {
            return Err(format!("{name}{key:?}: no _sum"));
        }
    }
    if counts.len() != buckets.len() || sums.len() != buckets.len() {
        return Err(format!("{name}: a _sum or _count without buckets"));
    }
    Ok(())
}
