//! Logs through tracing, to stderr. Two formats: human text (the default on a terminal) and one
//! JSON object per line that Google Cloud Logging reads (`severity`, `message`, `time`, plus
//! the event's fields). The filter comes from `RUST_LOG` (the binary's default otherwise).
//!
//! This module only formats: keeping secrets out is the callers' rule (the binaries log no
//! tokens, no task payloads, and store URLs carry no credentials).

use std::fmt;
use std::io::IsTerminal;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for Cloud Logging and `jq`.
    Json,
    /// Human-readable lines.
    Text,
}

impl LogFormat {
    /// Text on a terminal, JSON otherwise (systemd, launchd, Cloud Run).
    pub fn detect() -> Self {
        if std::io::stderr().is_terminal() {
            LogFormat::Text
        } else {
            LogFormat::Json
        }
    }
}

/// Install the global subscriber: `format` (or [`LogFormat::detect`]), the filter from
/// `RUST_LOG` or else `default_filter` (e.g. `"info"`). Calling it twice is harmless (the
/// second does nothing).
pub fn init(format: Option<LogFormat>, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format.unwrap_or_else(LogFormat::detect) {
        LogFormat::Json => builder.event_format(CloudJson).try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}

/// Cloud Logging's name for a tracing level.
pub fn severity(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG | Level::TRACE => "DEBUG",
    }
}

/// The JSON line format: `{"severity":…,"message":…,"time":…,"target":…, fields…}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CloudJson;

impl<S, N> FormatEvent<S, N> for CloudJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let line = json_line(event, chrono::Utc::now());
        writeln!(writer, "{line}")
    }
}

/// Render one event as a JSON object (a separate function so tests can call it).
fn json_line(event: &Event<'_>, now: chrono::DateTime<chrono::Utc>) -> String {
    let meta = event.metadata();
    let mut fields = FieldsToJson::default();
    event.record(&mut fields);
    let mut obj = Map::new();
    obj.insert("severity".into(), severity(meta.level()).into());
    obj.insert(
        "message".into(),
        fields.message.take().unwrap_or_default().into(),
    );
    obj.insert(
        "time".into(),
        now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            .into(),
    );
    obj.insert("target".into(), meta.target().into());
    for (key, value) in fields.fields {
        obj.entry(key).or_insert(value);
    }
    Value::Object(obj).to_string()
}

#[derive(Default)]
struct FieldsToJson {
    message: Option<String>,
    fields: Map<String, Value>,
}

impl FieldsToJson {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_string(), value);
        }
    }
}

impl Visit for FieldsToJson {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, value.to_string().into());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn json_lines_carry_severity_and_message_for_cloud_logging() {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(buffer.clone())
            .event_format(CloudJson)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(task = "t1", attempt = 2u64, "lease lost");
            tracing::info!("plain");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["severity"], "WARNING");
        assert_eq!(lines[0]["message"], "lease lost");
        assert_eq!(lines[0]["task"], "t1");
        assert_eq!(lines[0]["attempt"], 2);
        assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
        assert_eq!(lines[1]["severity"], "INFO");
    }
}
