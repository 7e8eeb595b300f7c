//! Schedules in the bucket.
//!
//! ```text
//! schedules/{name}.json          the definition (pretty JSON, `schema` field)
//! schedules/_fired/{name}.json   the fired marker: every slot up to `last_slot` is decided
//! rollups/{name}/{YYYYMMDDTHH}.json  an inline schedule's hour (see [`super::inline`])
//! ```
//!
//! Definitions are written by people (`queuectl schedules …`, the worker's schedules file);
//! markers by schedulers — separate objects, so neither overwrites the other. A marker is an
//! optimisation (it tells a scheduler coming back from downtime where catch-up starts); it never
//! decides a race: the slot's idempotency key does. Two schedulers may write a marker in either
//! order, so a marker can lag behind; the worst that does is a few enqueues answered "already
//! exists".

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::inline::{Rollup, Tally, rollup_name};
use super::{Schedule, validate_name};
use crate::error::{Error, ErrorKind, Result};
use crate::names::SCHEDULES_PREFIX;
use crate::store::{Bucket, Created, ObjectInfo};

const FIRED_DIR: &str = "_fired/";

/// Rewritten by every change made through [`ScheduleStore`]; schedulers read it with one GET
/// (Class B) and list `schedules/` (Class A) only when it changed. Schedule names start with a
/// letter or digit, so it cannot collide with a definition.
pub const CHANGED_OBJECT: &str = "schedules/_changed.json";

/// The object name of a schedule's definition.
pub fn definition_name(name: &str) -> String {
    format!("{SCHEDULES_PREFIX}{name}.json")
}

/// The object name of a schedule's fired marker.
pub fn marker_name(name: &str) -> String {
    format!("{SCHEDULES_PREFIX}{FIRED_DIR}{name}.json")
}

/// The schedule name of a definition object, if `object` is one (markers are not).
pub fn parse_definition_name(object: &str) -> Option<&str> {
    let rest = object.strip_prefix(SCHEDULES_PREFIX)?;
    let name = rest.strip_suffix(".json")?;
    // markers live in `_fired/` and the change marker is `_changed.json`: names never start with `_`
    (!name.contains('/') && !name.starts_with('_')).then_some(name)
}

/// `schedules/_fired/{name}.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredMarker {
    /// Marker schema version (1).
    pub schema: u32,
    /// The schedule.
    pub name: String,
    /// Every slot up to and including this one has been enqueued or deliberately skipped.
    pub last_slot: DateTime<Utc>,
    /// When the marker was written (the writer's clock).
    pub written_at: DateTime<Utc>,
}

/// What [`ScheduleStore::upsert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// The schedule did not exist and was written.
    Created,
    /// It existed with different content and was rewritten.
    Updated,
    /// It existed with the same content: nothing was written.
    Unchanged,
}

/// Every schedule in the bucket, and the objects under `schedules/` that are not schedules.
#[derive(Debug, Clone, Default)]
pub struct ScheduleListing {
    /// Valid schedules, by name.
    pub schedules: Vec<Schedule>,
    /// `(object name, reason)` for definitions that could not be read.
    pub invalid: Vec<(String, String)>,
}

/// Schedules and fired markers under `schedules/`.
#[derive(Debug, Clone)]
pub struct ScheduleStore {
    bucket: Bucket,
}

impl ScheduleStore {
    /// The schedules of `bucket`.
    pub fn new(bucket: Bucket) -> Self {
        ScheduleStore { bucket }
    }

