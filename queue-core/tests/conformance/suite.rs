//! The properties every backend must keep (docs/invariants.md). One function per property;
//! `conformance.rs` runs each on every backend.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use queue_core::inspect;
use queue_core::queue::{CancelOutcome, ReplayFilter};
use queue_core::task::{AttemptOutcome, Class, Outcome, TaskState};
use queue_core::{Bucket, EnqueueRequest, ErrorKind};
use serde_json::json;

use super::harness::World;

pub async fn exclusive_claim_under_many_claimers(bucket: Bucket) {
    let w = Arc::new(World::new(bucket));
    let q = w.queue();
    let id = w.enqueue(&q, "echo").await;
    let mut handles = Vec::new();
    for i in 0..16 {
        let w = w.clone();
        handles.push(tokio::spawn(async move {
            let q = w.queue();
            q.claim(Class::Light, &format!("w{i}")).await.unwrap()
        }));
    }
    let mut winners = Vec::new();
    for h in handles {
        if let Some(t) = h.await.unwrap() {
            winners.push(t);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claimer wins");
    assert_eq!(winners[0].envelope.id, id);
    assert_eq!(winners[0].envelope.attempt, 1);
    assert!(
        w.names("light/pending/").await.is_empty(),
        "the pending object is gone"
    );
}

pub async fn renewal_keeps_the_lease(bucket: Bucket) {
    let w = World::new(bucket);
    let (a, b) = (w.queue(), w.queue());
    let id = w.enqueue(&a, "echo").await;
    let mut task = a.claim(Class::Light, "a").await.unwrap().unwrap();
    for _ in 0..5 {
        w.advance(45); // 3/4 of the TTL, five times: far past one TTL in total
        a.renew(&mut task.lease, &task.envelope).await.unwrap();
        let report = b.reclaim(Class::Light, "b").await.unwrap();
        assert!(
            report.expired.is_empty(),
            "a renewed lease is not taken over"
        );
    }
    assert!(b.claim(Class::Light, "b").await.unwrap().is_none());
    let done = a
        .complete(&task.lease, &task.envelope, Outcome::Done(json!("ok")))
        .await
        .unwrap();
    assert_eq!(done.state, TaskState::Done);
    assert_eq!(
        inspect::find_task(&w.bucket, id)
            .await
            .unwrap()
            .location
            .state(),
        TaskState::Done
    );
}

pub async fn expiry_lets_another_worker_take_over(bucket: Bucket) {
    let w = World::new(bucket);
    let (a, b) = (w.queue(), w.queue());
    let id = w.enqueue(&a, "echo").await;
    let _task = a.claim(Class::Light, "a").await.unwrap().unwrap();
    // within TTL + skew: nobody takes over
    w.advance(65);
    assert!(
        b.reclaim(Class::Light, "b")
            .await
            .unwrap()
            .expired
            .is_empty()
    );
    w.advance(10);
    let report = b.reclaim(Class::Light, "b").await.unwrap();
    assert_eq!(report.expired, vec![id]);
    w.advance(600); // past the retry backoff
    let taken = b
        .claim(Class::Light, "b")
        .await
        .unwrap()
        .expect("b can claim the expired task");
    assert_eq!(taken.envelope.attempt, 2, "the expired attempt counts");
    assert_eq!(
        taken.envelope.attempts[0].outcome,
        Some(AttemptOutcome::Expired)
    );
    assert!(
        taken.envelope.attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("lease expired")
    );
}

pub async fn a_stale_worker_is_fenced(bucket: Bucket) {
    let w = World::new(bucket);
    let (a, b) = (w.queue(), w.queue());
    let id = w.enqueue(&a, "echo").await;
    let mut stale = a.claim(Class::Light, "a").await.unwrap().unwrap();
    w.advance(120);
    b.reclaim(Class::Light, "b").await.unwrap();
    w.advance(600);
    let fresh = b.claim(Class::Light, "b").await.unwrap().unwrap();
    // the stale worker wakes up: it can neither renew nor commit nor move the task
    let mut lease = stale.lease.clone();
    lease.deadline = w.clock_now() + chrono::Duration::seconds(60); // even with a lying clock
    assert_eq!(
        a.renew(&mut lease, &stale.envelope)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::LeaseLost
    );
    let err = a
        .complete(&lease, &stale.envelope, Outcome::Done(json!("stale")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LeaseLost);
    assert_eq!(
        a.release(&lease, &stale.envelope).await.unwrap_err().kind(),
        ErrorKind::LeaseLost
    );
    // and its own clock tells it so too
    stale.lease.deadline = w.clock_now() - chrono::Duration::seconds(1);
    assert_eq!(
        a.renew(&mut stale.lease, &stale.envelope)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::LeaseLost
    );
    b.complete(&fresh.lease, &fresh.envelope, Outcome::Done(json!("fresh")))
        .await
        .unwrap();
    let found = inspect::find_task(&w.bucket, id).await.unwrap();
    assert_eq!(found.location.state(), TaskState::Done);
    assert_eq!(
        found.envelope.result,
        Some(json!("fresh")),
        "only the live lease's result is committed"
    );
    assert_chain_collected(&w, &b, "light/running/").await;
}

pub async fn retry_with_backoff(bucket: Bucket) {
    let w = World::new(bucket);
    let q = w.queue();
    let id = w.enqueue(&q, "flaky").await;
    let t = q.claim(Class::Light, "a").await.unwrap().unwrap();
    let c = q
        .complete(
            &t.lease,
            &t.envelope,
            Outcome::Retry {
                error: "boom".into(),
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(c.state, TaskState::Pending);
    let due = c.due_at.unwrap();
    let delay = (due - w.clock_now()).num_seconds();
    assert!(
        (5..=10).contains(&delay),
        "first backoff is base/2..base, got {delay}s"
    );
    assert!(
        q.claim(Class::Light, "a").await.unwrap().is_none(),
        "not claimable before due"
    );
    w.advance(delay + 1);
    let t2 = q
        .claim(Class::Light, "a")
        .await
        .unwrap()
        .expect("claimable once due");
    assert_eq!(t2.envelope.id, id);
    assert_eq!(t2.envelope.attempt, 2);
    assert_eq!(t2.envelope.attempts[0].error.as_deref(), Some("boom"));
    let c2 = q
        .complete(
            &t2.lease,
            &t2.envelope,
            Outcome::Retry {
                error: "boom".into(),
                after: None,
            },
        )
        .await
        .unwrap();
    let delay2 = (c2.due_at.unwrap() - w.clock_now()).num_seconds();
    assert!(
        (10..=20).contains(&delay2),
        "second backoff doubles, got {delay2}s"
    );
    // a handler-requested delay is honoured when longer than the backoff
    w.advance(delay2 + 1);
    let t3 = q.claim(Class::Light, "a").await.unwrap().unwrap();
    let snooze = q
        .complete(
            &t3.lease,
            &t3.envelope,
            Outcome::Snooze {
                after: Duration::from_secs(3600),
            },
        )
        .await
        .unwrap();
    assert_eq!((snooze.due_at.unwrap() - w.clock_now()).num_seconds(), 3600);
    assert_eq!(
        snooze.envelope.attempt, 2,
        "a snooze does not count as an attempt"
    );
}

pub async fn dead_letter_after_max_attempts(bucket: Bucket) {
    let w = World::new(bucket);
    let q = w.queue();
    let id = q
        .enqueue(EnqueueRequest::new(Class::Heavy, "bad", json!({})).max_attempts(2))
        .await
        .unwrap()
        .id;
    for n in 1..=2 {
        w.advance(3600);
        let t = q.claim(Class::Heavy, "a").await.unwrap().unwrap();
        q.complete(
            &t.lease,
            &t.envelope,
            Outcome::Retry {
                error: format!("err {n}"),
                after: None,
            },
        )
        .await
        .unwrap();
    }
    w.advance(3600);
    assert!(q.claim(Class::Heavy, "a").await.unwrap().is_none());
    let found = inspect::find_task(&w.bucket, id).await.unwrap();
    assert_eq!(found.location.state(), TaskState::Failed);
    let env = found.envelope;
    assert!(
        env.failure
            .as_deref()
            .unwrap()
            .contains("dead-lettered after 2 attempts"),
        "{:?}",
        env.failure
    );
    let errors: Vec<_> = env
        .attempts
        .iter()
        .map(|a| a.error.clone().unwrap())
        .collect();
    assert_eq!(
        errors,
        vec!["err 1", "err 2"],
        "every attempt's error is kept"
    );
    // fail-now skips the remaining attempts
    let id2 = w.enqueue(&q, "fatal").await;
    let t = q.claim(Class::Light, "a").await.unwrap().unwrap();
    q.complete(
        &t.lease,
        &t.envelope,
        Outcome::Fail {
            error: "unknown kind".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        inspect::find_task(&w.bucket, id2)
            .await
            .unwrap()
            .location
            .state(),
        TaskState::Failed
    );
}

pub async fn replay_from_failed(bucket: Bucket) {
    let w = World::new(bucket);
    let q = w.queue();
    let mut ids = Vec::new();
    for kind in ["a", "a", "b"] {
        let id = w.enqueue(&q, kind).await;
        let t = q.claim(Class::Light, "w").await.unwrap().unwrap();
        assert_eq!(t.envelope.id, id);
        q.complete(
            &t.lease,
            &t.envelope,
            Outcome::Fail {
                error: "nope".into(),
            },
        )
        .await
        .unwrap();
        ids.push(id);
    }
    let only_a = ReplayFilter {
        class: Some(Class::Light),
        kind: Some("a".into()),
    };
    assert_eq!(q.failed_matching(&only_a).await.unwrap().len(), 2);
    let replayed = q.replay(ids[0]).await.unwrap();
    assert_eq!(replayed.attempt, 0);
    assert!(replayed.failure.is_none());
    assert_ne!(replayed.id, ids[0], "a replay is a new task");
    assert_eq!(replayed.replay_of, Some(ids[0]));
    // a second replay of the same failure (a retry, another operator) is refused: the failed
    // task records its replay, and the replay's pending create dedupes anyway
    let again = q.replay(ids[0]).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::InvalidInput);
    assert!(again.to_string().contains("replayed already"), "{again}");
    let still = q.failed_matching(&only_a).await.unwrap();
    assert_eq!(still.len(), 1, "a replayed task is not offered again");
    let t = q
        .claim(Class::Light, "w")
        .await
        .unwrap()
        .expect("replayed task is claimable");
    assert_eq!(t.envelope.id, replayed.id);
    assert!(
        q.claim(Class::Light, "w").await.unwrap().is_none(),
        "one task"
    );
    assert_eq!(
        t.envelope.attempts.len(),
        2,
        "history is kept across a replay"
    );
    q.complete(&t.lease, &t.envelope, Outcome::Done(json!(1)))
        .await
        .unwrap();
    let state = |id| {
        let bucket = w.bucket.clone();
        async move {
            inspect::find_task(&bucket, id)
                .await
                .unwrap()
                .location
                .state()
        }
    };
    assert_eq!(state(replayed.id).await, TaskState::Done);
    assert_eq!(
        state(ids[0]).await,
        TaskState::Failed,
        "the failed task stays"
    );
    // replaying something not failed is refused clearly
    let err = q.replay(replayed.id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("state=done"), "{err}");
}

pub async fn idempotent_enqueue(bucket: Bucket) {
    let w = Arc::new(World::new(bucket));
    let q = w.queue();
    let first = q
        .enqueue(EnqueueRequest::new(Class::Light, "echo", json!(1)).key("tg-update-1"))
        .await
        .unwrap();
    assert!(first.created);
    // concurrent duplicates
    let mut handles = Vec::new();
    for _ in 0..8 {
        let w = w.clone();
        handles.push(tokio::spawn(async move {
            w.queue()
                .enqueue(EnqueueRequest::new(Class::Light, "echo", json!(2)).key("tg-update-1"))
                .await
                .unwrap()
        }));
    }
    for h in handles {
        let again = h.await.unwrap();
        assert!(!again.created);
        assert_eq!(again.id, first.id);
    }
    assert_eq!(w.names("light/pending/").await.len(), 1);
    // forever: after the task ran and finished, the key still maps to it
    let t = q.claim(Class::Light, "w").await.unwrap().unwrap();
    q.complete(&t.lease, &t.envelope, Outcome::Done(json!("x")))
        .await
        .unwrap();
    w.advance(86400 * 30);
    let later = q
        .enqueue(EnqueueRequest::new(Class::Light, "echo", json!(3)).key("tg-update-1"))
        .await
        .unwrap();
    assert!(!later.created);
    assert_eq!(later.id, first.id);
    assert!(w.names("light/pending/").await.is_empty(), "no second task");
    // a concurrent race of fresh keys: 8 enqueuers, one task
    let mut handles = Vec::new();
    for _ in 0..8 {
        let w = w.clone();
        handles.push(tokio::spawn(async move {
            w.queue()
                .enqueue(
                    EnqueueRequest::new(Class::Light, "echo", json!(4))
                        .key("slot/2026-11-24 09:00"),
                )
                .await
                .unwrap()
        }));
    }
    let mut created = 0;
    for h in handles {
        created += usize::from(h.await.unwrap().created);
    }
    assert_eq!(created, 1);
    assert_eq!(w.names("light/pending/").await.len(), 1);
}

pub async fn cancel_pending_and_running(bucket: Bucket) {
    let w = World::new(bucket);
    let q = w.queue();
    let waiting = w.enqueue(&q, "echo").await;
    match q.cancel(waiting, "tester", "not needed").await.unwrap() {
        CancelOutcome::CancelledPending(env) => {
            assert!(env.failure.unwrap().contains("not needed"))
        }
        other => panic!("expected a pending cancel, got {other:?}"),
    }
    assert!(
        q.claim(Class::Light, "w").await.unwrap().is_none(),
        "a cancelled task never runs"
    );
    let running = w.enqueue(&q, "echo").await;
    let mut t = q.claim(Class::Light, "w").await.unwrap().unwrap();
    assert!(matches!(
        q.cancel(running, "tester", "stop").await.unwrap(),
        CancelOutcome::CancelledRunning(_)
    ));
    assert_eq!(
        q.renew(&mut t.lease, &t.envelope).await.unwrap_err().kind(),
        ErrorKind::LeaseLost
    );
    assert_eq!(
        q.complete(&t.lease, &t.envelope, Outcome::Done(json!(1)))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::LeaseLost
    );
    for id in [waiting, running] {
        let found = inspect::find_task(&w.bucket, id).await.unwrap();
        assert_eq!(found.location.state(), TaskState::Failed);
    }
    let err = q.cancel(running, "tester", "again").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let unknown = queue_core::TaskId::new_at(w.clock_now(), &mut rand::rng());
    let err = q.cancel(unknown, "tester", "x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains("searched heavy and light"),
        "{err}"
    );
}

pub async fn malformed_objects_are_quarantined(bucket: Bucket) {
    let w = World::new(bucket);
    let q = w.queue();
    let good = w.enqueue(&q, "echo").await;
    let junk_name = "light/pending/20000101T000000.000Z_0190a0a0-0000-7000-8000-000000000000.json";
    w.bucket
        .put(junk_name, b"{ this is not json".to_vec())
        .await
        .unwrap();
    w.bucket
        .put("light/pending/hello.txt", b"stray file".to_vec())
        .await
        .unwrap();
    let t = q
        .claim(Class::Light, "w")
        .await
        .unwrap()
        .expect("the good task is still claimed");
    assert_eq!(t.envelope.id, good);
    let invalid = w.names("invalid/").await;
    assert!(
        invalid.contains(&format!("invalid/{junk_name}")),
        "{invalid:?}"
    );
    assert!(invalid.contains(&format!("invalid/{junk_name}.reason.json")));
    assert!(invalid.contains(&"invalid/light/pending/hello.txt".to_string()));
    let reason = w
        .bucket
        .get(&format!("invalid/{junk_name}.reason.json"))
        .await
        .unwrap()
        .unwrap();
    let reason: serde_json::Value = serde_json::from_slice(&reason.bytes).unwrap();
    assert!(
        reason["reason"]
            .as_str()
            .unwrap()
            .contains("not a task envelope"),
        "{reason}"
    );
    let kept = w
        .bucket
        .get(&format!("invalid/{junk_name}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        &kept.bytes[..],
        b"{ this is not json",
        "the bad bytes are kept verbatim"
    );
    assert_eq!(w.names("light/pending/").await, Vec::<String>::new());
    let stats = inspect::stats(&w.bucket).await.unwrap();
    assert_eq!(stats.invalid, 2);
}

pub async fn race_of_workers_over_many_tasks(bucket: Bucket) {
    const TASKS: usize = 200;
    const WORKERS: usize = 8;
    let w = Arc::new(World::new(bucket));
    let q = w.queue();
    for i in 0..TASKS {
        q.enqueue(EnqueueRequest::new(Class::Heavy, "echo", json!(i)))
            .await
            .unwrap();
    }
    // Rounds: the workers race until nothing is due, then time moves past the retry backoff
    // (time only moves between rounds, so no lease runs out mid-race).
    let mut committed: BTreeMap<_, usize> = BTreeMap::new();
    for _round in 0..4 {
        let mut handles = Vec::new();
        for n in 0..WORKERS {
            let w = w.clone();
            handles.push(tokio::spawn(async move {
                let q = w.queue();
                let me = format!("w{n}");
                let mut done = Vec::new();
                loop {
                    let candidates = q.due_candidates(Class::Heavy).await.unwrap();
                    let Some(t) = q.claim_from(Class::Heavy, &me, &candidates).await.unwrap()
                    else {
                        break;
                    };
                    // one in five fails once, to mix retries into the race
                    let first_try = t.envelope.attempt == 1;
                    let outcome = if first_try && t.envelope.payload.as_u64().unwrap() % 5 == 0 {
                        Outcome::Retry {
                            error: "transient".into(),
                            after: None,
                        }
                    } else {
                        Outcome::Done(json!({ "by": me }))
                    };
                    let c = q.complete(&t.lease, &t.envelope, outcome).await.unwrap();
                    if c.state == TaskState::Done {
                        done.push(t.envelope.id);
                    }
                }
                done
            }));
        }
        for h in handles {
            for id in h.await.unwrap() {
                *committed.entry(id).or_default() += 1;
            }
        }
        w.advance(600);
    }
    assert_eq!(committed.len(), TASKS, "every task committed");
    assert!(
        committed.values().all(|&n| n == 1),
        "exactly one result per task"
    );
    let stats = inspect::stats(&w.bucket).await.unwrap();
    assert_eq!(
        (stats.heavy.pending, stats.heavy.running, stats.heavy.done),
        (0, 0, TASKS)
    );
    for t in inspect::list_tasks(&w.bucket, Class::Heavy, TaskState::Done)
        .await
        .unwrap()
    {
        let env = t.envelope.unwrap();
        let dones = env
            .attempts
            .iter()
            .filter(|a| a.outcome == Some(AttemptOutcome::Done))
            .count();
        assert_eq!(dones, 1, "task {} has one successful attempt", env.id);
    }
}

pub async fn a_crashed_commit_is_rolled_forward(bucket: Bucket) {
    use queue_core::queue::record::{LeaseRecord, RecordState};
    let w = World::new(bucket);
    let (a, b) = (w.queue(), w.queue());
    let id = w.enqueue(&a, "echo").await;
    let t = a.claim(Class::Light, "a").await.unwrap().unwrap();
    // Worker a writes its commit record, then dies before moving the task to done/.
    let mut env = t.envelope.clone();
    env.result = Some(json!("from a"));
    env.epoch = t.lease.epoch + 1;
    let record = LeaseRecord {
        schema: 1,
        epoch: t.lease.epoch + 1,
        state: RecordState::Closed,
        by: "a".into(),
        nonce: "n".into(),
        at: w.clock_now(),
        expires_at: None,
        next: Some(TaskState::Done),
        envelope: env,
        extra: Default::default(),
    };
    let name = format!("light/running/{id}/{:06}.json", t.lease.epoch + 1);
    w.bucket.create(&name, record.to_json()).await.unwrap();
    assert!(
        b.reclaim(Class::Light, "b")
            .await
            .unwrap()
            .rolled_forward
            .is_empty(),
        "not before the writer's TTL"
    );
    w.advance(75);
    assert_eq!(
        b.reclaim(Class::Light, "b").await.unwrap().rolled_forward,
        vec![id]
    );
    let found = inspect::find_task(&w.bucket, id).await.unwrap();
    assert_eq!(found.location.state(), TaskState::Done);
    assert_eq!(found.envelope.result, Some(json!("from a")));
    assert!(
        w.names("light/running/").await.is_empty(),
        "the chain is collected with the roll-forward"
    );
}

pub async fn a_stale_pending_copy_never_runs_twice(bucket: Bucket) {
    let w = World::new(bucket);
    let q = w.queue();
    let id = w.enqueue(&q, "echo").await;
    let pending = w.names("light/pending/").await.remove(0);
    let bytes = w
        .bucket
        .get(&pending)
        .await
        .unwrap()
        .unwrap()
        .bytes
        .to_vec();
    let t = q.claim(Class::Light, "a").await.unwrap().unwrap();
    // the claimer "crashed" before removing the pending object: put the copy back
    w.bucket.put(&pending, bytes.clone()).await.unwrap();
    assert!(
        q.claim(Class::Light, "b").await.unwrap().is_none(),
        "the copy is not claimable while leased"
    );
    assert!(
        w.names("light/pending/").await.is_empty(),
        "the stale copy was removed"
    );
    q.complete(&t.lease, &t.envelope, Outcome::Done(json!(1)))
        .await
        .unwrap();
    // and after the task finished, a late copy (e.g. an enqueue retry whose first reply was lost)
    w.bucket.put(&pending, bytes).await.unwrap();
    assert!(
        q.claim(Class::Light, "b").await.unwrap().is_none(),
        "a finished task never runs again"
    );
    assert_eq!(
        inspect::find_task(&w.bucket, id)
            .await
            .unwrap()
            .location
            .state(),
        TaskState::Done
    );
}

pub async fn release_gives_the_task_back_at_once(bucket: Bucket) {
    let w = World::new(bucket);
    let q = w.queue();
    w.enqueue(&q, "echo").await;
    let t = q.claim(Class::Light, "a").await.unwrap().unwrap();
    let c = q.release(&t.lease, &t.envelope).await.unwrap();
    assert_eq!(c.state, TaskState::Pending);
    let again = q
        .claim(Class::Light, "b")
        .await
        .unwrap()
        .expect("released task is due at once");
    assert_eq!(
        again.envelope.attempt, 1,
        "a release does not count as an attempt"
    );
    assert_eq!(
        again.envelope.attempts[0].outcome,
        Some(AttemptOutcome::Released)
    );
}

pub async fn claiming_stays_cheap_with_a_deep_queue(bucket: Bucket) {
    let w = World::new(bucket);
    let q = w.queue();
    // 2,000 tasks due later and one due now; the due head is found without reading the rest
    let later = w.clock_now() + chrono::Duration::hours(1);
    for i in 0..2000 {
        q.enqueue(EnqueueRequest::new(Class::Light, "echo", json!(i)).due_at(later))
            .await
            .unwrap();
    }
    let now_id = w.enqueue(&q, "echo").await;
    let candidates = q.due_candidates(Class::Light).await.unwrap();
    assert_eq!(candidates.len(), 1, "only due names are collected");
    let t = q
        .claim_from(Class::Light, "w", &candidates)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.envelope.id, now_id);
}

/// A finished task's closing record stays as a fence for one TTL + skew, then a reclaim pass
/// collects it.
async fn assert_chain_collected(w: &World, q: &queue_core::Queue, prefix: &str) {
    assert!(
        !w.names(prefix).await.is_empty(),
        "the closing record stays as a fence at first"
    );
    w.advance(71);
    let report = q.reclaim(Class::Light, "gc").await.unwrap();
    assert!(report.collected >= 1, "{report:?}");
    assert!(
        w.names(prefix).await.is_empty(),
        "collected after TTL + skew"
    );
}

impl World {
    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use queue_core::Clock;
        self.clock.now()
    }
}
