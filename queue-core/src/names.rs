//! The bucket layout. Every object name is built and parsed here, so the layout people see
//! with `gsutil ls` is defined in one place (docs/protocol.md describes it).
//!
//! ```text
//! {class}/pending/{due}_{id}.json       waiting; sorts by due time, then enqueue order
//! {class}/running/{id}/{epoch}.json     the lease chain of a task (see docs/protocol.md)
//! {class}/done/{id}.json                finished: envelope + result + attempts
//! {class}/failed/{id}.json              dead-lettered or cancelled
//! {class}/wake.json                     touched at enqueue; idle workers poll it with a GET
//! keys/{class}/{key}.json               idempotency records (key -> task)
//! invalid/{original name}               quarantined objects, with `.reason.json` beside them
//! workers/{worker}.json                 presence
//! schedules/…                           schedule definitions and fired-slot markers
//! attachments/…                         files that came with tasks
//! ```
//! Names are relative to the store root (a `gs://bucket/prefix` adds its prefix itself).

use chrono::{DateTime, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::task::{Class, TaskId, TaskState};

const DUE_FORMAT: &str = "%Y%m%dT%H%M%S%.3fZ";

/// `{class}/pending/` etc.
pub fn state_prefix(class: Class, state: TaskState) -> String {
    format!("{class}/{state}/")
}

/// Format a due time as it appears in pending names: `20261124T090000.000Z`.
pub fn format_due(due: DateTime<Utc>) -> String {
    due.format(DUE_FORMAT).to_string()
}

/// The object name of a pending task.
pub fn pending(class: Class, due: DateTime<Utc>, id: TaskId) -> String {
    format!("{class}/pending/{}_{id}.json", format_due(due))
}

/// The prefix of a task's lease chain.
pub fn running_dir(class: Class, id: TaskId) -> String {
    format!("{class}/running/{id}/")
}

/// One record of a task's lease chain.
pub fn running(class: Class, id: TaskId, epoch: u64) -> String {
    format!("{class}/running/{id}/{epoch:06}.json")
}

/// A finished task.
pub fn done(class: Class, id: TaskId) -> String {
    format!("{class}/done/{id}.json")
}

/// A dead-lettered or cancelled task.
pub fn failed(class: Class, id: TaskId) -> String {
    format!("{class}/failed/{id}.json")
}

/// The terminal object for `state` (done or failed).
pub fn terminal(class: Class, state: TaskState, id: TaskId) -> String {
    match state {
        TaskState::Done => done(class, id),
        _ => failed(class, id),
    }
}

/// The wake-up object of a class.
pub fn wake(class: Class) -> String {
    format!("{class}/wake.json")
}

/// The idempotency record for `key`. Keys made of safe characters stay readable; others are
/// hashed.
pub fn idempotency(class: Class, key: &str) -> String {
    let safe = !key.is_empty()
        && key.len() <= 128
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        && !key.starts_with('.');
    if safe {
        format!("keys/{class}/{key}.json")
    } else {
        let digest = Sha256::digest(key.as_bytes());
        format!("keys/{class}/sha256-{}.json", hex::encode(digest))
    }
}

/// Where a quarantined object goes.
pub fn invalid(original: &str) -> String {
    format!("invalid/{original}")
}

/// The reason document beside a quarantined object.
pub fn invalid_reason(original: &str) -> String {
    format!("invalid/{original}.reason.json")
}

/// An attachment's object name: `attachments/{owner}/{file}`, where `owner` says what it came
/// with (e.g. `tg-update-42`). Both parts must be safe name segments.
pub fn attachment(owner: &str, file: &str) -> Result<String> {
    for part in [owner, file] {
        if !is_valid_kind(part) {
            return Err(Error::invalid(format!(
                "bad attachment name part: {part:?} (use 1-64 letters, digits, '.', '_' or '-')"
            )));
        }
    }
    Ok(format!("{ATTACHMENTS_PREFIX}{owner}/{file}"))
}

/// A worker's presence document.
pub fn worker(worker_id: &str) -> String {
    format!("workers/{worker_id}.json")
}

/// Prefix of all presence documents.
pub const WORKERS_PREFIX: &str = "workers/";
/// Prefix of quarantined objects.
pub const INVALID_PREFIX: &str = "invalid/";
/// Prefix of schedule objects.
pub const SCHEDULES_PREFIX: &str = "schedules/";
/// Prefix of attachments.
pub const ATTACHMENTS_PREFIX: &str = "attachments/";

/// A parsed pending name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingName {
    /// When it is due.
    pub due: DateTime<Utc>,
    /// Which task.
    pub id: TaskId,
}

