//! The schedules file a worker loads at start and upserts into the bucket
//! (see `examples/schedules.toml`):
//!
//! ```toml
//! [[schedule]]
//! name = "content-ideation"
//! cron = "0 9 * * *"          # or: every = "30m"
//! tz = "Asia/Seoul"           # the default
//! class = "light"
//! kind = "content-ideation"
//! payload = { topic = "daily" }   # or a JSON string: payload = '{"topic": "daily"}'
//! catch_up = "once"           # "skip" | "once" | { each = 3 }
//! ```
//!
//! Unknown keys are refused (a typo such as `crom` must not silently drop the timing).
//! Upserting keeps what operators changed: see [`ScheduleStore::upsert`](super::ScheduleStore::upsert).

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{CatchUp, RunMode, Schedule, Spec, parse_tz};
use crate::error::{Error, Result};
use crate::task::Class;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    schedule: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    cron: Option<String>,
    every: Option<String>,
    tz: Option<String>,
    class: String,
    kind: String,
    payload: Option<toml::Value>,
    catch_up: Option<CatchUp>,
    run: Option<RunMode>,
    enabled: Option<bool>,
    description: Option<String>,
}

/// Parse a schedules file. `now` becomes the `created_at` of new schedules.
pub fn parse_toml(text: &str, now: DateTime<Utc>) -> Result<Vec<Schedule>> {
    let doc: FileDoc = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
        let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
        Error::invalid(format!(
            "bad schedules file{at}: {}",
            e.message().trim_end()
        ))
    })?;
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(doc.schedule.len());
    for (i, entry) in doc.schedule.into_iter().enumerate() {
        let context = format!("schedule #{} (name={})", i + 1, entry.name);
        let schedule = entry_to_schedule(entry, now).map_err(|e| {
            Error::invalid(format!("bad schedules file: {context}: {}", e.message()))
        })?;
        if !names.insert(schedule.name.clone()) {
            return Err(Error::invalid(format!(
                "bad schedules file: {context}: the name is used twice"
            )));
        }
        out.push(schedule);
    }
    Ok(out)
}

/// Read and parse a schedules file.
pub fn load_file(path: &Path, now: DateTime<Utc>) -> Result<Vec<Schedule>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::invalid(format!(
            "cannot read schedules file: path={} ({e})",
            path.display()
        ))
    })?;
    parse_toml(&text, now)
        .map_err(|e| Error::invalid(format!("path={}: {}", path.display(), e.message())))
}

fn entry_to_schedule(entry: Entry, now: DateTime<Utc>) -> Result<Schedule> {
    let spec = Spec::from_parts(entry.cron.as_deref(), entry.every.as_deref())?;
    let class: Class = entry.class.parse()?;
    let payload = match entry.payload {
        None => Value::Object(Default::default()),
        Some(toml::Value::String(json)) => serde_json::from_str(&json).map_err(|e| {
            Error::invalid(format!(
                "payload is a string but not JSON ({e}); write an inline table such as payload = {{ topic = \"daily\" }}"
            ))
        })?,
        Some(other) => serde_json::to_value(other)
            .map_err(|e| Error::invalid(format!("payload cannot be turned into JSON ({e})")))?,
    };
    let mut schedule = Schedule::new(&entry.name, spec, class, &entry.kind, payload, now)?;
    if let Some(tz) = entry.tz {
        schedule.tz = parse_tz(&tz)?;
    }
    if let Some(catch_up) = entry.catch_up {
        schedule = schedule.with_catch_up(catch_up)?;
    }
    schedule.run = entry.run.unwrap_or_default();
    if let Some(enabled) = entry.enabled {
        schedule.enabled = enabled;
    }
    schedule.description = entry.description;
    Ok(schedule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn run_inline_is_read_and_kept_in_the_document() {
        let text = "[[schedule]]\nname = \"sync-check\"\nevery = \"5m\"\nclass = \"light\"\nkind = \"sync-check\"\nrun = \"inline\"\n";
        let s = &parse_toml(text, now()).unwrap()[0];
        assert_eq!(s.run, RunMode::Inline);
        let back = Schedule::from_json(&s.to_json()).unwrap();
        assert_eq!(back.run, RunMode::Inline);
        // the default is a task, and is not written out
        let task = parse_toml(&text.replace("run = \"inline\"\n", ""), now()).unwrap();
        assert_eq!(task[0].run, RunMode::Task);
        assert!(
            !String::from_utf8(task[0].to_json())
                .unwrap()
                .contains("\"run\"")
        );
        let bad = parse_toml(&text.replace("inline", "daily"), now()).unwrap_err();
        assert!(
            bad.message().contains("expected `task` or `inline`"),
            "{bad}"
        );
    }

    #[test]
    fn parses_every_form() {
        let text = r#"
            [[schedule]]
            name = "a"
            cron = "0 9 * * *"
            class = "light"
            kind = "content-ideation"
            payload = { topic = "daily", n = 3 }
            catch_up = { each = 3 }

            [[schedule]]
            name = "b"
            every = "30m"
            tz = "America/New_York"
            class = "heavy"
            kind = "backup"
            payload = '{"x": [1, 2]}'
            catch_up = "skip"
            enabled = false
        "#;
        let v = parse_toml(text, now()).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].payload, serde_json::json!({"topic": "daily", "n": 3}));
        assert_eq!(v[0].catch_up, CatchUp::Each { max: 3 });
        assert_eq!(v[0].tz, chrono_tz::Asia::Seoul);
        assert_eq!(v[1].payload, serde_json::json!({"x": [1, 2]}));
        assert_eq!(v[1].catch_up, CatchUp::Skip);
        assert!(!v[1].enabled);
        assert_eq!(v[1].class, Class::Heavy);
    }

    #[test]
    fn errors_name_the_entry() {
        let bad_cron =
            "[[schedule]]\nname = \"x\"\ncron = \"0 9 * *\"\nclass = \"light\"\nkind = \"k\"\n";
        let msg = parse_toml(bad_cron, now()).unwrap_err().to_string();
        assert!(
            msg.contains("schedule #1 (name=x)") && msg.contains("has 4 fields"),
            "{msg}"
        );

        let typo =
            "[[schedule]]\nname = \"x\"\ncrom = \"0 9 * * *\"\nclass = \"light\"\nkind = \"k\"\n";
        let msg = parse_toml(typo, now()).unwrap_err().to_string();
        assert!(msg.contains("unknown field"), "{msg}");

        let twice = "[[schedule]]\nname = \"x\"\nevery = \"5m\"\nclass = \"light\"\nkind = \"k\"\n\
                     [[schedule]]\nname = \"x\"\nevery = \"6m\"\nclass = \"light\"\nkind = \"k\"\n";
        let msg = parse_toml(twice, now()).unwrap_err().to_string();
        assert!(msg.contains("used twice"), "{msg}");

        let bad_payload = "[[schedule]]\nname = \"x\"\nevery = \"5m\"\nclass = \"light\"\nkind = \"k\"\npayload = \"not json\"\n";
        let msg = parse_toml(bad_payload, now()).unwrap_err().to_string();
        assert!(msg.contains("payload is a string but not JSON"), "{msg}");
    }

    #[test]
    fn the_example_file_has_the_six_routine_jobs() {
        let text = include_str!("../../../examples/schedules.toml");
        let v = parse_toml(text, now()).unwrap();
        let names: Vec<&str> = v.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "content-ideation",
                "system-evolution",
                "clipboard-backup",
                "snapshot",
                "log-analysis",
                "sync-check"
            ]
        );
        assert!(v.iter().all(|s| s.tz == chrono_tz::Asia::Seoul));
    }
}
