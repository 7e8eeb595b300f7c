//! The runner: a claim loop with `concurrency` slots ([`Worker::run`]), and running one claimed
//! task to its end ([`Worker::run_claimed`]):
//!
//! 1. start the heartbeat;
//! 2. run the handler (built-in, or the exec protocol with the task's attachments);
//! 3. stop the heartbeat — if it lost the lease, commit nothing;
//! 4. commit the outcome (retrying transient store errors);
//! 5. if the task reached done/ or failed/ and has a chat, notify it; raise its alerts.
//!
//! Before the commit, reports a handler's result names are written to `results/`
//! ([`crate::outputs`]).
//!
//! At shutdown, a handler stopped after the grace period has its lease released instead (back
//! to pending, attempt not counted).

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use queue_core::queue::Completion;
use queue_core::{
    ClaimedTask, Class, Envelope, ErrorKind, Lease, Outcome, Queue, TaskId, TaskState,
};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::alerts::{self, Alerter};
use crate::attachments;
use crate::discovery::{Discovery, Step};
use crate::exec::{self, ExecSettings, Interrupt, Invocation, ProcessGroups};
use crate::handlers::{Action, Builtin, Handlers};
use crate::heartbeat;
use crate::metrics::WorkerMetrics;
use crate::notify::{Notifier, notice_in, report_notice};
use crate::presence::TaskSet;

/// A worker: what it serves and how it runs handlers. Cheap to share in an `Arc`.
#[derive(Debug)]
pub struct Worker {
    queue: Arc<Queue>,
    class: Class,
    id: String,
    concurrency: usize,
    handlers: Arc<Handlers>,
    exec: ExecSettings,
    notifier: Option<Arc<dyn Notifier>>,
    alerter: Option<Arc<Alerter>>,
    handler_env: Vec<(String, String)>,
    tasks: TaskSet,
    groups: ProcessGroups,
    metrics: Arc<WorkerMetrics>,
}

/// How one task ended for this worker.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskEnd {
    /// The outcome was committed: the task is now in `state`.
    Committed {
        /// pending (retry or snooze), done or failed.
        state: TaskState,
    },
    /// The lease was lost (taken over, cancelled, or run out while paused); nothing committed.
    LeaseLost {
        /// The lease's deadline on this worker's clock.
        deadline: DateTime<Utc>,
    },
    /// Stopped at shutdown and given back to pending (attempt not counted).
    Released,
    /// The commit failed for another reason; the lease will expire and be reclaimed.
    NotCommitted {
        /// Why.
        error: String,
    },
}

/// The report of one task run.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskReport {
    /// The task.
    pub id: TaskId,
    /// Its kind.
    pub kind: String,
    /// How it ended.
    pub end: TaskEnd,
}

/// What the handler step produced.
struct Ran {
    outcome: Outcome,
    interrupted: Option<Interrupt>,
}

impl Worker {
    /// A worker of `class` named `id`, with one slot and default exec settings.
    pub fn new(queue: Arc<Queue>, class: Class, id: impl Into<String>, handlers: Handlers) -> Self {
        Worker {
            queue,
            class,
            id: id.into(),
            concurrency: 1,
            handlers: Arc::new(handlers),
            exec: ExecSettings::default(),
            notifier: None,
            alerter: None,
            handler_env: Vec::new(),
            tasks: TaskSet::default(),
            groups: ProcessGroups::default(),
            metrics: Arc::new(WorkerMetrics::new()),
        }
    }

    /// Run up to `n` tasks at once.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How handler processes are run.
    pub fn with_exec(mut self, exec: ExecSettings) -> Self {
        self.exec = exec;
        self
    }

    /// Where results go.
    pub fn with_notifier(mut self, notifier: Option<Arc<dyn Notifier>>) -> Self {
        self.notifier = notifier;
        self
    }

