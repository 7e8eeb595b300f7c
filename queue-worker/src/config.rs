//! Flags and environment. The binaries differ only in their [`Defaults`]; [`Cli`] is parsed
//! once and turned into a plain [`WorkerConfig`] that the rest of the crate takes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};
use queue_core::store::StoreUrl;
use queue_core::{Class, Settings};

use crate::discovery::DiscoverySettings;
use crate::exec::ExecSettings;
use crate::wake::WakeSpec;
use process_shell::LogFormat;

/// What makes worker-heavy and worker-light different.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// The class served.
    pub class: Class,
    /// The binary's name (in `--help` and logs).
    pub binary: &'static str,
    /// One line for `--help`.
    pub about: &'static str,
    /// Tasks run at once unless `--concurrency` says otherwise.
    pub concurrency: usize,
    /// Whether the scheduler runs unless `--scheduler` / `--no-scheduler` says otherwise.
    pub scheduler: bool,
    /// Runtime threads: 1 = a current-thread runtime (smallest memory).
    pub runtime_threads: usize,
    /// Background cadences on `gs://` and `s3://`, chosen so an idle worker stays within
    /// [`IDLE_CLASS_A_BUDGET`] Class A operations an hour (docs/workers.md).
    pub cloud: CloudCadence,
}

/// The most Class A operations (writes, listings) an idle worker spends per hour on a cloud
/// store with its defaults.
pub const IDLE_CLASS_A_BUDGET: u32 = 6;

/// How often an idle worker does each Class A thing on a cloud store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudCadence {
    /// Presence writes (`--presence-every`).
    pub presence_every: Duration,
    /// Safety-net listings of pending (`--list-every`).
    pub list_every: Duration,
    /// Reclaim passes (`--reclaim-every`).
    pub reclaim_every: Duration,
    /// Schedule-list refreshes when the scheduler runs (`--schedule-refresh`).
    pub schedule_refresh: Duration,
}

impl CloudCadence {
    /// Class A operations per idle hour with this cadence. The scheduler's refresh is a read
    /// of the change marker (Class B); it lists only when schedules changed, and once a day.
    pub fn class_a_per_hour(&self, scheduler: bool) -> f64 {
        let per_hour = |d: Duration| 3600.0 / d.as_secs_f64().max(1.0);
        per_hour(self.presence_every)
            + per_hour(self.list_every)
            + per_hour(self.reclaim_every)
            + if scheduler { 1.0 / 24.0 } else { 0.0 }
    }
}

impl Defaults {
    /// worker-heavy: the MacBook, several AI tasks in parallel, no scheduler.
    pub fn heavy() -> Self {
        Defaults {
            class: Class::Heavy,
            binary: "worker-heavy",
            about: "Claims and runs heavy tasks (the MacBook worker).",
            concurrency: 4,
            scheduler: false,
            runtime_threads: 2,
            // 3 presence + 2 listings + 1 reclaim = 6 Class A an idle hour. Presence is the
            // most frequent: it tells the ingress whether the MacBook is online.
            cloud: CloudCadence {
                presence_every: Duration::from_secs(20 * 60),
                list_every: Duration::from_secs(30 * 60),
                reclaim_every: Duration::from_secs(60 * 60),
                schedule_refresh: Duration::from_secs(5 * 60),
            },
        }
    }

    /// worker-light: the 1 GB VM, one task at a time, runs the schedules.
    pub fn light() -> Self {
        Defaults {
            class: Class::Light,
            binary: "worker-light",
            about: "Claims and runs light tasks and fires the schedules (the always-on VM worker).",
            concurrency: 1,
            scheduler: true,
            runtime_threads: 1,
            // 2 presence + 1 listing + 1 reclaim = 4 Class A an idle hour (the VM runs all
            // month); the scheduler adds 12 Class B reads an hour and a daily listing.
            cloud: CloudCadence {
                presence_every: Duration::from_secs(30 * 60),
                list_every: Duration::from_secs(60 * 60),
                reclaim_every: Duration::from_secs(60 * 60),
                schedule_refresh: Duration::from_secs(5 * 60),
            },
        }
    }
}

