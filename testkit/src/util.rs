//! Small helpers the servers share: where the workspace is, which port is free, unique names.

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The workspace root (the folder holding the root `Cargo.toml` and `.test-tools/`).
///
/// Found from this crate's manifest folder at build time, so it is right whichever crate's test
/// calls it.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|toml| toml.contains("[workspace]"))
        })
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// Another process may take it before the caller binds it; prefer binding port 0 yourself
/// where the server allows it (both servers in this crate do).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("testkit: cannot bind 127.0.0.1:0 to find a free port")
}

/// A name no other call in any process is likely to return: `{prefix}-{pid}-{n}-{time}`, in
/// lowercase letters, digits and `-`, so it is a valid S3 and GCS bucket name for a short prefix.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() % 1_000_000_000)
        .unwrap_or(0);
    format!("{prefix}-{}-{n}-{micros}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_workspace_root() {
        let root = workspace_root();
        assert!(root.join("testkit").join("Cargo.toml").exists(), "{root:?}");
    }

    #[test]
    fn unique_names_differ_and_are_bucket_safe() {
        let (a, b) = (unique_name("t"), unique_name("t"));
        assert_ne!(a, b);
        assert!(a.len() <= 63);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        );
    }
}