    /// Count claims, ends, handler durations and renewals here.
    pub fn with_metrics(mut self, metrics: Arc<WorkerMetrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Send alerts (dead-lettered routine jobs, handlers' findings) through `alerter`.
    pub fn with_alerter(mut self, alerter: Option<Arc<Alerter>>) -> Self {
        self.alerter = alerter;
        self
    }

    /// Add these variables to every handler's environment (e.g. `QUEUE_STORE`).
    pub fn with_handler_env(mut self, env: Vec<(String, String)>) -> Self {
        self.handler_env = env;
        self
    }

    /// The tasks running now (for presence).
    pub fn tasks(&self) -> TaskSet {
        self.tasks.clone()
    }

    /// The handlers' process groups (for a hard exit).
    pub fn groups(&self) -> ProcessGroups {
        self.groups.clone()
    }

    /// The queue.
    pub fn queue(&self) -> &Arc<Queue> {
        &self.queue
    }

    /// Claim the first due task and run it to its end; `None` when nothing is due.
    pub async fn run_once(&self) -> queue_core::Result<Option<TaskReport>> {
        let Some(claimed) = self.queue.claim(self.class, &self.id).await? else {
            return Ok(None);
        };
        Ok(Some(
            self.run_claimed(claimed, &CancellationToken::new()).await,
        ))
    }

    /// Run a claimed task to its end. `abort` (shutdown after the grace period) stops the
    /// handler and releases the lease.
    pub async fn run_claimed(&self, claimed: ClaimedTask, abort: &CancellationToken) -> TaskReport {
        let ClaimedTask {
            lease,
            mut envelope,
        } = claimed;
        let (id, kind) = (envelope.id, envelope.kind.clone());
        // The handler's limit goes into the envelope before the first renewal writes it into
        // the lease record, so a takeover after a crash judges the attempt by it too.
        if let Some(max) = self.handlers.get(&kind).and_then(|h| h.max_attempts) {
            envelope.max_attempts = max;
        }
        tracing::info!(task = %id, kind = %kind, attempt = envelope.attempt, max_attempts = envelope.max_attempts, "running task");
        self.metrics.claimed(self.class);
        self.tasks.insert(id);
        let stop_handler = abort.child_token();
        let beat = heartbeat::spawn(
            self.queue.clone(),
            lease,
            envelope.clone(),
            stop_handler.clone(),
        );
        let started = std::time::Instant::now();
        let ran = self.handle(&envelope, &stop_handler).await;
        let handler_time = started.elapsed();
        let beat = beat.stop().await;
        let end = if let Some(lost) = beat.lost {
            tracing::warn!(task = %id, kind = %kind, error = %lost, "lease lost; nothing committed (another worker may have the task)");
            TaskEnd::LeaseLost {
                deadline: beat.lease.deadline,
            }
        } else if ran.interrupted == Some(Interrupt::Cancelled) && abort.is_cancelled() {
            self.release(&beat.lease, &envelope).await
        } else {
            let outcome = crate::outputs::deliver(self.queue.bucket(), ran.outcome).await;
            self.commit(&beat.lease, &envelope, outcome).await
        };
        self.tasks.remove(id);
        let known = self
            .handlers
            .get(&kind)
            .map_or("unknown", |_| kind.as_str());
        (self.metrics).ended(self.class, known, &end, handler_time, beat.renewals);
        TaskReport { id, kind, end }
    }

    /// Whether the handlers file (or a built-in) handles `kind`.
    pub fn handles(&self, kind: &str) -> bool {
        self.handlers.get(kind).is_some()
    }

    /// Run the handler for `envelope` without a lease: the same handlers and exec path, no
    /// heartbeat, nothing committed (a schedule's inline run; queue-worker's
    /// [`scheduler`](crate::scheduler) records what it returns).
    ///
    /// As after a task's run, reports the result names go to `results/` and the alerts its
    /// result carries are raised. A failure raises none here: the scheduler records it as a
    /// failed task, whose id the alert would have to name.
    pub async fn run_unleased(&self, envelope: &Envelope, stop: &CancellationToken) -> Outcome {
        let ran = self.handle(envelope, stop).await;
        let outcome = crate::outputs::deliver(self.queue.bucket(), ran.outcome).await;
        if let (Some(alerter), Outcome::Done(result)) = (&self.alerter, &outcome) {
            let mut done = envelope.clone();
            done.result = Some(result.clone());
            alerter
                .raise(alerts::for_task(&done, TaskState::Done))
                .await;
        }
        outcome
    }

    /// Run the task's handler and turn what happened into an outcome.
    async fn handle(&self, envelope: &Envelope, stop: &CancellationToken) -> Ran {
        let Some(handler) = self.handlers.get(&envelope.kind) else {
            let error = self.handlers.unknown_kind_error(&envelope.kind);
            return Ran {
                outcome: Outcome::Fail { error },
                interrupted: None,
            };
        };
        let argv = match &handler.action {
            Action::Builtin(Builtin::Echo) => {
                return Ran {
                    outcome: Outcome::Done(envelope.payload.clone()),
                    interrupted: None,
                };
            }
            Action::Command(argv) => argv,
        };
        let files = match attachments::download(self.queue.bucket(), &envelope.attachments).await {
            Ok(dir) => dir,
            Err(e) => {
                tracing::warn!(task = %envelope.id, error = %e, "cannot provide the task's attachments");
                return Ran {
                    outcome: e.outcome(),
                    interrupted: None,
                };
            }
        };
        let mut env: Vec<(String, String)> = self.handler_env.clone();
        env.extend(handler.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        env.extend([
            ("QUEUE_TASK_ID".to_string(), envelope.id.to_string()),
            ("QUEUE_TASK_KIND".to_string(), envelope.kind.clone()),
            ("QUEUE_TASK_CLASS".to_string(), envelope.class.to_string()),
            (
                "QUEUE_TASK_ATTEMPT".to_string(),
                envelope.attempt.to_string(),
            ),
            ("QUEUE_WORKER_ID".to_string(), self.id.clone()),
        ]);
        if let Some(dir) = &files {
            env.push((
                "QUEUE_ATTACHMENTS_DIR".to_string(),
                dir.path().display().to_string(),
            ));
        }
        let stdin = serde_json::to_vec(&envelope.payload).unwrap_or_else(|_| b"null".to_vec());
        let out = exec::run(
            Invocation {
                argv,
                env,
                cwd: handler.cwd.as_deref(),
                stdin,
                timeout: handler.timeout,
            },
            &self.exec,
            stop,
            &self.groups,
        )
        .await;
        drop(files);
        let outcome = exec::decide(&out, handler.timeout);
        tracing::info!(
            task = %envelope.id,
            kind = %envelope.kind,
            exit = ?out.exit,
            interrupted = ?out.interrupted,
            elapsed_ms = out.elapsed.as_millis() as u64,
            outcome = outcome_name(&outcome),
            "handler finished"
        );
        Ran {
            outcome,
            interrupted: out.interrupted,
        }
    }

    /// Commit the outcome, retrying transient store errors, then notify.
    async fn commit(&self, lease: &Lease, envelope: &Envelope, outcome: Outcome) -> TaskEnd {
        let result = (|| self.queue.complete(lease, envelope, outcome.clone()))
            .retry(store_retry())
            .when(|e: &queue_core::Error| e.kind().is_retryable())
            .notify(|e, wait| tracing::warn!(task = %envelope.id, error = %e, retry_in = ?wait, "commit failed; retrying"))
            .await;
        match result {
            Ok(completion) => {
                tracing::info!(task = %envelope.id, kind = %envelope.kind, state = %completion.state, due_at = ?completion.due_at, "task committed");
                self.notify(&completion).await;
                TaskEnd::Committed {
                    state: completion.state,
                }
            }
            Err(e) if e.kind() == ErrorKind::LeaseLost => {
                tracing::warn!(task = %envelope.id, error = %e, "lease lost; nothing committed (another worker may have the task)");
                TaskEnd::LeaseLost {
                    deadline: lease.deadline,
                }
            }
            Err(e) => {
                tracing::error!(task = %envelope.id, error = %e, "could not commit; the lease will expire and the task run again");
                TaskEnd::NotCommitted {
                    error: e.to_string(),
                }
            }
        }
    }

    async fn release(&self, lease: &Lease, envelope: &Envelope) -> TaskEnd {
        let result = (|| self.queue.release(lease, envelope))
            .retry(store_retry())
            .when(|e: &queue_core::Error| e.kind().is_retryable())
            .await;
        match result {
            Ok(_) => {
                tracing::info!(task = %envelope.id, "released the task back to pending");
                TaskEnd::Released
            }
            Err(e) if e.kind() == ErrorKind::LeaseLost => TaskEnd::LeaseLost {
                deadline: lease.deadline,
            },
            Err(e) => {
                tracing::error!(task = %envelope.id, error = %e, "could not release; the lease will expire and be reclaimed");
                TaskEnd::NotCommitted {
                    error: e.to_string(),
                }
            }
        }
    }

    /// Tell the task's chat, if it has one. Never fails: the result is committed already.
    async fn notify(&self, completion: &Completion) {
        if let Some(alerter) = &self.alerter {
            alerter
                .raise(alerts::for_task(&completion.envelope, completion.state))
                .await;
        }
        let report_chat = self.notifier.as_ref().and_then(|n| n.report_chat());
        let lang = self.notifier.as_ref().map(|n| n.lang()).unwrap_or_default();
        let notice = notice_in(&completion.envelope, completion.state, lang)
            .or_else(|| report_notice(&completion.envelope, completion.state, report_chat?));
        let Some(notice) = notice else {
            return;
        };
        let Some(notifier) = &self.notifier else {
            tracing::warn!(task = %completion.envelope.id, "the task has a Telegram chat but TELEGRAM_BOT_TOKEN is not set; not sending the result");
            return;
        };
        match tokio::time::timeout(Duration::from_secs(120), notifier.send(&notice)).await {
            Ok(Ok(())) => {
                tracing::info!(task = %completion.envelope.id, chat = notice.chat_id, "sent the result to the chat")
            }
            Ok(Err(e)) => {
                tracing::warn!(task = %completion.envelope.id, chat = notice.chat_id, error = %e, "could not send the result to the chat (it is kept in the store)")
            }
            Err(_) => {
                tracing::warn!(task = %completion.envelope.id, chat = notice.chat_id, "sending the result timed out (it is kept in the store)")
            }
        }
    }

    /// Claim and run tasks until `stop`; then let running handlers finish within `grace`,
    /// stop the rest and release their leases.
    pub async fn run(
        self: Arc<Self>,
        mut discovery: Discovery,
        stop: CancellationToken,
        grace: Duration,
    ) {
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let (ended_tx, mut ended) = mpsc::unbounded_channel::<TaskReport>();
        let abort = CancellationToken::new();
        let mut running = JoinSet::new();
        let mut errors = error_backoff();
        let mut wakes = discovery.take_wakes();
        loop {
            while let Ok(report) = ended.try_recv() {
                self.learn(&mut discovery, &report);
            }
            while let Some(wake) = wakes.as_mut().and_then(|w| w.try_recv().ok()) {
                discovery.on_wake(wake, self.queue.clock().now());
            }
            while running.try_join_next().is_some() {}
            let slot = tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            };
            // Names left from the last listing are claimed in the slot's own task, so the
            // slots of one worker claim at the same time (a claim is several round trips).
            if let Some(name) = discovery.take_candidate(self.queue.clock().now()) {
                let worker = self.clone();
                let (ended_tx, abort, stop) = (ended_tx.clone(), abort.clone(), stop.clone());
                running.spawn(async move {
                    if let Some(report) = worker.claim_and_run(&name, &stop, &abort).await {
                        let _ = ended_tx.send(report);
                    }
                    drop(slot);
                });
                continue;
            }
            // A step is not cancelled half-way: a claim it made must be run or released.
            match discovery.step(&self.queue).await {
                Ok(Step::Claimed(task)) => {
                    errors = error_backoff();
                    if stop.is_cancelled() {
                        let report = self.release_unstarted(*task).await;
                        tracing::info!(task = %report.id, end = ?report.end, "claimed just before shutdown; given back");
                        break;
                    }
                    let worker = self.clone();
                    let (ended_tx, abort) = (ended_tx.clone(), abort.clone());
                    running.spawn(async move {
                        let report = worker.run_claimed(*task, &abort).await;
                        let _ = ended_tx.send(report);
                        drop(slot);
                    });
                }
                Ok(Step::Idle(wait)) => {
                    errors = error_backoff();
                    drop(slot);
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                        Some(report) = ended.recv() => self.learn(&mut discovery, &report),
                        Some(wake) = next_wake(&mut wakes) => discovery.on_wake(wake, self.queue.clock().now()),
                    }
                }
                Err(e) => {
                    drop(slot);
                    let wait = errors.next().unwrap_or(Duration::from_secs(60));
                    tracing::warn!(class = %self.class, error = %e, retry_in = ?wait, "discovery failed; carrying on");
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        self.drain(running, abort, grace).await;
    }

    /// Claim one listed name and run it; `None` when another worker had it (a lost race) or
    /// the claim failed. A claim made after `stop` is given back at once.
    async fn claim_and_run(
        &self,
        name: &str,
        stop: &CancellationToken,
        abort: &CancellationToken,
    ) -> Option<TaskReport> {
        let task = match self.queue.try_claim(self.class, &self.id, name).await {
            Ok(task) => task?,
            Err(e) => {
                tracing::warn!(class = %self.class, object = %name, error = %e, "claim failed; carrying on");
                return None;
            }
        };
        if stop.is_cancelled() {
            let report = self.release_unstarted(task).await;
            tracing::info!(task = %report.id, end = ?report.end, "claimed just before shutdown; given back");
            return Some(report);
        }
        Some(self.run_claimed(task, abort).await)
    }

    async fn drain(&self, mut running: JoinSet<()>, abort: CancellationToken, grace: Duration) {
        if running.is_empty() {
            return;
        }
        tracing::info!(tasks = running.len(), grace = ?grace, "waiting for running handlers to finish");
        let finished = tokio::time::timeout(grace, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tracing::warn!(
                tasks = running.len(),
                "grace period over: stopping handlers and releasing their tasks"
            );
            abort.cancel();
            while running.join_next().await.is_some() {}
        }
    }

    async fn release_unstarted(&self, task: ClaimedTask) -> TaskReport {
        let end = self.release(&task.lease, &task.envelope).await;
        TaskReport {
            id: task.envelope.id,
            kind: task.envelope.kind,
            end,
        }
    }

    fn learn(&self, discovery: &mut Discovery, report: &TaskReport) {
        let now = self.queue.clock().now();
        discovery.worked(now);
        if let TaskEnd::LeaseLost { deadline } = report.end {
            // Whoever holds it now finishes it; if nobody does, take it over once it expires.
            let skew = chrono::Duration::from_std(self.queue.settings().max_clock_skew)
                .unwrap_or(chrono::Duration::minutes(1));
            discovery.reclaim_at(deadline.max(now) + skew + chrono::Duration::seconds(1));
        }
    }
}

/// The next wake-up, or never when there is no source (or it is gone).
async fn next_wake(wakes: &mut Option<crate::wake::WakeRx>) -> Option<crate::wake::Wake> {
    match wakes {
        Some(rx) => match rx.recv().await {
            Some(wake) => Some(wake),
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Done(_) => "done",
        Outcome::Retry { .. } => "retry",
        Outcome::Fail { .. } => "fail",
        Outcome::Snooze { .. } => "snooze",
    }
}

/// Retries for a commit or release: a few quick tries (the lease deadline bounds them anyway).
fn store_retry() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(Duration::from_secs(10))
        .with_max_times(5)
        .with_jitter()
}

/// Backoff after a failed discovery step: 1 s doubling to a minute, forever.
fn error_backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_secs(1))
        .with_max_delay(Duration::from_secs(60))
        .without_max_times()
        .with_jitter()
        .build()
}