/// The command line. Every flag also reads an environment variable (shown in `--help`).
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Environment only (never flags, so they stay out of `ps`):\n  \
        TELEGRAM_BOT_TOKEN   bot token used to send results to the task's chat (none: no messages)\n  \
        TELEGRAM_API_URL     Bot API base URL (default https://api.telegram.org/)\n  \
        PUBSUB_EMULATOR_HOST host:port of a Pub/Sub emulator for --wake pubsub:… (plain HTTP, no credentials)\n  \
        RUST_LOG             log filter (default info)\n\n\
        Handler exit codes: 0 done, 75 retry later, 65 fail now (no retry), other: failed attempt.\n\
        See docs/workers.md."
)]
pub struct Cli {
    /// Where the queue lives: a directory path, file:///path, gs://bucket[/prefix],
    /// s3://bucket[/prefix] or memory:// (this process only).
    #[arg(
        long,
        env = "QUEUE_STORE",
        value_name = "URL",
        default_value = "./queue-data"
    )]
    pub store: String,

    /// The handlers file (TOML) mapping task kinds to commands. Without one only the built-in
    /// `echo` handler exists.
    #[arg(long, env = "QUEUE_HANDLERS", value_name = "FILE")]
    pub handlers: Option<PathBuf>,

    /// How many tasks run at once.
    #[arg(long, env = "QUEUE_CONCURRENCY", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// This worker's id in leases and under workers/ [default: {class}-{hostname}].
    #[arg(long, env = "QUEUE_WORKER_ID", value_name = "ID")]
    pub worker_id: Option<String>,

    /// How long a lease lasts without renewal; the heartbeat renews every third of it.
    #[arg(long, env = "QUEUE_LEASE_TTL", value_name = "DUR", default_value = "5m", value_parser = parse_duration)]
    pub lease_ttl: Duration,

    /// The largest clock difference tolerated between machines. A lease is taken over only
    /// this long after it expired; the worker refuses to start when its clock is off from the
    /// store's by more than half of it.
    #[arg(long, env = "QUEUE_MAX_CLOCK_SKEW", value_name = "DUR", default_value = "60s", value_parser = parse_duration)]
    pub max_clock_skew: Duration,

    /// First retry delay after a failed attempt; doubles every attempt, up to 1h.
    #[arg(long, env = "QUEUE_RETRY_BACKOFF", value_name = "DUR", default_value = "10s", value_parser = parse_duration)]
    pub retry_backoff: Duration,

    /// At SIGTERM/SIGINT, how long running handlers may take to finish before they are stopped
    /// and their tasks released back to pending.
    #[arg(long, env = "QUEUE_GRACE", value_name = "DUR", default_value = "30s", value_parser = parse_duration)]
    pub grace: Duration,

    /// When a handler is stopped (timeout, lost lease, shutdown), how long after SIGTERM its
    /// process group gets SIGKILL.
    #[arg(long, env = "QUEUE_KILL_GRACE", value_name = "DUR", default_value = "5s", value_parser = parse_duration)]
    pub kill_grace: Duration,

    /// First wake-up poll after work; doubles while idle up to --idle-poll
    /// [default: 1s on gs:// and s3://, 200ms on a directory or memory://].
    #[arg(long, env = "QUEUE_BUSY_POLL", value_name = "DUR", value_parser = parse_duration)]
    pub busy_poll: Option<Duration>,

    /// Longest wait between two reads of the wake-up object while idle (one Class B read each)
    /// [default: 30s on gs:// and s3://, 200ms on a directory or memory://].
    #[arg(long, env = "QUEUE_IDLE_POLL", value_name = "DUR", value_parser = parse_duration)]
    pub idle_poll: Option<Duration>,

    /// Safety net: list pending even without a wake-up this often (one Class A listing).
    #[arg(long, env = "QUEUE_LIST_EVERY", value_name = "DUR", value_parser = parse_duration)]
    pub list_every: Option<Duration>,

    /// How often to look for expired leases of crashed workers (one Class A listing). Also
    /// runs at start and once a lease TTL later.
    #[arg(long, env = "QUEUE_RECLAIM_EVERY", value_name = "DUR", value_parser = parse_duration)]
    pub reclaim_every: Option<Duration>,

    /// How often workers/{id}.json is rewritten (one Class A write).
    #[arg(long, env = "QUEUE_PRESENCE_EVERY", value_name = "DUR", value_parser = parse_duration)]
    pub presence_every: Option<Duration>,

    /// How an idle worker learns of new tasks: `fs` (filesystem events; a directory store),
    /// `pubsub:projects/P/subscriptions/S` (Cloud Storage notifications through Pub/Sub; gs://
    /// only: no wake-up reads, no wake-up writes, one safety-net listing an hour), or `poll`
    /// (read {class}/wake.json, backing off to --idle-poll). If the push source fails the
    /// worker polls until it is back [default: fs on a directory, poll otherwise].
    #[arg(long, env = "QUEUE_WAKE", value_name = "SOURCE", value_parser = WakeSpec::parse)]
    pub wake: Option<WakeSpec>,

    /// Log format [default: text on a terminal, json otherwise].
    #[arg(long, env = "QUEUE_LOG_FORMAT", value_name = "FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    /// Schedules file (TOML) upserted into the store at start (needs the scheduler).
    #[arg(long, env = "QUEUE_SCHEDULES", value_name = "FILE")]
    pub schedules: Option<PathBuf>,

    /// How often the scheduler checks for changed schedules (one Class B read of
    /// schedules/_changed.json; it lists only when that changed); a schedule added with
    /// queuectl starts firing within this time.
    #[arg(long, env = "QUEUE_SCHEDULE_REFRESH", value_name = "DUR", value_parser = parse_duration)]
    pub schedule_refresh: Option<Duration>,

    /// Serve Prometheus metrics on GET /metrics at this address (e.g. 127.0.0.1:9187). No
    /// token: keep it on a loopback or private address. A scrape costs no store request.
    /// [default: off]
    #[arg(long, env = "QUEUE_METRICS_ADDR", value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Run the scheduler in this worker.
    #[arg(long, action = ArgAction::SetTrue, overrides_with = "no_scheduler")]
    pub scheduler: bool,

    /// Do not run the scheduler in this worker.
    #[arg(long, action = ArgAction::SetTrue, overrides_with = "scheduler")]
    pub no_scheduler: bool,
}

