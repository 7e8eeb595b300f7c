//! Minimal, deterministic reproductions of the protocol bugs the simulation found (seeds and
//! details in docs/reliability.md). Each test drives the public API step by step; a
//! `StallStore` holds one write in flight, the way a laptop that sleeps mid-request or a client
//! retrying for minutes does, and a `FaultyStore` rule cuts a sequence of deletes short.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use futures::stream::BoxStream;
use object_store::ObjectStoreExt;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use queue_core::store::faulty::{Fault, FaultRule, FaultyStore, Op};
use queue_core::task::{Class, Outcome};
use queue_core::{Bucket, EnqueueRequest, ErrorKind, ManualClock, Queue, Settings, TaskId, names};
use serde_json::json;
use tokio::sync::Notify;

/// Holds back the first put, get or head of one path until released.
#[derive(Debug, Clone, Default)]
struct Stall {
    path: Arc<Mutex<Option<String>>>,
    arrived: Arc<Notify>,
    release: Arc<Notify>,
    /// Every delete that went through, so a test can land it again later: object_store
    /// retries a DELETE whose reply was lost, and the retry may land after a pause.
    deleted: Arc<Mutex<Vec<Path>>>,
}

impl Stall {
    async fn at(&self, location: &Path) {
        let hold = {
            let mut path = self.path.lock().unwrap();
            if path.as_deref() == Some(location.as_ref()) {
                path.take()
            } else {
                None
            }
        };
        if hold.is_some() {
            self.arrived.notify_one();
            self.release.notified().await;
        }
    }
}

#[derive(Debug)]
struct StallStore {
    inner: Arc<dyn ObjectStore>,
    stall: Stall,
}

impl std::fmt::Display for StallStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StallStore({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for StallStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.stall.at(location).await;
        self.inner.put_opts(location, payload, opts).await
    }
    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.stall.at(location).await;
        self.inner.get_opts(location, options).await
    }
    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let deleted = self.stall.deleted.clone();
        let locations = futures::StreamExt::inspect(locations, move |l| {
            if let Ok(path) = l {
                deleted.lock().unwrap().push(path.clone());
            }
        });
        self.inner.delete_stream(Box::pin(locations))
    }
    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

struct Setup {
    bucket: Bucket,
    clock: ManualClock,
    stall: Stall,
    /// A worker whose writes can be stalled.
    a: Queue,
    /// Everybody else.
    b: Queue,
}

fn settings() -> Settings {
    Settings {
        lease_ttl: Duration::from_secs(60),
        max_clock_skew: Duration::from_secs(10),
        backoff_base: Duration::from_secs(10),
        backoff_max: Duration::from_secs(600),
        max_attempts: 3,
        ..Settings::default()
    }
}

fn setup() -> Setup {
    let bucket = Bucket::memory();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap());
    let stall = Stall::default();
    let stalled = bucket.with_object_store(Arc::new(StallStore {
        inner: bucket.object_store().clone(),
        stall: stall.clone(),
    }));
    let a = Queue::new(stalled, Arc::new(clock.clone()), settings()).with_seed(1);
    let b = Queue::new(bucket.clone(), Arc::new(clock.clone()), settings()).with_seed(2);
    Setup {
        bucket,
        clock,
        stall,
        a,
        b,
    }
}

impl Setup {
    fn advance(&self, secs: i64) {
        self.clock.advance(chrono::Duration::seconds(secs));
    }

    async fn names(&self, prefix: &str) -> Vec<String> {
        let list = self.bucket.list(prefix).await.unwrap();
        list.into_iter().map(|o| o.name).collect()
    }

    async fn result(&self, id: TaskId) -> Option<serde_json::Value> {
        let obj = self
            .bucket
            .get(&names::done(Class::Light, id))
            .await
            .unwrap()?;
        queue_core::Envelope::from_json(&obj.bytes).unwrap().result
    }

    /// B claims the task (after its backoff) and commits `value`.
    async fn b_finishes(&self, value: &str) {
        self.advance(700);
        let t = self
            .b
            .claim(Class::Light, "b")
            .await
            .unwrap()
            .expect("b claims");
        self.b
            .complete(&t.lease, &t.envelope, Outcome::Done(json!(value)))
            .await
            .unwrap();
    }
}

