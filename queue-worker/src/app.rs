//! Wiring: read the config, build the components, run until shut down. Exit codes: 0 after a
//! clean shutdown, 2 for a configuration the worker refuses (flags, handlers or schedules file,
//! a clock that is off), 1 when the store cannot be used.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use queue_core::schedule::SchedulerSettings;
use queue_core::store::{StoreEnv, StoreUrl};
use queue_core::{Bucket, Queue, SystemClock};

use crate::alerts::{self, Alerter};
use crate::config::{Cli, Defaults, WorkerConfig, hostname};
use crate::discovery::Discovery;
use crate::handlers::Handlers;
use crate::metrics::{self, WorkerMetrics};
use crate::notify::{Notifier, TelegramNotifier};
use crate::presence::{Identity, PresenceKeeper};
use crate::runner::Worker;
use crate::{scheduler, shutdown, wake};

/// The whole program: build a runtime that fits the worker (one thread for worker-light) and
/// [`run`] on it.
pub fn main(defaults: Defaults) -> ExitCode {
    let mut builder = if defaults.runtime_threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(defaults.runtime_threads);
        b
    };
    // Local-directory stores do file I/O on blocking threads: keep that pool small.
    let runtime = builder
        .enable_all()
        .max_blocking_threads(8)
        .thread_keep_alive(Duration::from_secs(10))
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(run(defaults)),
        Err(e) => {
            eprintln!("{}: cannot start the async runtime: {e}", defaults.binary);
            ExitCode::FAILURE
        }
    }
}

