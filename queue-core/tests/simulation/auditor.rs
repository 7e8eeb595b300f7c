//! The auditor: the invariants of docs/invariants.md, checked against what callers were told
//! (the history) and what the bucket holds once the queue is at rest. Each check returns readable
//! violations; none is relaxed because faults were injected — errors may be returned under
//! faults, but an Ok that lies is a bug.

use std::collections::{BTreeMap, BTreeSet};

use queue_core::queue::record::{LeaseRecord, RecordState};
use queue_core::task::{Class, Envelope, TaskState};
use queue_core::{Bucket, TaskId, names};

use super::history::{CommitKind, Finished, History};

/// The bucket, read with faults off.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Pending copies per task.
    pub pending: BTreeMap<TaskId, Vec<Envelope>>,
    /// Lease-chain records per task (epoch, record).
    pub chains: BTreeMap<TaskId, Vec<(u64, Option<LeaseRecord>)>>,
    pub done: BTreeMap<TaskId, Envelope>,
    pub failed: BTreeMap<TaskId, Envelope>,
    pub invalid: Vec<String>,
    pub unreadable: Vec<String>,
}

impl Snapshot {
    pub async fn read(bucket: &Bucket) -> Snapshot {
        let mut s = Snapshot::default();
        for class in Class::ALL {
            for state in TaskState::ALL {
                let prefix = names::state_prefix(class, state);
                for info in bucket.list(&prefix).await.unwrap() {
                    let rest = &info.name[prefix.len()..];
                    let Some(obj) = bucket.get(&info.name).await.unwrap() else {
                        continue;
                    };
                    match state {
                        TaskState::Running => match names::parse_running_rest(rest) {
                            Ok((id, epoch)) => s
                                .chains
                                .entry(id)
                                .or_default()
                                .push((epoch, LeaseRecord::from_json(&obj.bytes).ok())),
                            Err(_) => s.unreadable.push(info.name.clone()),
                        },
                        _ => match Envelope::from_json(&obj.bytes) {
                            Ok(env) => match state {
                                TaskState::Pending => {
                                    s.pending.entry(env.id).or_default().push(env)
                                }
                                TaskState::Done => {
                                    s.done.insert(env.id, env);
                                }
                                _ => {
                                    s.failed.insert(env.id, env);
                                }
                            },
                            Err(_) => s.unreadable.push(info.name.clone()),
                        },
                    }
                }
            }
        }
        s.invalid = bucket
            .list(names::INVALID_PREFIX)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.name)
            .collect();
        s
    }

    fn envelopes(&self) -> impl Iterator<Item = &Envelope> {
        self.pending
            .values()
            .flatten()
            .chain(self.done.values())
            .chain(self.failed.values())
            .chain(
                self.chains
                    .values()
                    .flatten()
                    .filter_map(|(_, r)| r.as_ref().map(|r| &r.envelope)),
            )
    }
}

/// The violations found, and how many overlaps of a cancelled holder with a later one were
/// seen (allowed by design, reported).
pub fn audit(h: &History, s: &Snapshot) -> (Vec<String>, u64) {
    let mut v = Vec::new();
    nothing_lost(h, s, &mut v);
    one_place_each(s, &mut v);
    one_result_per_task(h, s, &mut v);
    finished_tasks_stay_finished(h, &mut v);
    let revoked = one_live_holder(h, &mut v);
    idempotency(h, s, &mut v);
    operator_calls_tell_the_truth(h, &mut v);
    for e in &h.internal {
        v.push(format!("internal error returned to a caller: {e}"));
    }
    for name in &s.invalid {
        v.push(format!("an object was quarantined: {name}"));
    }
    for name in &s.unreadable {
        v.push(format!("an object could not be parsed: {name}"));
    }
    (v, revoked)
}

/// Invariant 1: every accepted task is somewhere, and (the queue being at rest) finished.
fn nothing_lost(h: &History, s: &Snapshot, v: &mut Vec<String>) {
    let accepted: BTreeSet<TaskId> = h.accepted.iter().map(|a| a.id).collect();
    for id in accepted {
        let finished = s.done.contains_key(&id) || s.failed.contains_key(&id);
        let waiting = s.pending.contains_key(&id) || s.chains.contains_key(&id);
        if !finished && !waiting {
            v.push(format!(
                "lost: task {id} was accepted (enqueue returned Ok) but is in no prefix"
            ));
        }
    }
}