async fn enqueue(q: &Queue, key: Option<&str>) -> TaskId {
    let mut req = EnqueueRequest::new(Class::Light, "echo", json!({}));
    if let Some(k) = key {
        req = req.key(k);
    }
    q.enqueue(req).await.unwrap().id
}

/// Found by seeds 99, 110, 151 (400-seed run): a commit that passed its deadline check but
/// whose create landed after the task had been taken over, finished by another worker and its
/// chain deleted, created the deleted record again and wrote a second result over the first.
#[tokio::test]
async fn a_commit_in_flight_across_a_takeover_does_not_commit_twice() {
    let s = setup();
    let id = enqueue(&s.b, None).await;
    let task = s.a.claim(Class::Light, "a").await.unwrap().unwrap();
    s.advance(55); // before A's deadline: A's own check passes
    *s.stall.path.lock().unwrap() = Some(names::running(Class::Light, id, 2));
    let a = s.a.clone_for_test();
    let commit = tokio::spawn(async move {
        a.complete(&task.lease, &task.envelope, Outcome::Done(json!("a")))
            .await
    });
    s.stall.arrived.notified().await; // A's create is in flight
    s.advance(20); // past A's deadline + skew
    assert_eq!(
        s.b.reclaim(Class::Light, "b").await.unwrap().expired,
        vec![id]
    );
    s.b_finishes("b").await;
    assert_eq!(s.result(id).await, Some(json!("b")));
    s.stall.release.notify_one(); // A's create lands: record 2 was deleted with B's chain
    let err = commit.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LeaseLost, "{err}");
    assert_eq!(s.result(id).await, Some(json!("b")), "one result, B's");
    assert_eq!(
        s.names("light/running/").await,
        vec![names::running(Class::Light, id, 4)],
        "only B's fence is left"
    );
}

/// A renewal whose write lands after the lease ran out must not report the lease renewed (the
/// task may already belong to someone else). Found by reasoning while building the auditor;
/// the regression test proves it.
#[tokio::test]
async fn a_renewal_that_lands_after_a_takeover_is_not_ok() {
    let s = setup();
    let id = enqueue(&s.b, None).await;
    let mut task = s.a.claim(Class::Light, "a").await.unwrap().unwrap();
    s.advance(50);
    *s.stall.path.lock().unwrap() = Some(names::running(Class::Light, id, 1));
    let a = s.a.clone_for_test();
    let renew = tokio::spawn(async move {
        let res = a.renew(&mut task.lease, &task.envelope).await;
        (res, task)
    });
    s.stall.arrived.notified().await; // A checked for record 2 (absent); its write is in flight
    s.advance(25); // past A's old deadline + skew
    assert_eq!(
        s.b.reclaim(Class::Light, "b").await.unwrap().expired,
        vec![id]
    );
    s.stall.release.notify_one();
    let (res, _) = renew.await.unwrap();
    assert_eq!(
        res.expect_err("the lease was taken over while the renewal was in flight")
            .kind(),
        ErrorKind::LeaseLost
    );
}

/// Found by seed 0 (first run): a late renewal (or a stale claim whose undo was cut short)
/// leaves a leased record behind after the task finished and its chain was collected. Reclaim
/// then "took over" that lease and ran the finished task again; now it collects the leftover.
#[tokio::test]
async fn a_leftover_lease_of_a_finished_task_is_collected_not_taken_over() {
    let s = setup();
    let id = enqueue(&s.b, None).await;
    let mut task = s.a.claim(Class::Light, "a").await.unwrap().unwrap();
    s.advance(50);
    *s.stall.path.lock().unwrap() = Some(names::running(Class::Light, id, 1));
    let a = s.a.clone_for_test();
    let renew = tokio::spawn(async move { a.renew(&mut task.lease, &task.envelope).await });
    s.stall.arrived.notified().await;
    s.advance(25);
    assert_eq!(
        s.b.reclaim(Class::Light, "b").await.unwrap().expired,
        vec![id]
    );
    s.b_finishes("b").await;
    s.advance(100);
    s.b.reclaim(Class::Light, "b").await.unwrap(); // collects B's fence
    assert!(s.names("light/running/").await.is_empty());
    s.stall.release.notify_one(); // the renewal lands: record 1 is back, leased
    let _ = renew.await.unwrap();
    assert_eq!(s.names("light/running/").await.len(), 1);
    for _ in 0..3 {
        s.advance(700);
        s.b.reclaim(Class::Light, "b").await.unwrap();
        assert!(s.b.claim(Class::Light, "b").await.unwrap().is_none());
    }
    assert!(
        s.names("light/running/").await.is_empty(),
        "leftover collected"
    );
    assert!(s.names("light/pending/").await.is_empty());
    assert!(s.names("light/failed/").await.is_empty());
    assert_eq!(s.result(id).await, Some(json!("b")));
}