impl Cli {
    /// Parse the process arguments with `defaults` filled in (exits on `--help` and errors).
    pub fn parse_for(defaults: &Defaults) -> Self {
        let matches = Self::command_for(defaults).get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }

    /// Parse `args` (the first is the program name) with `defaults` filled in.
    pub fn try_parse_from_for<I, T>(defaults: &Defaults, args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Self::command_for(defaults).try_get_matches_from(args)?;
        Cli::from_arg_matches(&matches)
    }

    /// The clap command with the binary's name, about line and defaults.
    pub fn command_for(defaults: &Defaults) -> clap::Command {
        let on = if defaults.scheduler { " [default]" } else { "" };
        let off = if defaults.scheduler { "" } else { " [default]" };
        Cli::command()
            .name(defaults.binary)
            .bin_name(defaults.binary)
            .about(defaults.about)
            .mut_arg("concurrency", |a| {
                // clap keeps defaults as &'static str; this runs once per process.
                let text: &'static str =
                    Box::leak(defaults.concurrency.to_string().into_boxed_str());
                a.default_value(text).required(false)
            })
            .mut_arg("list_every", |a| {
                with_store_default(a, defaults.cloud.list_every, "5s")
            })
            .mut_arg("reclaim_every", |a| {
                with_store_default(
                    a,
                    defaults.cloud.reclaim_every,
                    "half the lease TTL, at most 30s,",
                )
            })
            .mut_arg("presence_every", |a| {
                with_store_default(a, defaults.cloud.presence_every, "15s")
            })
            .mut_arg("schedule_refresh", |a| {
                with_store_default(a, defaults.cloud.schedule_refresh, "10s")
            })
            .mut_arg("scheduler", |a| {
                a.help(format!("Run the scheduler in this worker{on}"))
            })
            .mut_arg("no_scheduler", |a| {
                a.help(format!("Do not run the scheduler in this worker{off}"))
            })
    }

