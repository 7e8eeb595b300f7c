//! Bad flags, bad values and bad stores: exit codes and messages that say what is accepted.

use crate::support::{Store, queuectl_raw};

const UNKNOWN_ID: &str = "0193c1e2-7a4b-7c3d-8e9f-0a1b2c3d4e5f";

#[test]
fn a_bad_class_lists_the_valid_ones() {
    let store = Store::empty();
    let out = store
        .run(&["enqueue", "--class", "medium", "--kind", "k"])
        .expect(2);
    assert!(out.stderr.contains("heavy"), "{}", out.stderr);
    assert!(out.stderr.contains("light"), "{}", out.stderr);
    store.run(&["ls", "--class", "medium"]).expect(2);
    store
        .run(&["replay", "--all-failed", "--class", "medium"])
        .expect(2);
}

#[test]
fn a_bad_state_lists_the_valid_ones() {
    let out = Store::empty().run(&["ls", "--state", "sleeping"]).expect(2);
    for s in ["pending", "running", "done", "failed"] {
        assert!(out.stderr.contains(s), "{}", out.stderr);
    }
}

#[test]
fn a_bad_duration_shows_examples() {
    let store = Store::empty();
    for args in [
        vec!["ls", "--older-than", "ten minutes"],
        vec!["purge", "--older-than", "3 parsecs"],
        vec![
            "enqueue", "--class", "light", "--kind", "k", "--delay", "soon",
        ],
    ] {
        let out = store.run(&args).expect(2);
        assert!(
            out.stderr.contains("30s, 10m, 2h"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn a_malformed_id_is_a_usage_error() {
    let store = Store::empty();
    for cmd in ["show", "cancel", "replay"] {
        let out = store.run(&[cmd, "not-a-uuid"]).expect(2);
        assert!(
            out.stderr.contains("not a task id"),
            "{cmd}: {}",
            out.stderr
        );
    }
    // a UUID of another version is not one of ours either
    store
        .run(&["show", "6ba7b810-9dad-41d1-80b4-00c04fd430c8"])
        .expect(2);
}

#[test]
fn an_unknown_id_is_not_found() {
    let store = Store::empty();
    for cmd in ["show", "cancel", "replay"] {
        store.run(&[cmd, UNKNOWN_ID]).expect(3);
    }
}

#[test]
fn bad_kinds_and_payloads_are_usage_errors() {
    let store = Store::empty();
    let out = store
        .run(&["enqueue", "--class", "light", "--kind", "../etc"])
        .expect(2);
    assert!(out.stderr.contains("bad kind"), "{}", out.stderr);
    let out = store
        .run(&[
            "enqueue",
            "--class",
            "light",
            "--kind",
            "k",
            "--payload",
            "{oops",
        ])
        .expect(2);
    assert!(out.stderr.contains("not JSON"), "{}", out.stderr);
    let out = store
        .run(&[
            "enqueue",
            "--class",
            "light",
            "--kind",
            "k",
            "--payload",
            "@/nonexistent/p.json",
        ])
        .expect(2);
    assert!(
        out.stderr.contains("cannot read the payload file"),
        "{}",
        out.stderr
    );
    store
        .run(&[
            "enqueue",
            "--class",
            "light",
            "--kind",
            "k",
            "--max-attempts",
            "0",
        ])
        .expect(2);
    // nothing was written by any of them
    assert!(store.names("light/").is_empty());
}

#[test]
fn missing_and_conflicting_flags_are_usage_errors() {
    let store = Store::empty();
    store.run(&["enqueue", "--kind", "k"]).expect(2);
    store.run(&["replay"]).expect(2);
    store.run(&["replay", UNKNOWN_ID, "--all-failed"]).expect(2);
    store
        .run(&["replay", UNKNOWN_ID, "--class", "heavy"])
        .expect(2);
    store.run(&["purge"]).expect(2);
    store.run(&["show"]).expect(2);
    store.run(&["frobnicate"]).expect(2);
    store.run(&["ls", "--limit", "-1"]).expect(2);
}

#[test]
fn help_documents_the_exit_codes() {
    let out = queuectl_raw(&["--help"], None).expect(0);
    assert!(out.stdout.contains("Exit codes:"), "{}", out.stdout);
    assert!(out.stdout.contains("5  store unreachable"));
}

#[test]
fn a_missing_store_directory_is_not_an_empty_queue() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo");
    for args in [
        vec!["stats"],
        vec!["ls"],
        vec!["workers"],
        vec!["show", UNKNOWN_ID],
    ] {
        let mut full = vec!["--store", missing.to_str().unwrap()];
        full.extend(args.iter().copied());
        let out = queuectl_raw(&full, None).expect(5);
        assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
        assert!(out.stderr.contains("hint:"), "{}", out.stderr);
    }
    assert!(!missing.exists(), "a read-only command created the store");
}

#[test]
fn the_store_comes_from_queue_store_too() {
    let store = Store::empty();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_queuectl"))
        .args(["stats", "--json"])
        .env("QUEUE_STORE", store.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_queuectl"))
        .args(["stats"])
        .env("QUEUE_STORE", store.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
}

#[test]
fn bad_store_urls_and_credentials() {
    let out = queuectl_raw(&["--store", "ftp://host/x", "stats"], None).expect(2);
    assert!(out.stderr.contains("gs://bucket"), "{}", out.stderr);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_queuectl"))
        .args(["--store", "gs://some-bucket", "stats"])
        .env("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")
        .env_remove("STORAGE_EMULATOR_HOST")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn json_errors_are_json_on_stderr() {
    let out = Store::empty()
        .run(&["show", UNKNOWN_ID, "--json"])
        .expect(3);
    let err: serde_json::Value = serde_json::from_str(out.stderr.trim()).unwrap();
    assert_eq!(err["error"]["code"], 3);
    assert_eq!(err["error"]["kind"], "not_found");
    assert!(out.stdout.is_empty());
}