/// Found by seed 0 (first run): collecting a finished task's chain deleted the fence first; a
/// pass cut short by a failed delete left an older closed record (next = pending) as the head,
/// which later passes "rolled forward" into a pending copy of the finished task, forever.
#[tokio::test]
async fn a_collection_cut_short_leaves_the_fence_as_the_head() {
    let s = setup();
    let id = enqueue(&s.b, None).await;
    let t = s.b.claim(Class::Light, "b").await.unwrap().unwrap();
    let retry = Outcome::Retry {
        error: "boom".into(),
        after: None,
    };
    s.b.complete(&t.lease, &t.envelope, retry).await.unwrap(); // record 2: closed, pending
    s.advance(700);
    let t = s.b.claim(Class::Light, "b").await.unwrap().unwrap(); // record 3
    // every delete of record 2 fails: the commit's cleanup and the collection are cut short
    let faulty = Arc::new(FaultyStore::new(
        s.bucket.object_store().clone(),
        0,
        vec![
            FaultRule::new(Fault::Error)
                .ops([Op::Delete])
                .prefix(names::running(Class::Light, id, 2)),
        ],
    ));
    let q = Queue::new(
        s.bucket.with_object_store(faulty.clone()),
        Arc::new(s.clock.clone()),
        settings(),
    );
    let err = q
        .complete(&t.lease, &t.envelope, Outcome::Done(json!("ok")))
        .await
        .unwrap_err(); // committed (record 4, done/ written), cleanup cut short
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    s.advance(100);
    q.reclaim(Class::Light, "r").await.unwrap();
    assert!(
        s.names("light/running/")
            .await
            .contains(&names::running(Class::Light, id, 4)),
        "the fence is still the head"
    );
    faulty.set_enabled(false);
    for _ in 0..3 {
        s.advance(700);
        q.reclaim(Class::Light, "r").await.unwrap();
        assert!(q.claim(Class::Light, "r").await.unwrap().is_none());
    }
    assert!(s.names("light/running/").await.is_empty());
    assert!(
        s.names("light/pending/").await.is_empty(),
        "no resurrected copy"
    );
    assert_eq!(s.result(id).await, Some(json!("ok")));
}

/// Found by seeds 77 and 106 (400-seed run): a replay soon after a task failed left the
/// failure's fence as the chain's head with failed/ gone; a reclaim pass took that for a commit
/// whose writer crashed and wrote failed/ back. Since protocol v2 a replay is a new task and
/// failed/ stays: the old chain is collected, the new task runs once.
#[tokio::test]
async fn a_replay_is_not_undone_by_a_roll_forward() {
    let s = setup();
    let id = enqueue(&s.b, None).await;
    let t = s.b.claim(Class::Light, "b").await.unwrap().unwrap();
    let fail = Outcome::Fail { error: "no".into() };
    s.b.complete(&t.lease, &t.envelope, fail).await.unwrap();
    let new = s.b.replay(id).await.unwrap().id; // before the fence is collected
    assert_ne!(new, id, "a replay is a new task");
    s.advance(100);
    s.b.reclaim(Class::Light, "b").await.unwrap();
    assert_eq!(
        s.names("light/failed/").await,
        vec![names::failed(Class::Light, id)],
        "the failed task stays failed"
    );
    assert_eq!(s.names("light/pending/").await.len(), 1);
    let t = s.b.claim(Class::Light, "b").await.unwrap().unwrap();
    assert_eq!((t.envelope.id, t.envelope.replay_of), (new, Some(id)));
    s.b.complete(&t.lease, &t.envelope, Outcome::Done(json!("second try")))
        .await
        .unwrap();
    s.advance(100);
    s.b.reclaim(Class::Light, "b").await.unwrap();
    assert!(s.names("light/running/").await.is_empty());
    assert_eq!(s.result(new).await, Some(json!("second try")));
    assert_eq!(s.result(id).await, None);
}

