//! The real worker binary as a process on a local store: idle and busy memory, and pickup
//! latency of an idle worker.
//!
//! 1. Start the binary (`--store DIR`, no handlers file: the built-in `echo` only) and wait for
//!    its presence document.
//! 2. Idle RSS: after `settle`, `VmRSS` from `/proc/PID/status`.
//! 3. Pickup latency: one echo task every 1.1–1.6 s (seeded random, so enqueues fall at every
//!    phase of the poll); latency = the attempt's `started_at` (the claim, which immediately
//!    precedes the built-in handler) minus the envelope's `created_at` — both written by
//!    this machine's clock, read back from `done/{id}.json`.
//! 4. Busy RSS: a stream of echo tasks at `busy_rate` a second for `busy_seconds`, RSS sampled
//!    every 20 ms; then idle again.
//! 5. SIGTERM, and the exit status.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use queue_core::task::Envelope;
use queue_core::{Bucket, Class, EnqueueRequest, Queue, Settings, SystemClock, TaskId, names};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::BenchResult;
use crate::fleet::ECHO;
use crate::rss::{mib, rss_kib};
use crate::stats::Summary;

/// What to run and for how long.
#[derive(Debug, Clone)]
pub struct ProcessConfig {
    /// The worker binary.
    pub binary: PathBuf,
    /// The class it serves.
    pub class: Class,
    /// Idle time before reading memory.
    pub settle: Duration,
    /// Pickup samples (0: skip).
    pub pickup_samples: usize,
    /// Busy stream: tasks a second (0: skip).
    pub busy_rate: u32,
    /// Busy stream: how long.
    pub busy_seconds: u64,
    /// Extra flags for the binary.
    pub extra_args: Vec<String>,
}

/// Memory figures, in MiB.
#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    /// After start and `settle` idle.
    pub idle_mib: f64,
    /// Largest sample during the busy stream.
    pub busy_peak_mib: Option<f64>,
    /// Median sample during the busy stream.
    pub busy_median_mib: Option<f64>,
    /// After the stream and `settle` idle.
    pub idle_after_mib: Option<f64>,
}

/// The busy stream's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Busy {
    /// Tasks enqueued.
    pub tasks: usize,
    /// Seconds from the first enqueue to the last task done.
    pub seconds: f64,
    /// Whether every task reached done/.
    pub all_done: bool,
}

/// Everything measured on one binary.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessReport {
    /// The binary's file name.
    pub binary: String,
    /// Memory.
    pub memory: Memory,
    /// Pickup latency of the idle worker (enqueue → claim/handler start).
    pub pickup: Option<Summary>,
    /// The busy stream.
    pub busy: Option<Busy>,
    /// Exit code after SIGTERM.
    pub exit_code: Option<i32>,
}

/// Run the measurement.
pub async fn measure(config: &ProcessConfig) -> BenchResult<ProcessReport> {
    let dir = tempfile::tempdir()?;
    let bucket = Bucket::local(dir.path())?;
    let queue = Queue::new(bucket.clone(), Arc::new(SystemClock), Settings::default()).with_seed(9);
    let worker_id = "bench-process";
    let mut child = spawn(config, dir.path(), worker_id)?;
    let pid = child.id().ok_or("the worker exited at once")?;
    wait_for_object(
        &bucket,
        &names::worker(worker_id),
        Duration::from_secs(30),
        &mut child,
    )
    .await?;

    tokio::time::sleep(config.settle).await;
    let idle = rss_kib(pid)?;

    let pickup = if config.pickup_samples > 0 {
        Summary::of(&pickup_latencies(&queue, config.class, config.pickup_samples).await?)
    } else {
        None
    };

    let (busy, busy_rss) = if config.busy_rate > 0 {
        let (busy, samples) = busy_stream(&queue, config, pid).await?;
        (Some(busy), samples)
    } else {
        (None, Vec::new())
    };
    let idle_after = if busy.is_some() {
        tokio::time::sleep(config.settle).await;
        Some(mib(rss_kib(pid)?))
    } else {
        None
    };

    kill(Pid::from_raw(pid as i32), Signal::SIGTERM)?;
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait()).await??;

    let mut sorted = busy_rss.clone();
    sorted.sort_unstable();
    Ok(ProcessReport {
        binary: config
            .binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        memory: Memory {
            idle_mib: mib(idle),
            busy_peak_mib: sorted.last().map(|k| mib(*k)),
            busy_median_mib: sorted.get(sorted.len() / 2).map(|k| mib(*k)),
            idle_after_mib: idle_after,
        },
        pickup,
        busy,
        exit_code: status.code(),
    })
}

