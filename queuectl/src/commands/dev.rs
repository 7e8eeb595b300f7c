//! `queuectl dev`: the whole system in one process on one store — the ingress on
//! 127.0.0.1:8080, worker-heavy, worker-light with the scheduler, and the example handlers
//! and schedules, the web console at `/ui` and the dev chat at `/ui/chat` (messages through
//! the real webhook; the bot's answers, the ingress's and the workers', recorded by a local
//! Bot API on the same port) — then a few lines saying what to try. Ctrl-C (or SIGTERM) stops it all:
//! the ingress finishes its requests, the workers let running handlers finish within their
//! grace period and release the rest.
//!
//! The workers are the real ones (`queue_worker::app::serve`), configured through their own
//! command line, so `dev` behaves like the deployed binaries. Each opens the store by URL,
//! which is why `memory://` (one store per opener) is refused here.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ingress::console::chat::{DEV_BOT_TOKEN, DevChat};
use queue_core::store::StoreUrl;
use queue_core::{Queue, Settings, SystemClock};
use queue_worker::notify::{Notifier, TelegramNotifier};
use queue_worker::{Defaults, Handlers, WorkerConfig};
use tokio::task::JoinSet;

use crate::cli::DevArgs;
use crate::context::{Access, Ctx};
use crate::exit::{CliError, Exit};

const EXAMPLE_HANDLERS: &str = "examples/handlers.toml";
const EXAMPLE_SCHEDULES: &str = "examples/schedules.toml";

/// Run everything until a signal.
pub async fn run(store: &str, args: DevArgs) -> Result<(), CliError> {
    let url = StoreUrl::parse(store).map_err(|e| CliError::new(Exit::Usage, e.message()))?;
    if url == StoreUrl::Memory {
        return Err(CliError::new(
            Exit::Usage,
            "dev needs a store its workers can share: a directory (the default ./queue-data), gs:// or s3://, not memory://",
        ));
    }
    let handlers = default_file(args.handlers.clone(), EXAMPLE_HANDLERS);
    let schedules = if args.no_schedules {
        None
    } else {
        default_file(args.schedules.clone(), EXAMPLE_SCHEDULES)
    };
    // Check the files before starting anything: a typo is a usage error, not a half-started
    // system.
    let kinds = match &handlers {
        Some(path) => Handlers::load(path)
            .map_err(|e| CliError::new(Exit::Usage, e.to_string()))?
            .kinds(),
        None => Handlers::builtin_only().kinds(),
    };
    if let Some(path) = &schedules {
        queue_core::schedule::load_file(path, chrono::Utc::now())
            .map_err(|e| CliError::new(Exit::Usage, e.message()))?;
    }
    let ctx = Ctx::open(store, Access::Write, false).await?;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| {
            CliError::new(
                Exit::Error,
                format!("cannot listen on {}: {e}", args.listen),
            )
            .hint("pick another address with --listen 127.0.0.1:PORT")
        })?;
    let addr = listener.local_addr().map_err(|e| {
        CliError::new(
            Exit::Error,
            format!("cannot read the listening address: {e}"),
        )
    })?;
    let queue = Arc::new(Queue::new(
        ctx.bucket().clone(),
        Arc::new(SystemClock),
        Settings::default(),
    ));
    let chat = Arc::new(DevChat::new(
        &format!("http://{addr}"),
        ingress::Secret::new(format!("dev-{:016x}", rand_u64())),
    ));
    let telegram = chat
        .telegram_state()
        .map_err(|e| CliError::new(Exit::Error, format!("cannot set up the dev chat: {e}")))?;
    let notifier = TelegramNotifier::new(DEV_BOT_TOKEN, Some(chat.api_url()))
        .map_err(|e| CliError::new(Exit::Error, format!("cannot set up the dev chat: {e}")))?;
    let notifier: Arc<dyn Notifier> = Arc::new(notifier);
    let state = ingress::AppState::new(queue)
        .with_api_token(ingress::Secret::new(args.token.clone()))
        .with_telegram(telegram)
        .with_dev_chat(chat);
    let heavy = worker_config(Defaults::heavy(), store, "dev-heavy", &handlers, None)?;
    let light = worker_config(
        Defaults::light(),
        store,
        "dev-light",
        &handlers,
        schedules.as_deref(),
    )?;

    // Each part ends by itself at the first SIGINT/SIGTERM (each listens for it).
    let mut parts: JoinSet<(&'static str, Result<(), String>)> = JoinSet::new();
    parts.spawn(async move {
        let done = ingress::serve(listener, state, async {
            process_shell::signals::first().await;
        })
        .await;
        ("ingress", done.map_err(|e| e.to_string()))
    });
    for (name, config) in [("dev-heavy", heavy), ("dev-light", light)] {
        let notifier = notifier.clone();
        parts.spawn(async move {
            let done = queue_worker::app::serve_with_notifier(config, Some(notifier)).await;
            (name, done.map_err(|f| f.message))
        });
    }
    print_banner(store, addr, &args.token, &handlers, &schedules, &kinds);

    while let Some(joined) = parts.join_next().await {
        let (name, done) = joined
            .map_err(|e| CliError::new(Exit::Error, format!("a part of dev crashed: {e}")))?;
        if let Err(message) = done {
            // returning drops the runtime, which stops the other parts
            return Err(CliError::new(
                Exit::Error,
                format!("{name} stopped: {message}"),
            ));
        }
    }
    eprintln!("queuectl dev: stopped");
    Ok(())
}