/// Found by seed 0 (first run): an enqueue repeating an idempotency key looked for the task
/// only under its first pending name, its chain and done/failed. After a replay (a new pending
/// name, failed/ removed, the chain collected) it found nothing and wrote the key's envelope
/// again: a second copy at epoch 0 that nothing told from a fresh task, so the task ran twice
/// and two results were committed.
#[tokio::test]
async fn a_repeated_key_after_a_replay_does_not_copy_the_task() {
    let s = setup();
    let id = enqueue(&s.b, Some("tg-update-7")).await;
    let t = s.b.claim(Class::Light, "b").await.unwrap().unwrap();
    let fail = Outcome::Fail { error: "no".into() };
    s.b.complete(&t.lease, &t.envelope, fail).await.unwrap();
    s.advance(100);
    s.b.reclaim(Class::Light, "b").await.unwrap(); // chain collected
    let new = s.b.replay(id).await.unwrap().id;
    let again =
        s.b.enqueue(EnqueueRequest::new(Class::Light, "echo", json!({})).key("tg-update-7"))
            .await
            .unwrap();
    assert_eq!((again.id, again.created), (id, false));
    assert_eq!(s.names("light/pending/").await.len(), 1, "one copy");
    let t = s.b.claim(Class::Light, "b").await.unwrap().unwrap();
    assert!(s.b.claim(Class::Light, "b").await.unwrap().is_none());
    s.b.complete(&t.lease, &t.envelope, Outcome::Done(json!("once")))
        .await
        .unwrap();
    assert_eq!(s.result(new).await, Some(json!("once")));
}

/// The race behind the previous test: a replay that runs entirely while a repeated-key enqueue
/// is between its looks (chain: empty; then done/failed: gone) must still be seen.
#[tokio::test]
async fn a_repeated_key_racing_a_replay_does_not_copy_the_task() {
    let s = setup();
    let id = enqueue(&s.b, Some("tg-update-8")).await;
    let t = s.b.claim(Class::Light, "b").await.unwrap().unwrap();
    let fail = Outcome::Fail { error: "no".into() };
    s.b.complete(&t.lease, &t.envelope, fail).await.unwrap();
    s.advance(100);
    s.b.reclaim(Class::Light, "b").await.unwrap(); // chain collected
    *s.stall.path.lock().unwrap() = Some(names::done(Class::Light, id));
    let a = s.a.clone_for_test();
    let again = tokio::spawn(async move {
        let req = EnqueueRequest::new(Class::Light, "echo", json!({})).key("tg-update-8");
        a.enqueue(req).await
    });
    s.stall.arrived.notified().await; // it saw no pending copy and no chain
    s.b.replay(id).await.unwrap();
    s.stall.release.notify_one();
    let again = again.await.unwrap().unwrap();
    assert_eq!((again.id, again.created), (id, false));
    assert_eq!(s.names("light/pending/").await.len(), 1, "one copy");
}

/// Issue 12, finding 2: a replay used to delete `failed/{id}` and put the same id back in
/// pending. object_store retries a DELETE whose reply was lost; a retry that lands after the
/// replayed task failed again removed the *new* failed object, and the task was nowhere.
/// Since protocol v2 a replay deletes nothing: every delete it (or anything after it) made
/// may land again later and the failed tasks stay.
#[tokio::test]
async fn a_late_delete_after_a_replay_loses_no_task() {
    let s = setup();
    let id = enqueue(&s.b, None).await;
    let t = s.b.claim(Class::Light, "b").await.unwrap().unwrap();
    let fail = Outcome::Fail { error: "no".into() };
    s.b.complete(&t.lease, &t.envelope, fail.clone())
        .await
        .unwrap();
    s.stall.deleted.lock().unwrap().clear();
    let new = s.a.replay(id).await.unwrap().id; // through the store that records deletes
    let late: Vec<Path> = s.stall.deleted.lock().unwrap().drain(..).collect();
    let t = s.b.claim(Class::Light, "b").await.unwrap().unwrap();
    assert_eq!(t.envelope.id, new);
    s.b.complete(&t.lease, &t.envelope, fail).await.unwrap(); // fails again
    for path in late {
        // the replay's deletes, retried after a pause, land now
        s.bucket.object_store().delete(&path).await.unwrap();
    }
    let failed = s.names("light/failed/").await;
    assert!(
        failed.contains(&names::failed(Class::Light, new)),
        "the replayed task that failed again is in failed/: {failed:?}"
    );
    assert!(
        failed.contains(&names::failed(Class::Light, id)),
        "{failed:?}"
    );
}