fn spawn(config: &ProcessConfig, store: &Path, worker_id: &str) -> BenchResult<Child> {
    let mut cmd = Command::new(&config.binary);
    cmd.arg("--store")
        .arg(store)
        .args(["--worker-id", worker_id])
        .args(&config.extra_args)
        .env_remove("QUEUE_HANDLERS")
        .env_remove("QUEUE_STORE")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    cmd.spawn().map_err(|e| {
        format!(
            "cannot run {} (build it with cargo build --release): {e}",
            config.binary.display()
        )
        .into()
    })
}

async fn wait_for_object(
    bucket: &Bucket,
    name: &str,
    timeout: Duration,
    child: &mut Child,
) -> BenchResult<()> {
    let start = Instant::now();
    loop {
        if bucket.exists(name).await? {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!("the worker exited before it started: {status}").into());
        }
        if start.elapsed() > timeout {
            return Err(format!("no {name} within {timeout:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Enqueue one echo task at a time, each 1.1–1.6 s after the previous one finished, and
/// measure created_at → started_at of its attempt.
pub async fn pickup_latencies(
    queue: &Queue,
    class: Class,
    samples: usize,
) -> BenchResult<Vec<f64>> {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        tokio::time::sleep(Duration::from_secs_f64(rng.random_range(1.1..1.6))).await;
        let task = queue
            .enqueue(EnqueueRequest::new(class, ECHO, json!({ "pickup": i })))
            .await?;
        let envelope = wait_done(queue.bucket(), class, task.id, Duration::from_secs(60)).await?;
        out.push(pickup_ms(&envelope)?);
    }
    Ok(out)
}

/// created_at → the first attempt's started_at, in milliseconds.
pub fn pickup_ms(envelope: &Envelope) -> BenchResult<f64> {
    let attempt = envelope
        .attempts
        .first()
        .ok_or("a done task without attempts")?;
    let delta = attempt.started_at - envelope.created_at;
    Ok(delta.num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0)
}

async fn wait_done(
    bucket: &Bucket,
    class: Class,
    id: TaskId,
    timeout: Duration,
) -> BenchResult<Envelope> {
    let name = names::done(class, id);
    let start = Instant::now();
    loop {
        if let Some(object) = bucket.get(&name).await? {
            return Ok(Envelope::from_json(&object.bytes)?);
        }
        if start.elapsed() > timeout {
            return Err(format!("task {id} not done within {timeout:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn busy_stream(
    queue: &Queue,
    config: &ProcessConfig,
    pid: u32,
) -> BenchResult<(Busy, Vec<u64>)> {
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while sampling.load(Ordering::Relaxed) {
                if let Ok(kib) = rss_kib(pid) {
                    samples.push(kib);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            samples
        })
    };
    let total = config.busy_rate as usize * config.busy_seconds as usize;
    let mut tick = tokio::time::interval(Duration::from_secs(1) / config.busy_rate);
    let start = Instant::now();
    let mut ids = Vec::with_capacity(total);
    for i in 0..total {
        tick.tick().await;
        let task = queue
            .enqueue(EnqueueRequest::new(
                config.class,
                ECHO,
                json!({ "busy": i }),
            ))
            .await?;
        ids.push(task.id);
    }
    // The last task done means the stream is through (one slot: tasks finish in order, and a
    // straggler is caught by the check below).
    let mut all_done = true;
    for id in ids.iter().rev().take(1) {
        all_done &= wait_done(queue.bucket(), config.class, *id, Duration::from_secs(120))
            .await
            .is_ok();
    }
    let seconds = start.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    let samples = sampler.await?;
    let stats = queue_core::inspect::stats(queue.bucket()).await?;
    let class_stats = match config.class {
        Class::Heavy => stats.heavy,
        Class::Light => stats.light,
    };
    all_done &= class_stats.pending == 0 && class_stats.running == 0;
    Ok((
        Busy {
            tasks: total,
            seconds: (seconds * 1000.0).round() / 1000.0,
            all_done,
        },
        samples,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration as ChronoDuration, TimeZone, Utc};
    use queue_core::task::{Attempt, AttemptOutcome};

    #[test]
    fn pickup_is_created_to_first_attempt_start() {
        let t0 = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let mut envelope: Envelope = serde_json::from_value(json!({
            "schema": 1, "id": "0190b8d2-7c4e-7a3f-8000-000000000001", "class": "light",
            "kind": "echo", "payload": null, "created_at": t0, "due_at": t0, "attempt": 1,
            "max_attempts": 5, "epoch": 2, "attempts": []
        }))
        .unwrap();
        assert!(pickup_ms(&envelope).is_err());
        envelope.attempts.push(Attempt {
            number: 1,
            epoch: 1,
            worker: "w".into(),
            started_at: t0 + ChronoDuration::microseconds(87_500),
            ended_at: None,
            outcome: Some(AttemptOutcome::Done),
            error: None,
            extra: Default::default(),
        });
        assert_eq!(pickup_ms(&envelope).unwrap(), 87.5);
    }
}