/// Parse the file part (`{due}_{id}.json`) of a pending name.
pub fn parse_pending_file(file: &str) -> Result<PendingName> {
    let bad = || {
        Error::invalid(format!(
            "not a pending task name: {file:?} (expected {{due}}_{{id}}.json)"
        ))
    };
    let stem = file.strip_suffix(".json").ok_or_else(bad)?;
    let (due, id) = stem.split_once('_').ok_or_else(bad)?;
    let due = NaiveDateTime::parse_from_str(due, DUE_FORMAT)
        .map_err(|_| bad())?
        .and_utc();
    let id = id.parse().map_err(|_| bad())?;
    Ok(PendingName { due, id })
}

/// Parse `{id}/{epoch}.json` (the part after `{class}/running/`).
pub fn parse_running_rest(rest: &str) -> Result<(TaskId, u64)> {
    let bad = || {
        Error::invalid(format!(
            "not a lease record name: {rest:?} (expected {{id}}/{{epoch}}.json)"
        ))
    };
    let (id, file) = rest.split_once('/').ok_or_else(bad)?;
    let epoch = file.strip_suffix(".json").ok_or_else(bad)?;
    if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    Ok((
        id.parse().map_err(|_| bad())?,
        epoch.parse().map_err(|_| bad())?,
    ))
}

/// Parse `{id}.json` (done and failed names).
pub fn parse_terminal_file(file: &str) -> Result<TaskId> {
    file.strip_suffix(".json")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::invalid(format!("not a task name: {file:?} (expected {{id}}.json)")))
}

/// Whether `kind` is a usable task kind: 1–64 of `a-z A-Z 0-9 . _ -`, not starting with `.`.
pub fn is_valid_kind(kind: &str) -> bool {
    !kind.is_empty()
        && kind.len() <= 64
        && !kind.starts_with('.')
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Validate a worker id (it becomes an object name).
pub fn validate_worker_id(id: &str) -> Result<()> {
    if is_valid_kind(id) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "bad worker id: id={id:?} (use 1-64 letters, digits, '.', '_' or '-')"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::SeedableRng;

    #[test]
    fn pending_names_sort_by_due_then_enqueue_order() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
        let a = TaskId::new_at(t0, &mut rng);
        let b = TaskId::new_at(t0 + chrono::Duration::milliseconds(1), &mut rng);
        let early = pending(Class::Heavy, t0, b);
        let late_a = pending(Class::Heavy, t0 + chrono::Duration::seconds(1), a);
        let late_b = pending(Class::Heavy, t0 + chrono::Duration::seconds(1), b);
        let mut names = vec![late_b.clone(), late_a.clone(), early.clone()];
        names.sort();
        assert_eq!(names, vec![early, late_a, late_b]);
    }

    #[test]
    fn pending_name_round_trips() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let due = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
            + chrono::Duration::milliseconds(678);
        let id = TaskId::new_at(due, &mut rng);
        let name = pending(Class::Light, due, id);
        assert_eq!(
            name,
            format!("light/pending/20260102T030405.678Z_{id}.json")
        );
        let file = name.rsplit('/').next().unwrap();
        assert_eq!(parse_pending_file(file).unwrap(), PendingName { due, id });
    }

    #[test]
    fn running_name_round_trips_and_rejects_junk() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let id = TaskId::new_at(Utc::now(), &mut rng);
        let name = running(Class::Heavy, id, 12);
        let rest = name.strip_prefix("heavy/running/").unwrap();
        assert_eq!(parse_running_rest(rest).unwrap(), (id, 12));
        assert!(parse_running_rest("junk.json").is_err());
        assert!(parse_running_rest(&format!("{id}/x1.json")).is_err());
        assert!(parse_pending_file("hello.json").is_err());
        assert!(parse_terminal_file("../etc.json").is_err());
    }

    #[test]
    fn idempotency_names_are_readable_or_hashed() {
        assert_eq!(
            idempotency(Class::Light, "tg-update-42"),
            "keys/light/tg-update-42.json"
        );
        let hashed = idempotency(Class::Light, "a/b c");
        assert!(hashed.starts_with("keys/light/sha256-"), "{hashed}");
        assert_ne!(hashed, idempotency(Class::Light, "a/b d"));
    }

    #[test]
    fn ids_from_outside_are_validated() {
        assert!("not-a-uuid".parse::<TaskId>().is_err());
        // a v4 UUID is refused: ids must be v7 (time-sortable)
        assert!(
            "6ba7b810-9dad-41d1-80b4-00c04fd430c8"
                .parse::<TaskId>()
                .is_err()
        );
        assert!(!is_valid_kind("../x"));
        assert!(is_valid_kind("content-ideation"));
    }
}
