//! Bodies of the queue-core fuzz targets. They use only `queue_core`, `serde_json` and
//! `chrono`, so queue-core's own tests include this file as it is (`#[path]`) and run it over a
//! corpus on stable.

use chrono::{TimeZone, Utc};
use queue_core::names;
use queue_core::queue::record::LeaseRecord;
use queue_core::task::{Class, Envelope, TaskId};

/// Envelopes and lease records: parsing never panics; what parses is written and parsed back
/// to the same value (a worker that rewrites an envelope loses nothing).
pub fn envelope(data: &[u8]) {
    if let Ok(env) = Envelope::from_json(data) {
        let json = env.to_json();
        let again = Envelope::from_json(&json).unwrap_or_else(|e| {
            panic!(
                "an envelope that parsed does not parse back: {e}\n{}",
                String::from_utf8_lossy(&json)
            )
        });
        assert_eq!(again, env, "the envelope changed in a round trip");
    }
    if let Ok(record) = LeaseRecord::from_json(data) {
        let json = record.to_json();
        let again = LeaseRecord::from_json(&json).unwrap_or_else(|e| {
            panic!(
                "a lease record that parsed does not parse back: {e}\n{}",
                String::from_utf8_lossy(&json)
            )
        });
        assert_eq!(again, record, "the lease record changed in a round trip");
    }
}

/// Object names: the parsers never panic on any text, and every name the queue builds parses
/// back to what built it. The first 24 bytes choose a due time, an id and an epoch.
pub fn names(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = names::parse_pending_file(&text);
    let _ = names::parse_running_rest(&text);
    let _ = names::parse_terminal_file(&text);
    let _ = names::validate_worker_id(&text);
    if let Ok(id) = text.parse::<TaskId>() {
        assert_eq!(id.to_string().parse::<TaskId>().ok(), Some(id));
    }
    for class in Class::ALL {
        let key = names::idempotency(class, &text);
        let file = key
            .strip_prefix(&format!("keys/{class}/"))
            .expect("keys live under keys/{class}/");
        assert!(
            file.ends_with(".json") && !file.contains('/') && !file.starts_with('.'),
            "idempotency name escapes its folder: {key:?}"
        );
    }

    if data.len() < 24 {
        return;
    }
    let word = |i: usize| u64::from_le_bytes(data[i..i + 8].try_into().expect("8 bytes"));
    // every instant a task can be due at: the years the queue accepts (0000-9999)
    let span = Utc
        .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .unwrap()
        .timestamp_millis()
        - Utc
            .with_ymd_and_hms(0, 1, 1, 0, 0, 0)
            .unwrap()
            .timestamp_millis();
    let min = Utc
        .with_ymd_and_hms(0, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp_millis();
    let millis = min + (word(0) % span as u64) as i64;
    let due = Utc.timestamp_millis_opt(millis).single().expect("in range");
    let id = v7_id(word(8), word(16));
    let epoch = word(16) >> (data[0] % 64);
    for class in Class::ALL {
        let pending = names::pending(class, due, id);
        let file = pending
            .strip_prefix(&names::state_prefix(class, queue_core::TaskState::Pending))
            .expect("pending prefix");
        let parsed = names::parse_pending_file(file)
            .unwrap_or_else(|e| panic!("built pending name does not parse: {pending} ({e})"));
        assert_eq!((parsed.due, parsed.id), (due, id), "{pending}");

        let running = names::running(class, id, epoch);
        let rest = running
            .strip_prefix(&names::state_prefix(class, queue_core::TaskState::Running))
            .expect("running prefix");
        assert_eq!(
            names::parse_running_rest(rest).ok(),
            Some((id, epoch)),
            "{running}"
        );

        for name in [names::done(class, id), names::failed(class, id)] {
            let file = name.rsplit('/').next().expect("file part");
            assert_eq!(names::parse_terminal_file(file).ok(), Some(id), "{name}");
        }
    }
    // pending names sort by due time
    let later = Utc
        .timestamp_millis_opt((millis + 1).min(min + span))
        .single()
        .expect("in range");
    if later > due {
        assert!(
            names::pending(Class::Heavy, due, id) < names::pending(Class::Heavy, later, id),
            "pending names must sort by due time: {due} vs {later}"
        );
    }
}

/// A version-7 UUID made of the given bits.
fn v7_id(a: u64, b: u64) -> TaskId {
    let text = format!(
        "{:08x}-{:04x}-7{:03x}-{:x}{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        8 + (b >> 62),
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    );
    text.parse()
        .unwrap_or_else(|e| panic!("not a v7 id: {text} ({e})"))
}