/// Issue 12, finding 1: a commit whose create stalled (a laptop asleep mid-request) lands on
/// record `e+1` after the task was taken over, failed, its chain collected and the task
/// replayed. It used to find neither done/ nor failed/ (the replay had removed it), so the
/// stale result was committed, and the replayed run wrote a second one over it.
#[tokio::test]
async fn a_commit_in_flight_across_a_failure_and_a_replay_commits_nothing() {
    let s = setup();
    let id = enqueue(&s.b, None).await;
    let task = s.a.claim(Class::Light, "a").await.unwrap().unwrap();
    s.advance(55);
    *s.stall.path.lock().unwrap() = Some(names::running(Class::Light, id, 2));
    let a = s.a.clone_for_test();
    let commit = tokio::spawn(async move {
        a.complete(&task.lease, &task.envelope, Outcome::Done(json!("stale")))
            .await
    });
    s.stall.arrived.notified().await; // A's closing create is in flight
    s.advance(20);
    assert_eq!(
        s.b.reclaim(Class::Light, "b").await.unwrap().expired,
        vec![id]
    );
    s.advance(700);
    let t = s.b.claim(Class::Light, "b").await.unwrap().unwrap();
    let fail = Outcome::Fail { error: "no".into() };
    s.b.complete(&t.lease, &t.envelope, fail).await.unwrap();
    s.advance(100);
    s.b.reclaim(Class::Light, "b").await.unwrap(); // chain and fence collected
    assert!(s.names("light/running/").await.is_empty());
    let replayed = s.b.replay(id).await.unwrap();
    s.stall.release.notify_one(); // A's create lands on the collected name
    let err = commit.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LeaseLost, "{err}");
    assert_eq!(s.result(id).await, None, "no stale result");
    let t = s.b.claim(Class::Light, "b").await.unwrap().unwrap();
    s.b.complete(&t.lease, &t.envelope, Outcome::Done(json!("replayed")))
        .await
        .unwrap();
    assert_eq!(s.result(t.envelope.id).await, Some(json!("replayed")));
    let done = s.names("light/done/").await;
    assert_eq!(done.len(), 1, "exactly one result: {done:?}");
    assert_eq!(t.envelope.id, replayed.id);
}

/// Issue 12, finding 3: object_store does not retry a create-only write on a timeout. A claim
/// whose lease record landed but whose reply was lost left an orphan lease (counted as an
/// attempt at reclaim, dead-lettering a `max_attempts = 1` task that never ran), and a commit
/// whose closing record landed but errored was retried with a fresh nonce and lost to itself.
/// Both now read the record back and recognise their nonce.
#[tokio::test]
async fn a_create_whose_reply_was_lost_is_recognised() {
    let s = setup();
    let id = enqueue(&s.b, None).await;
    let faulty = Arc::new(FaultyStore::new(
        s.bucket.object_store().clone(),
        0,
        vec![
            FaultRule::new(Fault::LostReply)
                .ops([Op::Put])
                .prefix("light/running/"),
        ],
    ));
    let q = Queue::new(
        s.bucket.with_object_store(faulty.clone()),
        Arc::new(s.clock.clone()),
        settings(),
    );
    let t = q
        .claim(Class::Light, "a")
        .await
        .expect("the lease landed: the claim holds it")
        .expect("claimed");
    assert_eq!(t.envelope.id, id);
    assert!(s.names("light/pending/").await.is_empty());
    let done = q
        .complete(&t.lease, &t.envelope, Outcome::Done(json!("ok")))
        .await
        .expect("the closing record landed: the commit is ours");
    assert_eq!(done.state, queue_core::TaskState::Done);
    assert_eq!(s.result(id).await, Some(json!("ok")));
    assert_eq!(faulty.counts().lost_replies, 2);
}