/// Parse flags and environment, then serve until SIGTERM/SIGINT.
pub async fn run(defaults: Defaults) -> ExitCode {
    let cli = Cli::parse_for(&defaults);
    process_shell::logging::init(cli.log_format, "info");
    let config = match cli.into_config(&defaults) {
        Ok(config) => config,
        Err(message) => {
            tracing::error!("{message}");
            return ExitCode::from(2);
        }
    };
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            tracing::error!("{}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

/// Why the worker could not run.
#[derive(Debug)]
pub struct Failure {
    /// The process exit code.
    pub code: u8,
    /// What to tell the operator.
    pub message: String,
}

impl Failure {
    fn config(message: impl std::fmt::Display) -> Self {
        Failure {
            code: 2,
            message: message.to_string(),
        }
    }
    fn runtime(message: impl std::fmt::Display) -> Self {
        Failure {
            code: 1,
            message: message.to_string(),
        }
    }
}

/// Build everything from `config` and run until shut down; results go to Telegram when
/// `TELEGRAM_BOT_TOKEN` is set (see [`TelegramNotifier::from_env`]).
pub async fn serve(config: WorkerConfig) -> Result<(), Failure> {
    let notifier = TelegramNotifier::from_env()
        .map_err(Failure::config)?
        .map(|n| Arc::new(n) as Arc<dyn Notifier>);
    serve_with_notifier(config, notifier).await
}

/// [`serve`] with the notifier given instead of read from the environment (`queuectl dev`
/// points it at its local Bot API).
pub async fn serve_with_notifier(
    config: WorkerConfig,
    notifier: Option<Arc<dyn Notifier>>,
) -> Result<(), Failure> {
    let handlers = match &config.handlers {
        Some(path) => Handlers::load(path).map_err(Failure::config)?,
        None => {
            tracing::info!(
                "no handlers file (--handlers / QUEUE_HANDLERS): only the built-in echo handler"
            );
            Handlers::builtin_only()
        }
    };
    let bucket = Bucket::open(&config.store, &StoreEnv::from_env())
        .await
        .map_err(Failure::runtime)?;
    // Counting the store's requests only when someone will read them.
    let (bucket, worker_metrics) = match config.metrics_addr {
        Some(_) => WorkerMetrics::counting(&bucket),
        None => (bucket, WorkerMetrics::new()),
    };
    let worker_metrics = Arc::new(worker_metrics);
    let metrics_listener = match config.metrics_addr {
        Some(addr) => Some(metrics::bind(addr).await.map_err(Failure::config)?),
        None => None,
    };
    let clock = Arc::new(SystemClock);
    let alerter = Alerter::from_env(notifier.clone(), clock.clone())
        .map_err(Failure::config)?
        .map(Arc::new);
    let clock_for_wake: Arc<dyn queue_core::Clock> = clock.clone();
    let queue = Arc::new(Queue::new(
        bucket.clone(),
        clock.clone(),
        config.settings.clone(),
    ));
    let worker = Worker::new(
        queue.clone(),
        config.class,
        config.worker_id.clone(),
        handlers.clone(),
    )
    .with_concurrency(config.concurrency)
    .with_exec(config.exec.clone())
    .with_notifier(notifier.clone())
    .with_metrics(worker_metrics.clone())
    .with_alerter(alerter.clone())
    .with_handler_env(handler_env(&config.store));
    let worker = Arc::new(worker);

    let keeper = PresenceKeeper::new(
        bucket.clone(),
        clock,
        Identity {
            worker_id: config.worker_id.clone(),
            class: config.class,
            host: hostname(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            concurrency: config.concurrency,
            kinds: handlers.kinds(),
        },
        config.presence_every,
        worker.tasks(),
    );
    if config.store_is_memory {
        keeper.publish(true).await.map_err(Failure::runtime)?;
    } else {
        let offset = keeper
            .publish_and_check_clock(config.settings.max_clock_skew)
            .await
            .map_err(|e| match e {
                crate::presence::ClockError::Skewed { .. } => Failure::config(e),
                crate::presence::ClockError::Store(_) => Failure::runtime(e),
            })?;
        tracing::debug!(
            offset_ms = offset.num_milliseconds(),
            "clock agrees with the store"
        );
    }

    let stop = shutdown::listen(worker.groups())
        .map_err(|e| Failure::runtime(format!("cannot listen for signals: {e}")))?;
    let scheduler = if config.scheduler {
        if let Some(file) = &config.schedules {
            scheduler::upsert_file(&queue, file)
                .await
                .map_err(Failure::config)?;
        }
        let settings = SchedulerSettings {
            refresh_every: config.schedule_refresh,
            ..SchedulerSettings::default()
        };
        let inline = scheduler::InlineHandlers::new(worker.clone(), stop.clone());
        let owner = scheduler::owner_id(&config.worker_id, queue.clock().now());
        Some(scheduler::spawn_with_inline(
            queue.clone(),
            settings,
            Some((inline, owner)),
            stop.clone(),
        ))
    } else {
        None
    };
    let presence = tokio::spawn(keeper.clone().run(stop.clone()));
    let metrics_server = metrics_listener.map(|listener| {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "metrics listening on http://{addr}/metrics");
        }
        tokio::spawn(metrics::serve(listener, worker_metrics, stop.clone()))
    });
    // worker-heavy (awake) watches the always-on VM: one listing of workers/ per presence turn.
    let watch = match (&alerter, config.class) {
        (Some(alerter), queue_core::Class::Heavy) => Some(tokio::spawn(alerts::watch(
            bucket.clone(),
            alerter.clone(),
            config.worker_id.clone(),
            config.presence_every,
            stop.clone(),
        ))),
        _ => None,
    };

    tracing::info!(
        worker_id = %config.worker_id,
        class = %config.class,
        store = %bucket.description(),
        concurrency = config.concurrency,
        kinds = %handlers.kinds().join(","),
        scheduler = config.scheduler,
        telegram = notifier.is_some(),
        wake = %config.wake,
        "{} started",
        config.binary
    );
    let (wakes, _resumes) = wake::start(
        &config.wake,
        &StoreUrl::parse(&config.store).map_err(Failure::config)?,
        config.class,
        &std::env::vars().collect(),
        clock_for_wake,
        stop.clone(),
    )
    .map_err(Failure::config)?;
    let discovery = Discovery::new(
        config.class,
        config.worker_id.clone(),
        config.discovery.clone(),
        &queue,
    )
    .with_wakes(wakes);
    worker.run(discovery, stop, config.grace).await;

    let _ = presence.await;
    if let Some(server) = metrics_server {
        let _ = server.await;
    }
    if let Some(watch) = watch {
        let _ = watch.await;
    }
    if let Some(scheduler) = scheduler {
        let _ = scheduler.await;
    }
    if let Err(e) = keeper.publish(false).await {
        tracing::warn!(error = %e, "could not mark presence stopped");
    }
    tracing::info!(worker_id = %config.worker_id, "stopped cleanly");
    Ok(())
}

/// What every handler gets on top of the worker's environment: `QUEUE_STORE` (the store
/// this worker serves) and, unless set already, `QUEUECTL` when a `queuectl` program sits next
/// to this one (the example routine jobs read the bucket through it).
fn handler_env(store: &str) -> Vec<(String, String)> {
    let mut env = vec![("QUEUE_STORE".to_string(), store_for_handlers(store))];
    if std::env::var_os("QUEUECTL").is_none() {
        let sibling = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.join("queuectl")))
            .filter(|path| path.is_file());
        if let Some(path) = sibling {
            env.push(("QUEUECTL".to_string(), path.display().to_string()));
        }
    }
    env
}

/// The store as handlers see it (`QUEUE_STORE`): a local directory made absolute, since
/// handlers run in their own working directory.
fn store_for_handlers(store: &str) -> String {
    if store.contains("://") {
        return store.to_string();
    }
    std::path::absolute(store)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| store.to_string())
}
