//! The `ingress` binary's front end: flags, environment, logging, and the two commands
//! (`serve`, the default, and `set-webhook`). Everything read here is turned into plain values
//! ([`AppState`], [`Limits`]) before the library sees it.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use process_shell::LogFormat;
use queue_core::store::StoreEnv;
use queue_core::{Bucket, Queue, Settings, SystemClock};
use url::Url;

use crate::classify::Rules;
use crate::metrics::IngressMetrics;
use crate::reply::Lang;
use crate::secret::Secret;
use crate::state::{AppState, Limits, TelegramState};
use crate::telegram::bot::TeloxideBot;

const ENV_HELP: &str = "\
Secrets (environment only, never flags; never logged):
  TELEGRAM_BOT_TOKEN       Bot API token from @BotFather. Unset: /telegram/webhook is off
                           (with a warning), e.g. for `queuectl dev` without Telegram.
  TELEGRAM_WEBHOOK_SECRET  Required with a bot token. Telegram sends it back in
                           X-Telegram-Bot-Api-Secret-Token; 1-256 of A-Z a-z 0-9 _ -.
  INGRESS_API_TOKEN        Required. Scripts send it as `Authorization: Bearer …` to
                           POST /v1/tasks and GET /metrics; people type it once to
                           log in to the web console at /ui.

Also read: TELEGRAM_ALLOWED_CHAT_IDS (required with a bot token), RUST_LOG (log filter,
default info), LOG_FORMAT=json|text (--log-format), and the store
variables (STORAGE_EMULATOR_HOST, GOOGLE_APPLICATION_CREDENTIALS, AWS_*).";

/// `ingress [serve] [OPTIONS]` or `ingress set-webhook --url URL`.
#[derive(Debug, Parser)]
#[command(
    name = "ingress",
    version,
    about = "Telegram webhook and HTTP API that turn requests into queued tasks",
    after_help = ENV_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTP (the default when no command is given).
    Serve(ServeArgs),
    /// Register the webhook with Telegram: URL, secret token, update types, command menu.
    SetWebhook(SetWebhookArgs),
}

/// Flags of `ingress serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The queue store: a directory, file://…, gs://bucket[/prefix], s3://bucket[/prefix] or
    /// memory://.
    #[arg(long, env = "QUEUE_STORE", default_value = "./queue-data")]
    pub store: String,
    /// The port to listen on (Cloud Run sets PORT). 0 picks a free port.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on.
    #[arg(long, env = "INGRESS_BIND", default_value = "0.0.0.0")]
    pub bind: IpAddr,
    /// Classification rules (TOML); default: the compiled-in ingress/classify.toml.
    #[arg(long, env = "INGRESS_RULES")]
    pub rules: Option<PathBuf>,
    /// Reply language: ko or en.
    #[arg(long, env = "INGRESS_LANG", default_value = "ko")]
    pub lang: Lang,
    /// Telegram chats allowed in, comma-separated (e.g. 123456789,-1001234567890).
    #[arg(long, env = "TELEGRAM_ALLOWED_CHAT_IDS", allow_hyphen_values = true)]
    pub allowed_chat_ids: Option<String>,
    /// Bot API base URL, for a local Bot API server or tests (default: Telegram's).
    #[arg(long, env = "TELEGRAM_API_URL")]
    pub telegram_api_url: Option<Url>,
    /// Largest request body in bytes; larger ones get 413.
    #[arg(long, env = "INGRESS_BODY_LIMIT", default_value_t = 1 << 20)]
    pub body_limit: usize,
    /// Longest a request may take (e.g. 30s); slower ones get 408.
    #[arg(long, env = "INGRESS_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// How old the task counts of GET /metrics may get before a scrape lists the bucket again
    /// (9 Class A listings on GCS, more past 1,000 tasks in a state); at least 1m.
    #[arg(long, env = "INGRESS_METRICS_REFRESH", default_value = "1m", value_parser = parse_duration)]
    pub metrics_refresh: Duration,
    /// Log format [default: text on a terminal, json (Cloud Logging's format) otherwise].
    #[arg(long, env = "LOG_FORMAT", value_name = "FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Rewrite `{class}/wake.json` after each enqueue for workers that poll it (one Class A
    /// write per task). Set false when the workers get push wake-ups (`--wake pubsub:…`):
    /// the bucket's notification wakes them and the write is wasted.
    #[arg(long, env = "QUEUE_WAKE_WRITES", default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub wake_writes: bool,
}

