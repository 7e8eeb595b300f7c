//! Recurring schedules: routine jobs enqueued on time, exactly once per slot, by any number of
//! schedulers.
//!
//! Map of the module:
//!
//! - this file     — [`Schedule`] (the versioned JSON document in `schedules/{name}.json`),
//!   [`CatchUp`], name validation and the slot idempotency key.
//! - [`spec`]      — when a schedule fires: cron expressions (croner) and fixed intervals, turned
//!   into slot instants in UTC, correct across daylight-saving changes.
//! - [`catchup`]   — the pure decision "which slots to enqueue now" after normal ticks or downtime.
//! - [`store`]     — [`ScheduleStore`]: schedules and fired-slot markers in the bucket.
//! - [`scheduler`] — [`Scheduler`]: the loop, with `run_once` for tests.
//! - [`file`]      — the TOML file of schedules loaded at worker start.
//!
//! The Korean phrase parser and the next-run texts people read live in the `phrases` crate,
//! next to their users (the bot and `queuectl`).
//!
//! **Exactly once.** Every slot is enqueued with the idempotency key
//! `sched:{name}:{slot as %Y%m%dT%H%M%SZ}` ([`slot_key`]); the queue creates one task per key,
//! forever, so two schedulers (the VM and the MacBook) need no leader election. Everything else
//! (the in-memory cursor, the fired marker) only saves store operations.

pub mod catchup;
pub mod file;
pub mod scheduler;
pub mod spec;
pub mod store;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::names;
use crate::task::Class;

pub use self::catchup::{Decision, decide};
pub use self::file::{load_file, parse_toml};
pub use self::scheduler::{
    FiredSlot, InvalidSchedule, ScheduleFailure, Scheduler, SchedulerSettings, SkippedSlots,
    TickReport,
};
pub use self::spec::Spec;
pub use self::store::{FiredMarker, ScheduleListing, ScheduleStore, Upserted};

/// The schedule document schema this build writes.
pub const SCHEDULE_SCHEMA: u32 = 1;

/// The zone a schedule uses when none is given: the user lives in Korea.
pub const DEFAULT_TZ: Tz = chrono_tz::Asia::Seoul;

/// The largest `each { max }` accepted: a catch-up should not flood the queue.
pub const MAX_CATCH_UP_EACH: u32 = 1000;

/// What to do with slots missed while no scheduler was running (older than the scheduler's
/// grace period). Slots within the grace period are on time and always enqueued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CatchUp {
    /// Drop missed slots; wait for the next one.
    Skip,
    /// Run the latest missed slot once — unless a slot on time runs in the same tick, which
    /// stands in for it. The default: a routine job missed during downtime runs once on return.
    #[default]
    Once,
    /// Run each missed slot, but only the latest `max` of them.
    Each {
        /// How many of the latest missed slots to run (1–1000).
        max: u32,
    },
}

impl CatchUp {
    fn validate(self) -> Result<Self> {
        match self {
            CatchUp::Each { max } if max == 0 || max > MAX_CATCH_UP_EACH => {
                Err(Error::invalid(format!(
                    "bad catch_up: each={max} (use 1-{MAX_CATCH_UP_EACH}, or \"skip\" / \"once\")"
                )))
            }
            other => Ok(other),
        }
    }
}

impl fmt::Display for CatchUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatchUp::Skip => f.write_str("skip"),
            CatchUp::Once => f.write_str("once"),
            CatchUp::Each { max } => write!(f, "each:{max}"),
        }
    }
}

impl FromStr for CatchUp {
    type Err = Error;

    /// `skip`, `once`, or `each:N` (also `each=N`), as typed on a command line.
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        let bad = || {
            Error::invalid(format!(
                "bad catch_up: {s:?} (write skip, once, or each:N such as each:3)"
            ))
        };
        match s.as_str() {
            "skip" => Ok(CatchUp::Skip),
            "once" => Ok(CatchUp::Once),
            other => {
                let n = other
                    .strip_prefix("each")
                    .map(|r| r.trim_start_matches([':', '=', ' ']))
                    .ok_or_else(bad)?;
                let max = n.parse().map_err(|_| bad())?;
                CatchUp::Each { max }.validate()
            }
        }
    }
}