    /// Turn the flags into a [`WorkerConfig`], checking what clap cannot.
    pub fn into_config(self, defaults: &Defaults) -> Result<WorkerConfig, String> {
        let store_url = StoreUrl::parse(&self.store).map_err(|e| e.message().to_string())?;
        let worker_id = match self.worker_id {
            Some(id) => id,
            None => default_worker_id(defaults.class, &hostname()),
        };
        queue_core::names::validate_worker_id(&worker_id).map_err(|e| e.message().to_string())?;
        if self.lease_ttl < Duration::from_secs(1) {
            return Err(format!(
                "--lease-ttl must be at least 1s: lease_ttl={}",
                humantime::format_duration(self.lease_ttl)
            ));
        }
        let cloud = matches!(store_url, StoreUrl::Gcs { .. } | StoreUrl::S3 { .. });
        let wake = wake_for(&store_url, self.wake)?;
        let (base, presence_every, schedule_refresh) = if cloud {
            let c = &defaults.cloud;
            (
                DiscoverySettings {
                    list_every: c.list_every,
                    reclaim_every: c.reclaim_every,
                    ..DiscoverySettings::cloud()
                },
                c.presence_every,
                c.schedule_refresh,
            )
        } else {
            (
                DiscoverySettings::local(self.lease_ttl),
                Duration::from_secs(15),
                Duration::from_secs(10),
            )
        };
        let discovery = DiscoverySettings {
            busy_poll: self.busy_poll.unwrap_or(base.busy_poll),
            idle_poll: self.idle_poll.unwrap_or(base.idle_poll),
            list_every: self.list_every.unwrap_or(match wake {
                // notifications announce every task: the safety net can be slow
                WakeSpec::Pubsub { .. } => PUSH_LIST_EVERY.max(base.list_every),
                _ => base.list_every,
            }),
            reclaim_every: self.reclaim_every.unwrap_or(base.reclaim_every),
        }
        .validated()?;
        let presence_every = self.presence_every.unwrap_or(presence_every);
        let schedule_refresh = self.schedule_refresh.unwrap_or(schedule_refresh);
        let scheduler = if self.scheduler {
            true
        } else if self.no_scheduler {
            false
        } else {
            defaults.scheduler
        };
        if self.schedules.is_some() && !scheduler {
            return Err("--schedules needs the scheduler (drop --no-scheduler)".into());
        }
        let settings = Settings {
            lease_ttl: self.lease_ttl,
            max_clock_skew: self.max_clock_skew,
            backoff_base: self.retry_backoff,
            wake_writes: !matches!(wake, WakeSpec::Pubsub { .. }),
            ..Settings::default()
        };
        Ok(WorkerConfig {
            class: defaults.class,
            binary: defaults.binary,
            store: self.store,
            store_is_memory: store_url == StoreUrl::Memory,
            handlers: self.handlers,
            concurrency: usize::from(self.concurrency),
            worker_id,
            settings,
            grace: self.grace,
            exec: ExecSettings {
                kill_grace: self.kill_grace,
                ..ExecSettings::default()
            },
            discovery,
            presence_every,
            scheduler,
            schedules: self.schedules,
            schedule_refresh,
            wake,
            metrics_addr: self.metrics_addr,
        })
    }
}

/// The safety-net listing's default interval with Pub/Sub wake-ups.
pub const PUSH_LIST_EVERY: Duration = Duration::from_secs(60 * 60);

/// The wake-up source: the one asked for if the store supports it, else the store's default.
fn wake_for(store: &StoreUrl, asked: Option<WakeSpec>) -> Result<WakeSpec, String> {
    match (asked, store) {
        (None, StoreUrl::Local(_)) => Ok(WakeSpec::Fs),
        (None, _) => Ok(WakeSpec::Poll),
        (Some(WakeSpec::Fs), StoreUrl::Local(_)) => Ok(WakeSpec::Fs),
        (Some(WakeSpec::Fs), _) => {
            Err("--wake fs needs a directory store (use poll, or pubsub:… on gs://)".into())
        }
        (Some(spec @ WakeSpec::Pubsub { .. }), StoreUrl::Gcs { .. }) => Ok(spec),
        (Some(WakeSpec::Pubsub { .. }), _) => Err(
            "--wake pubsub:… needs a gs:// store (bucket notifications come from Cloud Storage)"
                .into(),
        ),
        (Some(WakeSpec::Poll), _) => Ok(WakeSpec::Poll),
    }
}