/// Flags of `ingress set-webhook`.
#[derive(Debug, Clone, Args)]
struct SetWebhookArgs {
    /// The public HTTPS URL of POST /telegram/webhook.
    #[arg(long)]
    url: Url,
    /// Drop updates Telegram holds for the bot.
    #[arg(long)]
    drop_pending: bool,
    /// Bot API base URL (default: Telegram's).
    #[arg(long, env = "TELEGRAM_API_URL")]
    telegram_api_url: Option<Url>,
    /// Language of the command menu: ko or en.
    #[arg(long, env = "INGRESS_LANG", default_value = "ko")]
    lang: Lang,
}

use process_shell::parse_duration;

/// A setting that prevents the start, naming the flag or variable to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    /// The variable or flag.
    pub setting: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

fn config_error(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

/// Reads the secrets from the environment (a function so tests can pass a map).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn secret(env: EnvLookup<'_>, name: &str) -> Option<Secret> {
    env(name)
        .filter(|v| !v.trim().is_empty())
        .map(|v| Secret::new(v.trim()))
}

/// Parse `TELEGRAM_ALLOWED_CHAT_IDS`.
pub fn parse_chat_ids(s: &str) -> Result<BTreeSet<i64>, ConfigError> {
    let mut out = BTreeSet::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id = part.parse::<i64>().map_err(|_| {
            config_error(
                "TELEGRAM_ALLOWED_CHAT_IDS",
                format!("not a chat id: {part:?} (comma-separated integers such as 123456789,-1001234567890)"),
            )
        })?;
        out.insert(id);
    }
    Ok(out)
}

fn webhook_secret(env: EnvLookup<'_>) -> Result<Secret, ConfigError> {
    let s = secret(env, "TELEGRAM_WEBHOOK_SECRET").ok_or_else(|| {
        config_error(
            "TELEGRAM_WEBHOOK_SECRET",
            "not set; it is required with TELEGRAM_BOT_TOKEN (Telegram sends it back in X-Telegram-Bot-Api-Secret-Token)",
        )
    })?;
    let v = s.expose();
    if v.len() > 256
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(config_error(
            "TELEGRAM_WEBHOOK_SECRET",
            "must be 1-256 of A-Z a-z 0-9 _ - (Telegram's rule)",
        ));
    }
    Ok(s)
}

/// Build the state from flags and environment: the parts that need no I/O. The queue is
/// passed in (opened by the caller).
pub fn build_state(
    args: &ServeArgs,
    env: EnvLookup<'_>,
    queue: Arc<Queue>,
) -> Result<AppState, ConfigError> {
    let rules = match &args.rules {
        Some(path) => {
            Rules::load(path).map_err(|e| config_error("INGRESS_RULES", e.to_string()))?
        }
        None => Rules::builtin(),
    };
    let api_token = secret(env, "INGRESS_API_TOKEN").ok_or_else(|| {
        config_error(
            "INGRESS_API_TOKEN",
            "not set; scripts send it as `Authorization: Bearer …` to POST /v1/tasks",
        )
    })?;
    let limits = Limits {
        body_bytes: args.body_limit,
        request_timeout: args.request_timeout,
        ..Limits::default()
    };
    let mut state = AppState::new(queue)
        .with_rules(rules)
        .with_lang(args.lang)
        .with_limits(limits)
        .with_api_token(api_token);
    match secret(env, "TELEGRAM_BOT_TOKEN") {
        None => {
            tracing::warn!("TELEGRAM_BOT_TOKEN is not set: /telegram/webhook is disabled");
        }
        Some(token) => {
            let webhook_secret = webhook_secret(env)?;
            let allowed = parse_chat_ids(args.allowed_chat_ids.as_deref().unwrap_or(""))?;
            if allowed.is_empty() {
                return Err(config_error(
                    "TELEGRAM_ALLOWED_CHAT_IDS",
                    "not set; with a bot token, list the chats allowed in (messages from others are dropped)",
                ));
            }
            let bot = TeloxideBot::new(token, args.telegram_api_url.clone())
                .map_err(|e| config_error("TELEGRAM_BOT_TOKEN", e.to_string()))?;
            state = state.with_telegram(TelegramState {
                bot: Arc::new(bot),
                webhook_secret,
                allowed_chats: allowed,
            });
        }
    }
    Ok(state)
}

/// The binary: parse flags, run the command, map failures to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // JSON with Cloud Logging's `severity` on Cloud Run (stderr is not a terminal there)
    let log_format = match &cli.command {
        Some(Command::Serve(args)) => args.log_format,
        Some(Command::SetWebhook(_)) => None,
        None => cli.serve.log_format,
    };
    process_shell::logging::init(log_format, "info");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ingress: error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let env = |name: &str| std::env::var(name).ok();
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::SetWebhook(args)) => set_webhook(args, &env).await,
            Some(Command::Serve(args)) => serve(args, &env).await,
            None => serve(cli.serve, &env).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ingress: error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The protocol settings the ingress enqueues with.