/// Every task is in one place: not done and failed, not finished and pending, one pending copy.
fn one_place_each(s: &Snapshot, v: &mut Vec<String>) {
    for id in s.done.keys() {
        if s.failed.contains_key(id) {
            v.push(format!("task {id} is both done and failed"));
        }
    }
    for (id, copies) in &s.pending {
        if copies.len() > 1 {
            v.push(format!("task {id} has {} pending copies", copies.len()));
        }
        if s.done.contains_key(id) || s.failed.contains_key(id) {
            v.push(format!("task {id} is finished and pending at once"));
        }
    }
}

/// Invariant 2: at most one result committed per task, and the one a worker was told it
/// committed is the one stored.
fn one_result_per_task(h: &History, s: &Snapshot, v: &mut Vec<String>) {
    let mut ok_done: BTreeMap<TaskId, Vec<&serde_json::Value>> = BTreeMap::new();
    let mut ok_by: BTreeMap<TaskId, Vec<String>> = BTreeMap::new();
    let mut tried: BTreeMap<TaskId, Vec<&serde_json::Value>> = BTreeMap::new();
    for c in &h.commits {
        if c.kind != CommitKind::Done {
            continue;
        }
        let value = c.value.as_ref().expect("done commits carry a value");
        tried.entry(c.task).or_default().push(value);
        if c.result == Some(Ok(TaskState::Done)) {
            ok_done.entry(c.task).or_default().push(value);
            ok_by
                .entry(c.task)
                .or_default()
                .push(format!("{} epoch {} at {}", c.worker, c.epoch, c.at));
        }
    }
    for (id, values) in &ok_done {
        if values.len() > 1 {
            v.push(format!(
                "two results: {} commits of task {id} returned Ok(done): {values:?} ({:?})",
                values.len(),
                ok_by[id]
            ));
        }
        match s.done.get(id) {
            None => v.push(format!(
                "task {id}: complete(Done) returned Ok but the task is not in done/"
            )),
            Some(env) if env.result.as_ref() != Some(values[0]) => v.push(format!(
                "task {id}: done/ holds result {:?}, but the commit that returned Ok wrote {:?}",
                env.result, values[0]
            )),
            Some(_) => {}
        }
    }
    for (id, env) in &s.done {
        let Some(result) = &env.result else {
            v.push(format!("task {id} is done without a result"));
            continue;
        };
        if !tried.get(id).is_some_and(|t| t.contains(&result)) {
            v.push(format!(
                "task {id}: done/ holds result {result} that no worker tried to commit"
            ));
        }
    }
    // What landed in done/ and failed/: one finish per task, identical rewrites (roll-forward)
    // aside. A replay is a new task, so there is no exception for it.
    let mut writes: BTreeMap<TaskId, Vec<&Finished>> = BTreeMap::new();
    for f in &h.finished {
        let seen = writes.entry(f.task).or_default();
        if !seen
            .iter()
            .any(|w| w.state == f.state && w.bytes == f.bytes)
        {
            seen.push(f);
        }
    }
    for (id, finishes) in writes {
        if finishes.len() > 1 {
            let summary: Vec<(TaskState, u64, Option<&serde_json::Value>)> = finishes
                .iter()
                .map(|f| (f.state, f.epoch, f.result.as_ref()))
                .collect();
            v.push(format!(
                "task {id} finished {} times (done/ or failed/ written with different envelopes): {summary:?}",
                finishes.len()
            ));
        }
    }
}

/// A task claimed after it finished runs twice. Nothing may claim a task id once it reached
/// done/ or failed/ (a replay is a new task).
fn finished_tasks_stay_finished(h: &History, v: &mut Vec<String>) {
    for hold in &h.holds {
        // when this holder's lease record landed
        let Some(created) = h
            .landed
            .iter()
            .filter(|l| {
                l.task == hold.task
                    && l.epoch == hold.epoch
                    && l.state == RecordState::Leased
                    && l.by == hold.worker
                    && l.at <= hold.start
            })
            .map(|l| l.at)
            .max()
        else {
            v.push(format!(
                "claim of task {} epoch {} by {} returned Ok but its lease record never landed",
                hold.task, hold.epoch, hold.worker
            ));
            continue;
        };
        for f in &h.finished {
            if f.task != hold.task || f.at >= created {
                continue;
            }
            {
                v.push(format!(
                    "task {} was claimed again (epoch {} by {} at {created}) after it was written {} at epoch {} ({})",
                    hold.task, hold.epoch, hold.worker, f.state, f.epoch, f.at
                ));
            }
        }
    }
}

