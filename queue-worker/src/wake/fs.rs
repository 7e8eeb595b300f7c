//! Filesystem events for a local-directory store (the `notify` crate: inotify on Linux, FSEvents
//! on macOS). The store's root is watched recursively, so a `{class}/pending/` directory created
//! after the worker started is covered; when it appears, the worker also lists once, for files
//! written before the new directory's watch was in place.
//!
//! A pending file is written as a temporary file and renamed; either event names a path, and
//! only paths that parse as `{class}/pending/{due}_{id}.json` become notices. Duplicates are
//! harmless: a claim of a name already taken finds nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{Event, EventKind, RecursiveMode, Watcher};
use queue_core::Class;
use tokio_util::sync::CancellationToken;

use super::{Notice, Wake, WakeTx, pending_prefix};

/// What one filesystem event means for the worker serving `class` (pure).
pub fn decide(root: &Path, class: Class, event: &Event) -> Vec<Wake> {
    if event.need_rescan() {
        // The kernel dropped events (queue overflow): look at what is there.
        return vec![Wake::Look];
    }
    if matches!(event.kind, EventKind::Access(_) | EventKind::Remove(_)) {
        return Vec::new();
    }
    let prefix = pending_prefix(class);
    let pending_dir = prefix.trim_end_matches('/');
    let mut wakes = Vec::new();
    for path in &event.paths {
        let Some(name) = relative_name(root, path) else {
            continue;
        };
        if let Some(file) = name.strip_prefix(&prefix) {
            if queue_core::names::parse_pending_file(file).is_ok() {
                wakes.push(Wake::Notice(Notice { name, ack: None }));
            }
        } else if matches!(event.kind, EventKind::Create(_))
            && (pending_dir == name || pending_dir.starts_with(&format!("{name}/")))
        {
            // The pending directory (or its class directory) was just created.
            wakes.push(Wake::Look);
        }
    }
    wakes
}

/// `path` under `root`, as an object name with `/` separators.
fn relative_name(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let name = parts?.join("/");
    (!name.is_empty()).then_some(name)
}

/// Watch `root` until `stop`, sending wake-ups for `class`. If the watch cannot be set up, say
/// `Down` (the worker polls) and try again with backoff.
pub fn spawn(root: PathBuf, class: Class, tx: WakeTx, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut wait = Duration::from_secs(1);
        loop {
            let (failed_tx, mut failed) = tokio::sync::mpsc::unbounded_channel::<String>();
            match watch(&root, class, tx.clone(), failed_tx) {
                Ok(watcher) => {
                    tracing::info!(dir = %root.display(), %class, "filesystem events on: idle workers stop polling");
                    let _ = tx.send(Wake::Up);
                    wait = Duration::from_secs(1);
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        Some(error) = failed.recv() => {
                            tracing::warn!(dir = %root.display(), error, "filesystem events failed; polling until they are back");
                        }
                    }
                    drop(watcher);
                }
                Err(e) => {
                    tracing::warn!(dir = %root.display(), error = %e, retry_in = ?wait, "cannot watch the store directory; polling until it works");
                }
            }
            let _ = tx.send(Wake::Down);
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(Duration::from_secs(300));
        }
    });
}

fn watch(
    root: &Path,
    class: Class,
    tx: WakeTx,
    failed: tokio::sync::mpsc::UnboundedSender<String>,
) -> notify::Result<notify::RecommendedWatcher> {
    let root = root.canonicalize().map_err(notify::Error::io)?;
    let base = root.clone();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<Event>| match event {
            Ok(event) => {
                for wake in decide(&base, class, &event) {
                    let _ = tx.send(wake);
                }
            }
            Err(e) => {
                let _ = failed.send(e.to_string());
            }
        })?;
    watcher.watch(&root, RecursiveMode::Recursive)?;
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, ModifyKind, RenameMode};

    fn event(kind: EventKind, paths: &[&str]) -> Event {
        Event {
            kind,
            paths: paths.iter().map(PathBuf::from).collect(),
            attrs: Default::default(),
        }
    }

    fn names(wakes: &[Wake]) -> Vec<String> {
        wakes
            .iter()
            .map(|w| match w {
                Wake::Notice(n) => n.name.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_renamed_pending_file_is_a_notice_and_other_files_are_not() {
        let root = Path::new("/q");
        let file =
            "/q/heavy/pending/20260101T000000.000Z_0190a0b0-0000-7000-8000-000000000001.json";
        let renamed = event(
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            &["/q/heavy/pending/#tmp", file],
        );
        assert_eq!(
            names(&decide(root, Class::Heavy, &renamed)),
            [&file[3..]],
            "only the final name counts"
        );
        assert!(
            decide(root, Class::Light, &renamed).is_empty(),
            "other class"
        );
        let running = event(
            EventKind::Create(CreateKind::File),
            &["/q/heavy/running/x/1.json"],
        );
        assert!(decide(root, Class::Heavy, &running).is_empty());
        let removed = event(EventKind::Remove(notify::event::RemoveKind::File), &[file]);
        assert!(decide(root, Class::Heavy, &removed).is_empty());
    }

    #[test]
    fn a_new_pending_directory_asks_for_one_listing() {
        let root = Path::new("/q");
        for dir in ["/q/heavy", "/q/heavy/pending"] {
            let created = event(EventKind::Create(CreateKind::Folder), &[dir]);
            assert_eq!(
                names(&decide(root, Class::Heavy, &created)),
                ["Look"],
                "{dir}"
            );
        }
        let other = event(EventKind::Create(CreateKind::Folder), &["/q/heavyweight"]);
        assert!(decide(root, Class::Heavy, &other).is_empty());
    }

    #[test]
    fn dropped_events_ask_for_one_listing() {
        let overflow = event(EventKind::Other, &[]).set_flag(notify::event::Flag::Rescan);
        assert_eq!(
            names(&decide(Path::new("/q"), Class::Heavy, &overflow)),
            ["Look"]
        );
    }
}