fn settings(args: &ServeArgs) -> Settings {
    Settings {
        wake_writes: args.wake_writes,
        ..Settings::default()
    }
}

async fn serve(args: ServeArgs, env: EnvLookup<'_>) -> Result<(), Box<dyn std::error::Error>> {
    let bucket = Bucket::open(&args.store, &StoreEnv::from_env())
        .await
        .map_err(|e| config_error("QUEUE_STORE", e.to_string()))?;
    let (bucket, metrics) = IngressMetrics::counting(&bucket);
    let queue = Arc::new(Queue::new(bucket, Arc::new(SystemClock), settings(&args)));
    let state = build_state(&args, env, queue)?
        .with_metrics(metrics.with_refresh_every(args.metrics_refresh));
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.bind, args.port))
        .await
        .map_err(|e| {
            config_error(
                "PORT",
                format!("cannot listen on {}:{}: {e}", args.bind, args.port),
            )
        })?;
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        store = %state.queue.bucket().description(),
        telegram = state.telegram.is_some(),
        lang = %state.lang,
        "ingress listening"
    );
    // A plain line on stdout for scripts and tests that started us with PORT=0.
    println!("ingress listening on http://{addr}");
    crate::serve(listener, state, async {
        process_shell::signals::first().await;
    })
    .await?;
    tracing::info!("ingress stopped");
    Ok(())
}

async fn set_webhook(
    args: SetWebhookArgs,
    env: EnvLookup<'_>,
) -> Result<(), Box<dyn std::error::Error>> {
    let token = secret(env, "TELEGRAM_BOT_TOKEN").ok_or_else(|| {
        config_error(
            "TELEGRAM_BOT_TOKEN",
            "not set; it is needed to call setWebhook",
        )
    })?;
    let secret = webhook_secret(env)?;
    let bot = TeloxideBot::new(token, args.telegram_api_url)?;
    let done =
        crate::telegram::register::register(&bot, args.url, &secret, args.drop_pending, args.lang)
            .await?;
    println!("webhook set for @{}: {}", done.username, done.url);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_ids_parse_and_errors_name_the_variable() {
        assert_eq!(
            parse_chat_ids(" 1, -100200 ,")
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>(),
            vec![-100200, 1]
        );
        let e = parse_chat_ids("1,abc").unwrap_err();
        assert!(
            e.to_string().starts_with("TELEGRAM_ALLOWED_CHAT_IDS: "),
            "{e}"
        );
    }

    #[test]
    fn wake_writes_are_on_by_default_and_off_for_push_wake_ups() {
        let on = Cli::parse_from(["ingress"]).serve;
        assert!(settings(&on).wake_writes);
        let off = Cli::parse_from(["ingress", "--wake-writes", "false"]).serve;
        assert!(!settings(&off).wake_writes);
        assert!(Cli::try_parse_from(["ingress", "--wake-writes", "maybe"]).is_err());
    }

    #[test]
    fn missing_secrets_are_named() {
        let args = Cli::parse_from(["ingress"]).serve;
        let queue = Arc::new(Queue::new(
            Bucket::memory(),
            Arc::new(SystemClock),
            Settings::default(),
        ));
        let none = |_: &str| None;
        let e = build_state(&args, &none, queue.clone()).unwrap_err();
        assert_eq!(e.setting, "INGRESS_API_TOKEN");
        let only_bot = |k: &str| match k {
            "INGRESS_API_TOKEN" => Some("t".to_string()),
            "TELEGRAM_BOT_TOKEN" => Some("1:x".to_string()),
            _ => None,
        };
        let e = build_state(&args, &only_bot, queue.clone()).unwrap_err();
        assert_eq!(e.setting, "TELEGRAM_WEBHOOK_SECRET");
        let with_secret = |k: &str| match k {
            "TELEGRAM_WEBHOOK_SECRET" => Some("s3cret".to_string()),
            other => only_bot(other),
        };
        let e = build_state(&args, &with_secret, queue.clone()).unwrap_err();
        assert_eq!(e.setting, "TELEGRAM_ALLOWED_CHAT_IDS");
        let api_only = |k: &str| (k == "INGRESS_API_TOKEN").then(|| "t".to_string());
        let state = build_state(&args, &api_only, queue).unwrap();
        assert!(state.telegram.is_none());
    }
}