/// Stored as `"skip"`, `"once"` or `{"each": N}` — the same shape as in the TOML file.
impl Serialize for CatchUp {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            CatchUp::Skip => s.serialize_str("skip"),
            CatchUp::Once => s.serialize_str("once"),
            CatchUp::Each { max } => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("each", max)?;
                map.end()
            }
        }
    }
}

/// Accepts `"skip"`, `"once"`, `{ each = 3 }` and `{ each = { max = 3 } }`.
impl<'de> Deserialize<'de> for CatchUp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CatchUp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"skip\", \"once\" or { each = N }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<CatchUp, E> {
                match v {
                    "skip" => Ok(CatchUp::Skip),
                    "once" => Ok(CatchUp::Once),
                    other => Err(E::custom(format!(
                        "unknown catch_up {other:?} (expected \"skip\", \"once\" or {{ each = N }})"
                    ))),
                }
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<CatchUp, A::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Max {
                    N(u32),
                    Table { max: u32 },
                }
                let mut max = None;
                while let Some(key) = m.next_key::<String>()? {
                    if key != "each" {
                        return Err(de::Error::custom(format!(
                            "unknown catch_up key {key:?} (expected {{ each = N }})"
                        )));
                    }
                    max = Some(match m.next_value::<Max>()? {
                        Max::N(n) | Max::Table { max: n } => n,
                    });
                }
                let max = max.ok_or_else(|| de::Error::custom("catch_up table needs each = N"))?;
                CatchUp::Each { max }
                    .validate()
                    .map_err(|e| de::Error::custom(e.message()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A recurring schedule: what to enqueue (class, kind, payload) and when (spec, zone).
///
/// Stored as pretty JSON in `schedules/{name}.json` with a `schema` field; fields a newer
/// version adds are kept in `extra`. Build one with [`Schedule::new`]; deserializing validates
/// everything, so a `Schedule` read from the store is always usable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ScheduleDoc", into = "ScheduleDoc")]
pub struct Schedule {
    /// 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit; the object name.
    pub name: String,
    /// When it fires: a cron expression or a fixed interval.
    pub spec: Spec,
    /// The zone cron fields are read in. Default `Asia/Seoul`.
    pub tz: Tz,
    /// Which workers run the tasks.
    pub class: Class,
    /// The handler (a key of the workers' handlers file).
    pub kind: String,
    /// Handler input, the same for every slot (the slot time is in the task's labels).
    pub payload: Value,
    /// Paused schedules enqueue nothing.
    pub enabled: bool,
    /// What happens to slots missed during downtime.
    pub catch_up: CatchUp,
    /// Free text for people (e.g. the phrase it was made from).
    pub description: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Catch-up never reaches back before this: set at creation, at resume, and when the
    /// timing (spec or zone) changes.
    pub active_since: DateTime<Utc>,
    /// Fields a newer version adds: kept verbatim on rewrite.
    pub extra: Map<String, Value>,
}

impl Schedule {
    /// A new enabled schedule in `Asia/Seoul` with catch-up `once`, created at `now`.
    pub fn new(
        name: &str,
        spec: Spec,
        class: Class,
        kind: &str,
        payload: Value,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let schedule = Schedule {
            name: name.to_string(),
            spec,
            tz: DEFAULT_TZ,
            class,
            kind: kind.to_string(),
            payload,
            enabled: true,
            catch_up: CatchUp::default(),
            description: None,
            created_at: now,
            active_since: now,
            extra: Map::new(),
        };
        schedule.validate()?;
        Ok(schedule)
    }

    /// Set the zone by IANA name (`Asia/Seoul`, `America/New_York`).
    pub fn with_tz(mut self, tz: &str) -> Result<Self> {
        self.tz = parse_tz(tz)?;
        Ok(self)
    }

    /// Set the catch-up policy.
    pub fn with_catch_up(mut self, catch_up: CatchUp) -> Result<Self> {
        self.catch_up = catch_up.validate()?;
        Ok(self)
    }

    /// Set whether it is enabled.
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Set the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Check the fields a caller may have changed by hand (name, kind, catch-up, payload).
    pub fn validate(&self) -> Result<()> {
        validate_name(&self.name)?;
        if !names::is_valid_kind(&self.kind) {
            return Err(Error::invalid(format!(
                "bad kind: schedule={} kind={:?} (use 1-64 letters, digits, '.', '_' or '-')",
                self.name, self.kind
            )));
        }
        self.catch_up.validate()?;
        Ok(())
    }

    /// The next slot strictly after `t`, if the schedule ever fires again.
    pub fn next_slot_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.spec.next_after(self.tz, t)
    }

    /// Whether the timing (spec and zone) equals `other`'s.
    pub fn same_timing(&self, other: &Schedule) -> bool {
        self.spec == other.spec && self.tz == other.tz
    }

    /// Pretty JSON, as stored.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("schedule serializes")
    }

    /// Parse a stored schedule, with an error that says what is wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::invalid(format!("not a schedule document: {e}")))
    }
}