/// Invariant 4: never two live lease holders of one task at the same (true) instant. A holder
/// is live from its claim's return until its deadline (moved by renewals, converted from its
/// skewed clock) or until it stopped. A holder whose epoch an operator cancelled is revoked
/// at once by design and learns at its next heartbeat; an overlap with it is a reported
/// consequence of cancel + replay, not a timing failure, and is tallied apart.
fn one_live_holder(h: &History, v: &mut Vec<String>) -> u64 {
    let mut revoked = 0;
    let mut by_task: BTreeMap<TaskId, Vec<usize>> = BTreeMap::new();
    for (i, hold) in h.holds.iter().enumerate() {
        by_task.entry(hold.task).or_default().push(i);
    }
    for (id, holds) in by_task {
        for (n, &i) in holds.iter().enumerate() {
            for &j in &holds[n + 1..] {
                let (a, b) = (&h.holds[i], &h.holds[j]);
                if a.epoch == b.epoch {
                    v.push(format!(
                        "task {id}: two claims of epoch {} returned Ok ({} and {})",
                        a.epoch, a.worker, b.worker
                    ));
                    continue;
                }
                if !(a.start < b.end() && b.start < a.end()) {
                    continue;
                }
                let (first, second) = if a.epoch < b.epoch { (a, b) } else { (b, a) };
                let cancelled = h.landed.iter().any(|l| {
                    l.task == id
                        && l.epoch == first.epoch + 1
                        && l.state == RecordState::Closed
                        && l.by.starts_with("op")
                });
                if cancelled {
                    revoked += 1;
                } else {
                    v.push(format!(
                        "two live holders of task {id}: {} (epoch {}, {}..{}) and {} (epoch {}, {}..{})",
                        first.worker,
                        first.epoch,
                        first.start,
                        first.end(),
                        second.worker,
                        second.epoch,
                        second.start,
                        second.end()
                    ));
                }
            }
        }
    }
    revoked
}

/// Invariant 3: one task per idempotency key, forever.
fn idempotency(h: &History, s: &Snapshot, v: &mut Vec<String>) {
    let mut by_key: BTreeMap<(Class, &str), Vec<(TaskId, bool)>> = BTreeMap::new();
    for a in &h.accepted {
        if let Some(k) = &a.key {
            by_key
                .entry((a.class, k.as_str()))
                .or_default()
                .push((a.id, a.created));
        }
    }
    for ((class, key), answers) in &by_key {
        let ids: BTreeSet<TaskId> = answers.iter().map(|a| a.0).collect();
        if ids.len() > 1 {
            v.push(format!(
                "idempotency: key {class}/{key} was answered with {} different tasks: {ids:?}",
                ids.len()
            ));
        }
        let created = answers.iter().filter(|a| a.1).count();
        if created > 1 {
            v.push(format!(
                "idempotency: key {class}/{key} reported created=true {created} times"
            ));
        }
    }
    let mut stored: BTreeMap<(Class, String), BTreeSet<TaskId>> = BTreeMap::new();
    for env in s.envelopes() {
        if let Some(k) = &env.idempotency_key {
            stored
                .entry((env.class, k.clone()))
                .or_default()
                .insert(env.id);
        }
    }
    for ((class, key), ids) in stored {
        if ids.len() > 1 {
            v.push(format!(
                "idempotency: key {class}/{key} has {} tasks in the bucket: {ids:?}",
                ids.len()
            ));
        }
    }
}

/// A cancel that returned Ok must have landed its closing record.
fn operator_calls_tell_the_truth(h: &History, v: &mut Vec<String>) {
    for c in h.cancels.iter().filter(|c| c.result == Some(Ok(()))) {
        let landed = h.landed.iter().any(|l| {
            l.task == c.task
                && l.by == c.by
                && l.state == RecordState::Closed
                && l.next == Some(TaskState::Failed)
        });
        if !landed {
            v.push(format!(
                "cancel of task {} by {} (at {}) returned Ok but no cancel record landed",
                c.task, c.by, c.at
            ));
        }
    }
}