/// Everything a worker needs to start, as plain data.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The class served.
    pub class: Class,
    /// The binary's name.
    pub binary: &'static str,
    /// The store URL as given.
    pub store: String,
    /// Whether the store is `memory://` (no clock check: nothing to compare against).
    pub store_is_memory: bool,
    /// The handlers file, if any.
    pub handlers: Option<PathBuf>,
    /// Tasks at once.
    pub concurrency: usize,
    /// This worker's id.
    pub worker_id: String,
    /// Protocol settings (lease TTL, clock skew, retry backoff).
    pub settings: Settings,
    /// Shutdown grace period.
    pub grace: Duration,
    /// How handlers are run.
    pub exec: ExecSettings,
    /// Discovery cadence.
    pub discovery: DiscoverySettings,
    /// Presence cadence.
    pub presence_every: Duration,
    /// Whether the scheduler runs here.
    pub scheduler: bool,
    /// Schedules file to upsert at start.
    pub schedules: Option<PathBuf>,
    /// How often the scheduler re-reads the schedule list.
    pub schedule_refresh: Duration,
    /// How an idle worker learns of new tasks.
    pub wake: WakeSpec,
    /// Where to serve `GET /metrics`; `None`: no listener.
    pub metrics_addr: Option<SocketAddr>,
}

/// Append the store-dependent default to a flag's help.
fn with_store_default(arg: clap::Arg, cloud: Duration, local: &str) -> clap::Arg {
    let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
    arg.help(format!(
        "{help} [default: {} on gs:// and s3://, {local} on a directory or memory://]",
        humantime::format_duration(cloud)
    ))
}

/// `{class}-{hostname}`, cut and cleaned to a valid worker id.
pub fn default_worker_id(class: Class, host: &str) -> String {
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let host = host.trim_start_matches('.');
    let host = if host.is_empty() { "unknown" } else { host };
    let mut id = format!("{class}-{host}");
    id.truncate(64);
    id
}