/// Validate a schedule name: 1–64 of `a-z 0-9 . _ -`, starting with a letter or digit (so it is
/// a safe object name and never collides with the `_fired/` folder).
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "bad schedule name: name={name:?} (use 1-64 lowercase letters, digits, '.', '_' or '-', \
             starting with a letter or digit, e.g. content-ideation)"
        )))
    }
}

/// Parse an IANA zone name.
pub fn parse_tz(tz: &str) -> Result<Tz> {
    tz.trim().parse::<Tz>().map_err(|_| {
        Error::invalid(format!(
            "unknown time zone: tz={tz:?} (use an IANA name such as Asia/Seoul or America/New_York)"
        ))
    })
}

/// The idempotency key of one slot: `sched:{name}:{slot as %Y%m%dT%H%M%SZ}`.
pub fn slot_key(name: &str, slot: DateTime<Utc>) -> String {
    format!("sched:{name}:{}", format_slot(slot))
}

/// A slot as it appears in keys and labels: `20260310T000000Z`.
pub fn format_slot(slot: DateTime<Utc>) -> String {
    slot.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The stored shape of a [`Schedule`]; converting validates.
#[derive(Debug, Serialize, Deserialize)]
struct ScheduleDoc {
    schema: u32,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cron: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    every: Option<String>,
    #[serde(default)]
    tz: Option<String>,
    class: Class,
    kind: String,
    #[serde(default = "empty_object")]
    payload: Value,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    catch_up: CatchUp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    created_at: DateTime<Utc>,
    #[serde(default)]
    active_since: Option<DateTime<Utc>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

fn yes() -> bool {
    true
}

impl TryFrom<ScheduleDoc> for Schedule {
    type Error = Error;

    fn try_from(doc: ScheduleDoc) -> Result<Self> {
        if doc.schema == 0 {
            return Err(Error::invalid(format!(
                "bad schedule: name={} schema=0",
                doc.name
            )));
        }
        let spec = Spec::from_parts(doc.cron.as_deref(), doc.every.as_deref())
            .map_err(|e| Error::invalid(format!("schedule={}: {}", doc.name, e.message())))?;
        let tz = match doc.tz.as_deref() {
            Some(tz) => parse_tz(tz)?,
            None => DEFAULT_TZ,
        };
        let schedule = Schedule {
            name: doc.name,
            spec,
            tz,
            class: doc.class,
            kind: doc.kind,
            payload: doc.payload,
            enabled: doc.enabled,
            catch_up: doc.catch_up,
            description: doc.description,
            created_at: doc.created_at,
            active_since: doc.active_since.unwrap_or(doc.created_at),
            extra: doc.extra,
        };
        schedule.validate()?;
        Ok(schedule)
    }
}

impl From<Schedule> for ScheduleDoc {
    fn from(s: Schedule) -> Self {
        let (cron, every) = match &s.spec {
            Spec::Cron(c) => (Some(c.expr().to_string()), None),
            Spec::Every(e) => (None, Some(e.text().to_string())),
        };
        ScheduleDoc {
            schema: SCHEDULE_SCHEMA,
            name: s.name,
            cron,
            every,
            tz: Some(s.tz.name().to_string()),
            class: s.class,
            kind: s.kind,
            payload: s.payload,
            enabled: s.enabled,
            catch_up: s.catch_up,
            description: s.description,
            created_at: s.created_at,
            active_since: Some(s.active_since),
            extra: s.extra,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn schedule_json_round_trips_with_schema_and_unknown_fields() {
        let s = Schedule::new(
            "content-ideation",
            Spec::parse_cron("0 9 * * *").unwrap(),
            Class::Light,
            "content-ideation",
            serde_json::json!({"topic": "brand"}),
            t0(),
        )
        .unwrap()
        .with_catch_up(CatchUp::Each { max: 3 })
        .unwrap();
        let json: Value = serde_json::from_slice(&s.to_json()).unwrap();
        assert_eq!(json["schema"], 1);
        assert_eq!(json["cron"], "0 9 * * *");
        assert_eq!(json["tz"], "Asia/Seoul");
        assert_eq!(json["catch_up"], serde_json::json!({"each": 3}));
        assert!(json.get("every").is_none());

        let mut with_new_field = json.clone();
        with_new_field["owner"] = "someone".into();
        let back = Schedule::from_json(&serde_json::to_vec(&with_new_field).unwrap()).unwrap();
        assert_eq!(back.extra["owner"], "someone");
        assert_eq!(
            Schedule {
                extra: Map::new(),
                ..back
            },
            s
        );
    }

    #[test]
    fn names_are_validated() {
        for good in ["a", "content-ideation", "sync.check_5m", "0-daily"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "_fired",
            ".hidden",
            "Upper",
            "a/b",
            "한글",
            &"x".repeat(65),
        ] {
            let err = validate_name(bad).unwrap_err();
            assert!(err.message().contains("bad schedule name"), "{bad}: {err}");
        }
    }

    #[test]
    fn catch_up_parses_every_spelling() {
        assert_eq!("skip".parse::<CatchUp>().unwrap(), CatchUp::Skip);
        assert_eq!(
            "each:3".parse::<CatchUp>().unwrap(),
            CatchUp::Each { max: 3 }
        );
        assert_eq!(
            "each=5".parse::<CatchUp>().unwrap(),
            CatchUp::Each { max: 5 }
        );
        assert!("each:0".parse::<CatchUp>().is_err());
        assert!("sometimes".parse::<CatchUp>().is_err());
        let v: CatchUp = serde_json::from_str(r#"{"each": {"max": 2}}"#).unwrap();
        assert_eq!(v, CatchUp::Each { max: 2 });
        let err = serde_json::from_str::<CatchUp>(r#""twice""#).unwrap_err();
        assert!(err.to_string().contains("unknown catch_up"), "{err}");
    }

    #[test]
    fn slot_keys_are_readable() {
        let slot = Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap();
        assert_eq!(
            slot_key("snapshot", slot),
            "sched:snapshot:20260310T000000Z"
        );
    }

    #[test]
    fn bad_zone_is_refused() {
        let err = parse_tz("Asia/Busan").unwrap_err();
        assert!(err.message().contains("unknown time zone"), "{err}");
        assert_eq!(
            parse_tz("America/New_York").unwrap(),
            chrono_tz::America::New_York
        );
    }
}