    /// The bucket.
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// Add a schedule that must not exist yet (`queuectl schedules add`): create-if-absent,
    /// so two concurrent adds of one name cannot both win.
    pub async fn create(&self, schedule: &Schedule) -> Result<()> {
        schedule.validate()?;
        let object = definition_name(&schedule.name);
        match self.bucket.create(&object, schedule.to_json()).await? {
            Created::Created => self.touch(&schedule.name).await,
            Created::AlreadyExists => Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "schedule exists: name={} (remove it first with `queuectl schedules rm {}`)",
                    schedule.name, schedule.name
                ),
            )),
        }
    }

    /// Write a schedule, replacing any definition of the same name.
    pub async fn put(&self, schedule: &Schedule) -> Result<()> {
        schedule.validate()?;
        self.bucket
            .put(&definition_name(&schedule.name), schedule.to_json())
            .await?;
        self.touch(&schedule.name).await
    }

    /// Tell schedulers the list changed (see [`CHANGED_OBJECT`]).
    async fn touch(&self, name: &str) -> Result<()> {
        let body = serde_json::json!({
            "schema": 1,
            "changed": name,
            "nonce": format!("{:016x}", rand::random::<u64>()),
        });
        self.bucket
            .put(CHANGED_OBJECT, serde_json::to_vec_pretty(&body)?)
            .await
    }

    /// The change marker's contents (`None` if nothing was ever changed through the store).
    pub async fn changes(&self) -> Result<Option<bytes::Bytes>> {
        Ok(self.bucket.get(CHANGED_OBJECT).await?.map(|o| o.bytes))
    }

    /// Write a schedule from a file, keeping what operators changed: an existing schedule keeps
    /// its `created_at` and its paused/enabled state (pause and resume belong to `queuectl`),
    /// and keeps `active_since` unless the timing (spec or zone) changed. Nothing is written
    /// when nothing changed, so restarting a worker costs one read per schedule.
    pub async fn upsert(&self, schedule: &Schedule, now: DateTime<Utc>) -> Result<Upserted> {
        schedule.validate()?;
        let existing = match self.get(&schedule.name).await {
            Ok(existing) => existing,
            Err(e) if e.kind() == ErrorKind::InvalidInput => {
                tracing::warn!(schedule = %schedule.name, error = %e, "replacing an unreadable schedule definition");
                None
            }
            Err(e) => return Err(e),
        };
        let Some(existing) = existing else {
            self.put(schedule).await?;
            return Ok(Upserted::Created);
        };
        let mut merged = schedule.clone();
        merged.created_at = existing.created_at;
        merged.enabled = existing.enabled;
        merged.active_since = if existing.same_timing(schedule) {
            existing.active_since
        } else {
            now
        };
        for (k, v) in &existing.extra {
            merged.extra.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if merged == existing {
            return Ok(Upserted::Unchanged);
        }
        self.put(&merged).await?;
        Ok(Upserted::Updated)
    }

    /// [`upsert`](Self::upsert) every schedule of a file, in order; stops at the first store
    /// error. What a worker calls at start with the result of [`load_file`](super::load_file).
    pub async fn upsert_all(
        &self,
        schedules: &[Schedule],
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, Upserted)>> {
        let mut out = Vec::with_capacity(schedules.len());
        for s in schedules {
            out.push((s.name.clone(), self.upsert(s, now).await?));
        }
        Ok(out)
    }

    /// Read one schedule; `None` if absent, an `InvalidInput` error if unreadable.
    pub async fn get(&self, name: &str) -> Result<Option<Schedule>> {
        validate_name(name)?;
        let object = definition_name(name);
        let Some(found) = self.bucket.get(&object).await? else {
            return Ok(None);
        };
        parse_definition(&object, name, &found.bytes).map(Some)
    }

    /// The definitions' object metadata (one listing), without reading them.
    pub async fn list_objects(&self) -> Result<Vec<ObjectInfo>> {
        let mut objects = self.bucket.list(SCHEDULES_PREFIX).await?;
        objects.retain(|o| parse_definition_name(&o.name).is_some());
        Ok(objects)
    }

    /// Read one listed definition.
    pub async fn load(&self, object: &ObjectInfo) -> Result<Option<Schedule>> {
        let name = parse_definition_name(&object.name).ok_or_else(|| {
            Error::invalid(format!("not a schedule object: object={}", object.name))
        })?;
        let Some(found) = self.bucket.get(&object.name).await? else {
            return Ok(None);
        };
        parse_definition(&object.name, name, &found.bytes).map(Some)
    }

    /// Every schedule (one listing and one read per schedule), with the unreadable ones set
    /// apart instead of failing the whole listing.
    pub async fn list(&self) -> Result<ScheduleListing> {
        let mut listing = ScheduleListing::default();
        for object in self.list_objects().await? {
            match self.load(&object).await {
                Ok(Some(s)) => listing.schedules.push(s),
                Ok(None) => {}
                Err(e) if e.kind() == ErrorKind::InvalidInput => {
                    listing
                        .invalid
                        .push((object.name.clone(), e.message().to_string()));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(listing)
    }

    /// Remove a schedule and its marker. Returns whether the definition existed.
    pub async fn remove(&self, name: &str) -> Result<bool> {
        validate_name(name)?;
        let object = definition_name(name);
        let existed = self.bucket.exists(&object).await?;
        self.bucket.delete(&object).await?;
        self.bucket.delete(&marker_name(name)).await?;
        self.touch(name).await?;
        Ok(existed)
    }

    /// Pause a schedule: it enqueues nothing until resumed.
    pub async fn pause(&self, name: &str) -> Result<Schedule> {
        self.modify(name, |s| s.enabled = false).await
    }

    /// Resume a schedule. Slots that passed while it was paused are not caught up: catch-up
    /// starts at `now`.
    pub async fn resume(&self, name: &str, now: DateTime<Utc>) -> Result<Schedule> {
        self.modify(name, |s| {
            if !s.enabled {
                s.enabled = true;
                s.active_since = now;
            }
        })
        .await
    }

    async fn modify(&self, name: &str, f: impl FnOnce(&mut Schedule)) -> Result<Schedule> {
        let mut schedule = self.get(name).await?.ok_or_else(|| {
            Error::not_found(format!(
                "no such schedule: name={name} (see `queuectl schedules ls`)"
            ))
        })?;
        let before = schedule.clone();
        f(&mut schedule);
        if schedule != before {
            self.put(&schedule).await?;
        }
        Ok(schedule)
    }

    /// Read a schedule's fired marker. An unreadable marker counts as absent (it is only an
    /// optimisation) and is logged.
    pub async fn read_marker(&self, name: &str) -> Result<Option<FiredMarker>> {
        let object = marker_name(name);
        let Some(found) = self.bucket.get(&object).await? else {
            return Ok(None);
        };
        match serde_json::from_slice::<FiredMarker>(&found.bytes) {
            Ok(m) if m.name == name => Ok(Some(m)),
            Ok(m) => {
                tracing::warn!(%object, found = %m.name, "fired marker names another schedule; ignoring it");
                Ok(None)
            }
            Err(e) => {
                tracing::warn!(%object, error = %e, "unreadable fired marker; ignoring it");
                Ok(None)
            }
        }
    }

    /// Record that every slot of `name` up to `last_slot` is decided.
    pub async fn write_marker(
        &self,
        name: &str,
        last_slot: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let marker = FiredMarker {
            schema: 1,
            name: name.to_string(),
            last_slot,
            written_at: now,
        };
        let bytes = serde_json::to_vec_pretty(&marker).expect("marker serializes");
        self.bucket.put(&marker_name(name), bytes).await
    }
}

impl ScheduleStore {
    /// Read the roll-up of an inline schedule's hour. An unreadable one is logged and read as
    /// naming no next owner: every scheduler skips the next hour, and the hour after is claimed
    /// as usual (a broken claim stops one hour, never two schedulers running it).
    pub async fn read_rollup(&self, name: &str, hour: DateTime<Utc>) -> Result<Option<Rollup>> {
        let object = rollup_name(name, hour);
        let Some(found) = self.bucket.get(&object).await? else {
            return Ok(None);
        };
        match serde_json::from_slice::<Rollup>(&found.bytes) {
            Ok(r) => Ok(Some(r)),
            Err(e) => {
                tracing::warn!(%object, error = %e, "unreadable roll-up; treating its hour's successor as unowned");
                Ok(Some(Tally::default().rollup(name, hour, None, "", hour)))
            }
        }
    }

    /// Create the roll-up of `rollup.hour` if absent (the claim on the next hour).
    pub async fn create_rollup(&self, rollup: &Rollup) -> Result<Created> {
        let bytes = serde_json::to_vec_pretty(rollup).expect("roll-up serializes");
        self.bucket
            .create(&rollup_name(&rollup.schedule, rollup.hour), bytes)
            .await
    }
}

fn parse_definition(object: &str, name: &str, bytes: &[u8]) -> Result<Schedule> {
    let schedule = Schedule::from_json(bytes)
        .map_err(|e| Error::invalid(format!("object={object}: {}", e.message())))?;
    if schedule.name != name {
        return Err(Error::invalid(format!(
            "object={object}: its name field is {:?}; it must match the object name",
            schedule.name
        )));
    }
    Ok(schedule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_and_markers_do_not_collide() {
        assert_eq!(definition_name("snapshot"), "schedules/snapshot.json");
        assert_eq!(marker_name("snapshot"), "schedules/_fired/snapshot.json");
        assert_eq!(
            parse_definition_name("schedules/snapshot.json"),
            Some("snapshot")
        );
        assert_eq!(
            parse_definition_name("schedules/_fired/snapshot.json"),
            None
        );
        assert_eq!(parse_definition_name("schedules/notes.txt"), None);
        assert_eq!(parse_definition_name("light/pending/x.json"), None);
    }
}