/// The machine's host name (`unknown` if it cannot be read).
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Parse `30s`, `10m`, `2h`, `500ms` (the binaries' shared duration flag parser).
pub use process_shell::parse_duration;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(defaults: &Defaults, args: &[&str]) -> WorkerConfig {
        let mut argv = vec![defaults.binary];
        argv.extend_from_slice(args);
        Cli::try_parse_from_for(defaults, argv)
            .expect("flags parse")
            .into_config(defaults)
            .expect("config builds")
    }

    #[test]
    fn light_and_heavy_differ_only_in_their_defaults() {
        let light = parse(&Defaults::light(), &["--store", "memory://"]);
        let heavy = parse(&Defaults::heavy(), &["--store", "memory://"]);
        assert_eq!((light.concurrency, light.scheduler), (1, true));
        assert_eq!((heavy.concurrency, heavy.scheduler), (4, false));
        assert!(light.worker_id.starts_with("light-"));
        assert!(heavy.worker_id.starts_with("heavy-"));
        assert_eq!(light.settings.lease_ttl, Duration::from_secs(300));
        assert_eq!(light.grace, Duration::from_secs(30));
    }

    #[test]
    fn scheduler_flags_override_the_default() {
        let light = parse(&Defaults::light(), &["--no-scheduler"]);
        assert!(!light.scheduler);
        let heavy = parse(&Defaults::heavy(), &["--scheduler"]);
        assert!(heavy.scheduler);
        let err = Cli::try_parse_from_for(
            &Defaults::light(),
            ["worker-light", "--no-scheduler", "--schedules", "s.toml"],
        )
        .unwrap()
        .into_config(&Defaults::light())
        .unwrap_err();
        assert!(err.contains("--schedules"), "{err}");
    }

    #[test]
    fn discovery_defaults_follow_the_store() {
        let cloud = parse(&Defaults::heavy(), &["--store", "gs://my-bucket/q"]);
        assert_eq!(cloud.discovery, DiscoverySettings::cloud());
        assert_eq!(cloud.presence_every, Duration::from_secs(1200));
        let cloud = parse(&Defaults::light(), &["--store", "s3://my-bucket"]);
        assert_eq!(cloud.presence_every, Duration::from_secs(1800));
        assert_eq!(cloud.schedule_refresh, Duration::from_secs(300));
        let local = parse(
            &Defaults::light(),
            &["--store", "/tmp/q", "--lease-ttl", "3s"],
        );
        assert_eq!(local.discovery.idle_poll, Duration::from_millis(200));
        assert_eq!(local.discovery.reclaim_every, Duration::from_millis(1500));
        let tuned = parse(
            &Defaults::light(),
            &["--store", "gs://bucket-b", "--idle-poll", "1m"],
        );
        assert_eq!(tuned.discovery.idle_poll, Duration::from_secs(60));
    }

    #[test]
    fn the_wake_up_source_follows_the_store_and_pubsub_stops_wake_writes() {
        assert_eq!(
            parse(&Defaults::heavy(), &["--store", "/tmp/q"]).wake,
            WakeSpec::Fs
        );
        let poll = parse(&Defaults::heavy(), &["--store", "gs://bucket-a"]);
        assert_eq!(poll.wake, WakeSpec::Poll);
        assert!(poll.settings.wake_writes);
        assert_eq!(poll.discovery.list_every, Duration::from_secs(1800));
        let sub = "pubsub:projects/p/subscriptions/queue-heavy";
        let push = parse(
            &Defaults::heavy(),
            &["--store", "gs://bucket-a", "--wake", sub],
        );
        assert_eq!(push.wake.to_string(), sub);
        assert!(!push.settings.wake_writes);
        assert_eq!(push.discovery.list_every, PUSH_LIST_EVERY);
        for (store, wake, needle) in [
            ("s3://bucket-a", sub, "gs://"),
            ("memory://", "fs", "directory"),
            ("gs://bucket-a", "pubsub:nope", "pubsub:projects/PROJECT"),
        ] {
            let err = Cli::try_parse_from_for(
                &Defaults::heavy(),
                ["w", "--store", store, "--wake", wake],
            )
            .map_err(|e| e.to_string())
            .and_then(|cli| cli.into_config(&Defaults::heavy()))
            .unwrap_err();
            assert!(err.contains(needle), "{store} {wake}: {err}");
        }
    }

    #[test]
    fn idle_workers_stay_within_the_class_a_budget_on_cloud_stores() {
        let light = Defaults::light();
        let heavy = Defaults::heavy();
        assert!(light.cloud.class_a_per_hour(light.scheduler) <= f64::from(IDLE_CLASS_A_BUDGET));
        assert!(heavy.cloud.class_a_per_hour(heavy.scheduler) <= f64::from(IDLE_CLASS_A_BUDGET));
    }

    #[test]
    fn bad_values_say_what_to_write() {
        let err = Cli::try_parse_from_for(&Defaults::light(), ["w", "--lease-ttl", "soon"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("30s"), "{err}");
        let err = Cli::try_parse_from_for(&Defaults::light(), ["w", "--worker-id", "a/b"])
            .unwrap()
            .into_config(&Defaults::light())
            .unwrap_err();
        assert!(err.contains("worker id"), "{err}");
    }

    #[test]
    fn default_worker_ids_are_valid_object_name_parts() {
        assert_eq!(
            default_worker_id(Class::Heavy, "Johns MacBook Pro.local"),
            "heavy-Johns-MacBook-Pro.local"
        );
        assert_eq!(default_worker_id(Class::Light, ""), "light-unknown");
        let long = default_worker_id(Class::Light, &"x".repeat(100));
        assert_eq!(long.len(), 64);
        queue_core::names::validate_worker_id(&long).unwrap();
    }

    #[test]
    fn help_explains_every_flag_with_its_default() {
        let help = Cli::command_for(&Defaults::heavy())
            .render_long_help()
            .to_string();
        for needle in [
            "--store",
            "QUEUE_STORE",
            "./queue-data",
            "--handlers",
            "QUEUE_HANDLERS",
            "--concurrency",
            "[default: 4]",
            "--worker-id",
            "{class}-{hostname}",
            "--lease-ttl",
            "[default: 5m]",
            "--grace",
            "[default: 30s]",
            "--wake",
            "QUEUE_WAKE",
            "pubsub:projects/P/subscriptions/S",
            "--metrics-addr",
            "QUEUE_METRICS_ADDR",
            "TELEGRAM_BOT_TOKEN",
        ] {
            assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
        }
    }
}