/// Was a known gap until protocol v2: a claim that read a pending object, then stalled (a
/// laptop asleep between its read and its create) while another worker claimed the task,
/// failed it and an operator replayed it, created the deleted record `n + 1` again; its stale
/// check found no failed/ (the replay removed it), so the task ran twice. Found by seed 212
/// (1,000-seed run). A replay is now a new task and failed/{id} stays: the stale claim finds it.
#[tokio::test]
async fn a_claim_in_flight_across_a_replay_does_not_run_the_task_twice() {
    let s = setup();
    let id = enqueue(&s.b, None).await;
    *s.stall.path.lock().unwrap() = Some(names::running(Class::Light, id, 1));
    let a = s.a.clone_for_test();
    let stale = tokio::spawn(async move { a.claim(Class::Light, "a").await });
    s.stall.arrived.notified().await; // A read the pending object; its create is in flight
    let t = s.b.claim(Class::Light, "b").await.unwrap().unwrap();
    let fail = Outcome::Fail { error: "no".into() };
    s.b.complete(&t.lease, &t.envelope, fail).await.unwrap();
    s.b.replay(id).await.unwrap();
    s.stall.release.notify_one();
    let stale = stale.await.unwrap().unwrap();
    assert!(
        stale.is_none(),
        "the stale claim must not hold the task while its replay waits to run"
    );
}

/// Found while writing the names fuzz body over chrono's whole range: a due time in year
/// 10000 (an API `delay` of 8,000 years) was accepted, but its pending name
/// (`+100000101T…`) parses as no task name, so the next claim quarantined the accepted task.
#[tokio::test]
async fn a_due_time_no_pending_name_can_carry_is_refused() {
    let s = setup();
    for year in [10_000, -1] {
        let due = Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap();
        let req = EnqueueRequest::new(Class::Light, "echo", json!({})).due_at(due);
        let err = s.b.enqueue(req).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    let last = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
    let req = EnqueueRequest::new(Class::Light, "echo", json!({})).due_at(last);
    s.b.enqueue(req).await.unwrap();
    assert!(s.b.claim(Class::Light, "b").await.unwrap().is_none());
    assert!(s.names("invalid/").await.is_empty(), "nothing quarantined");
}

trait CloneForTest {
    fn clone_for_test(&self) -> Queue;
}

impl CloneForTest for Queue {
    /// Another handle of the same process (same bucket view, clock and settings).
    fn clone_for_test(&self) -> Queue {
        Queue::new(
            self.bucket().clone(),
            self.clock().clone(),
            self.settings().clone(),
        )
        .with_seed(99)
    }
}

/// Issue 12, finding 4: the wake-up object is a hot object (GCS allows about one write a
/// second per name; two enqueuers get 429, which object_store retried inline for minutes). A
/// failed wake-up write must not fail or hold up the enqueue; with push wake-ups configured
/// (`wake_writes = false`) there is no write at all; and the object names the new pending
/// task, so an idle poller can claim it by name without a listing.
#[tokio::test]
async fn the_wake_up_write_never_holds_up_an_enqueue() {
    let s = setup();
    let faulty = Arc::new(FaultyStore::new(
        s.bucket.object_store().clone(),
        0,
        vec![FaultRule::new(Fault::Error).prefix(names::wake(Class::Light))],
    ));
    let q = Queue::new(
        s.bucket.with_object_store(faulty.clone()),
        Arc::new(s.clock.clone()),
        settings(),
    );
    let id = enqueue(&q, None).await; // the wake-up write fails: the enqueue does not
    assert_eq!(faulty.counts().errors, 1);
    assert_eq!(s.names("light/pending/").await.len(), 1);
    assert!(s.names(&names::wake(Class::Light)).await.is_empty());

    let quiet = Queue::new(
        s.bucket.clone(),
        Arc::new(s.clock.clone()),
        Settings {
            wake_writes: false,
            ..settings()
        },
    );
    enqueue(&quiet, None).await;
    assert!(
        s.names(&names::wake(Class::Light)).await.is_empty(),
        "no write"
    );

    s.advance(2);
    let second = enqueue(&s.b, None).await;
    let mut watcher = queue_core::wake::WakeWatcher::new();
    assert!(watcher.poll(&s.bucket, Class::Light).await.unwrap());
    let named = watcher.pending();
    assert_eq!(named.len(), 1);
    assert!(named[0].ends_with(&format!("_{second}.json")), "{named:?}");
    let t = s.b.try_claim(Class::Light, "b", &named[0]).await.unwrap();
    assert_eq!(t.expect("claimed by name").envelope.id, second);
    assert_ne!(id, second);
}
