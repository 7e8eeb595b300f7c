//! Protocol settings: plain data with documented defaults. Binaries read them from flags and
//! files; the library only takes the built value.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Settings of the queue protocol. Costs are in GCS operations (see docs/cost.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// How long a lease lasts without renewal. A worker renews every `lease_ttl / 3` while its
    /// handler runs (one Class A write per renewal). Default 5 minutes.
    #[serde(with = "humantime_serde_compat")]
    pub lease_ttl: Duration,
    /// The largest clock difference between machines the protocol tolerates. A lease is taken
    /// over only when it expired by more than this on the reclaimer's clock. Workers check their
    /// clock against the store's at start and refuse to run when off by more than half of it.
    /// Default 60 seconds.
    #[serde(with = "humantime_serde_compat")]
    pub max_clock_skew: Duration,
    /// Default attempts before a task is dead-lettered. Default 5.
    pub max_attempts: u32,
    /// First retry delay; doubles every attempt. Default 10 seconds.
    #[serde(with = "humantime_serde_compat")]
    pub backoff_base: Duration,
    /// Longest retry delay. Default 1 hour.
    #[serde(with = "humantime_serde_compat")]
    pub backoff_max: Duration,
    /// How many due pending names one listing collects before claiming. Default 64.
    pub claim_batch: usize,
    /// Whether enqueue (and a retry, snooze or replay) rewrites `{class}/wake.json` for idle
    /// workers that poll it: one Class A write per enqueue (at most one a second per
    /// process). Set it false when a push wake-up (Pub/Sub, filesystem events) tells the
    /// workers instead. Default true.
    pub wake_writes: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lease_ttl: Duration::from_secs(300),
            max_clock_skew: Duration::from_secs(60),
            max_attempts: 5,
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(3600),
            claim_batch: 64,
            wake_writes: true,
        }
    }
}

/// Durations written as `30s`, `10m`, `2h` in files.
pub mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize as `5m`.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    /// Parse `30s`, `10m`, `2h`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        crate::settings::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

/// Parse a duration written `30s`, `10m`, `2h`, `1h30m`, `500ms`.
pub fn parse_duration(s: &str) -> crate::Result<Duration> {
    humantime::parse_duration(s.trim()).map_err(|e| {
        crate::Error::invalid(format!(
            "bad duration: {s:?} ({e}; write it like 30s, 10m or 2h)"
        ))
    })
}