/// A random number for the webhook secret (from the clock and the process id: it only has
/// to differ between runs, the endpoint is on loopback).
fn rand_u64() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

/// `given`, or the example file when it exists in the current directory.
fn default_file(given: Option<PathBuf>, example: &str) -> Option<PathBuf> {
    given.or_else(|| Some(PathBuf::from(example)).filter(|p| p.is_file()))
}

/// A worker configured through its own command line, as the deployed binaries are.
fn worker_config(
    defaults: Defaults,
    store: &str,
    worker_id: &str,
    handlers: &Option<PathBuf>,
    schedules: Option<&Path>,
) -> Result<WorkerConfig, CliError> {
    let mut argv: Vec<String> = vec![
        defaults.binary.into(),
        "--store".into(),
        store.into(),
        "--worker-id".into(),
        worker_id.into(),
    ];
    if let Some(path) = handlers {
        argv.extend(["--handlers".into(), path.display().to_string()]);
    }
    if let Some(path) = schedules {
        argv.extend(["--schedules".into(), path.display().to_string()]);
    }
    let cli = queue_worker::config::Cli::try_parse_from_for(&defaults, &argv)
        .map_err(|e| CliError::new(Exit::Usage, format!("{}: {e}", defaults.binary)))?;
    cli.into_config(&defaults)
        .map_err(|e| CliError::new(Exit::Usage, format!("{}: {e}", defaults.binary)))
}

fn print_banner(
    store: &str,
    addr: SocketAddr,
    token: &str,
    handlers: &Option<PathBuf>,
    schedules: &Option<PathBuf>,
    kinds: &[String],
) {
    let q = if store == "./queue-data" {
        "queuectl".to_string()
    } else {
        format!("queuectl --store {store}")
    };
    let kind = ["content-ideation", "echo"]
        .into_iter()
        .find(|k| kinds.iter().any(|have| have == k))
        .unwrap_or("echo");
    let handlers = handlers
        .as_ref()
        .map_or("built-in echo only".to_string(), |p| {
            p.display().to_string()
        });
    let schedules = schedules
        .as_ref()
        .map_or("none loaded".to_string(), |p| p.display().to_string());
    println!(
        "\
queuectl dev: the whole queue in one process
  store      {store}
  console    http://{addr}/ui       (log in with the token {token:?})
  chat       http://{addr}/ui/chat  (talk to the bot: messages go through the real webhook)
  ingress    http://{addr}  (GET /healthz, POST /v1/tasks with token {token:?})
  workers    dev-heavy (heavy), dev-light (light + scheduler)
  handlers   {handlers}: {kinds}
  schedules  {schedules}

Try:
  curl -s -X POST http://{addr}/v1/tasks \\
    -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\
    -d '{{\"class\":\"light\",\"kind\":\"{kind}\",\"payload\":{{\"count\":3}}}}'
  {q} ls
  {q} stats
  {q} show ID
  {q} workers
  {q} schedules ls
Ctrl-C stops everything.",
        kinds = kinds.join(", ")
    );
}
