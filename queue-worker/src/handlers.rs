//! The handlers file: which program runs each task kind.
//!
//! ```toml
//! [handlers.content-ideation]
//! command = ["python3", "execution/vm/scheduled_content.py"]   # argv, never a shell string
//! timeout = "10m"                  # default 1h; the whole process group is killed at it
//! env = { CONTENT_LANG = "ko" }    # added to the worker's environment
//! cwd = "."                        # relative to this file's directory (the default)
//! max_attempts = 3                 # replaces the task's own limit when set
//!
//! [handlers.ping]
//! builtin = "echo"                 # a built-in handler instead of a command
//! ```
//!
//! The built-in `echo` kind (result = payload) exists unless the file defines `echo` itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// How long a handler may run when its entry sets no `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);

/// What a handler is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run this argv.
    Command(Vec<String>),
    /// A handler built into the worker.
    Builtin(Builtin),
}

/// Handlers built into the worker, for demos and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// The result is the payload.
    Echo,
}

impl Builtin {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "echo" => Some(Builtin::Echo),
            _ => None,
        }
    }
}

/// One kind's handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    /// The task kind.
    pub kind: String,
    /// What runs.
    pub action: Action,
    /// Longest run; past it the process group is killed and the attempt fails.
    pub timeout: Duration,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// Working directory (absolute once loaded).
    pub cwd: Option<PathBuf>,
    /// Replaces the task's `max_attempts` when set.
    pub max_attempts: Option<u32>,
}

/// Every handler this worker knows, by kind.
#[derive(Debug, Clone)]
pub struct Handlers {
    map: BTreeMap<String, Handler>,
    source: Option<PathBuf>,
}

/// A handlers file that cannot be used, with the file and the entry at fault.
#[derive(Debug, thiserror::Error)]
#[error("bad handlers file: file={file} {message}")]
pub struct HandlersError {
    file: String,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    handlers: BTreeMap<String, EntryDoc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryDoc {
    command: Option<Vec<String>>,
    builtin: Option<String>,
    timeout: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    cwd: Option<PathBuf>,
    max_attempts: Option<u32>,
}

impl Handlers {
    /// Only the built-in handlers (no file given).
    pub fn builtin_only() -> Self {
        let mut map = BTreeMap::new();
        map.insert("echo".to_string(), echo("echo"));
        Handlers { map, source: None }
    }

    /// Read and check a handlers file. Relative `cwd`s (and the default working directory)
    /// are the file's own directory.
    pub fn load(path: &Path) -> Result<Self, HandlersError> {
        let text = std::fs::read_to_string(path).map_err(|e| HandlersError {
            file: path.display().to_string(),
            message: format!("(cannot read it: {e})"),
        })?;
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let base = absolute.parent().unwrap_or(Path::new("/")).to_path_buf();
        Self::parse(&text, &base, &absolute)
    }

    /// Parse handlers-file text; `base` resolves relative working directories, `source` names
    /// the file in messages.
    pub fn parse(text: &str, base: &Path, source: &Path) -> Result<Self, HandlersError> {
        let fail = |message: String| HandlersError {
            file: source.display().to_string(),
            message,
        };
        let doc: FileDoc = toml::from_str(text).map_err(|e| fail(format!("({e})")))?;
        let mut handlers = Handlers::builtin_only();
        handlers.source = Some(source.to_path_buf());
        for (kind, entry) in doc.handlers {
            let handler =
                build(&kind, entry, base).map_err(|m| fail(format!("kind={kind}: {m}")))?;
            handlers.map.insert(kind, handler);
        }
        Ok(handlers)
    }

    /// The handler for `kind`.
    pub fn get(&self, kind: &str) -> Option<&Handler> {
        self.map.get(kind)
    }

    /// Every known kind, sorted.
    pub fn kinds(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }

    /// The file they came from.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The error for a task whose kind has no handler: it names the known kinds and the file.
    pub fn unknown_kind_error(&self, kind: &str) -> String {
        let file = match &self.source {
            Some(path) => format!("handlers file {}", path.display()),
            None => "no handlers file (--handlers / QUEUE_HANDLERS)".to_string(),
        };
        format!(
            "unknown kind={kind}: no handler for it in this worker ({file}); known kinds: {}",
            self.kinds().join(", ")
        )
    }
}

fn echo(kind: &str) -> Handler {
    Handler {
        kind: kind.to_string(),
        action: Action::Builtin(Builtin::Echo),
        timeout: DEFAULT_TIMEOUT,
        env: BTreeMap::new(),
        cwd: None,
        max_attempts: None,
    }
}

fn build(kind: &str, entry: EntryDoc, base: &Path) -> Result<Handler, String> {
    if !queue_core::names::is_valid_kind(kind) {
        return Err("kinds are 1-64 letters, digits, '.', '_' or '-'".into());
    }
    let action = match (entry.command, entry.builtin) {
        (Some(argv), None) => {
            if argv.is_empty() || argv[0].trim().is_empty() {
                return Err(
                    "command is empty; write it as an argv list, e.g. [\"python3\", \"job.py\"]"
                        .into(),
                );
            }
            Action::Command(argv)
        }
        (None, Some(name)) => Action::Builtin(
            Builtin::parse(&name)
                .ok_or_else(|| format!("unknown builtin={name:?} (known: echo)"))?,
        ),
        (Some(_), Some(_)) => return Err("set either command or builtin, not both".into()),
        (None, None) => return Err("needs command = [\"program\", \"arg\", …]".into()),
    };
    let timeout = match entry.timeout {
        Some(text) => {
            queue_core::settings::parse_duration(&text).map_err(|e| e.message().to_string())?
        }
        None => DEFAULT_TIMEOUT,
    };
    if timeout.is_zero() {
        return Err("timeout must be more than 0s".into());
    }
    if entry.max_attempts == Some(0) {
        return Err("max_attempts must be at least 1".into());
    }
    for key in entry.env.keys() {
        if key.is_empty() || key.contains('=') || key.contains('\0') {
            return Err(format!("bad env variable name {key:?}"));
        }
    }
    let cwd = match (&action, entry.cwd) {
        (Action::Builtin(_), _) => None,
        (_, Some(dir)) => Some(base.join(dir)),
        (_, None) => Some(base.to_path_buf()),
    };
    Ok(Handler {
        kind: kind.to_string(),
        action,
        timeout,
        env: entry.env,
        cwd,
        max_attempts: entry.max_attempts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Handlers, HandlersError> {
        Handlers::parse(
            text,
            Path::new("/srv/jobs"),
            Path::new("/srv/jobs/handlers.toml"),
        )
    }

    #[test]
    fn a_full_entry_loads_with_paths_resolved_against_the_file() {
        let h = parse(
            r#"
            [handlers.content-ideation]
            command = ["python3", "execution/vm/scheduled_content.py"]
            timeout = "10m"
            env = { LANG = "ko_KR.UTF-8" }
            cwd = "vm"
            max_attempts = 3

            [handlers.backup]
            command = ["/usr/local/bin/backup"]
            "#,
        )
        .unwrap();
        let c = h.get("content-ideation").unwrap();
        assert_eq!(
            c.action,
            Action::Command(vec![
                "python3".into(),
                "execution/vm/scheduled_content.py".into()
            ])
        );
        assert_eq!(c.timeout, Duration::from_secs(600));
        assert_eq!(c.env["LANG"], "ko_KR.UTF-8");
        assert_eq!(c.cwd.as_deref(), Some(Path::new("/srv/jobs/vm")));
        assert_eq!(c.max_attempts, Some(3));
        let b = h.get("backup").unwrap();
        assert_eq!(b.timeout, DEFAULT_TIMEOUT);
        assert_eq!(b.cwd.as_deref(), Some(Path::new("/srv/jobs")));
        assert_eq!(h.kinds(), ["backup", "content-ideation", "echo"]);
    }

    #[test]
    fn echo_is_built_in_and_can_back_other_kinds() {
        assert_eq!(
            Handlers::builtin_only().get("echo").unwrap().action,
            Action::Builtin(Builtin::Echo)
        );
        let h = parse("[handlers.ping]\nbuiltin = \"echo\"\n").unwrap();
        assert_eq!(
            h.get("ping").unwrap().action,
            Action::Builtin(Builtin::Echo)
        );
    }

    #[test]
    fn mistakes_name_the_entry_and_the_fix() {
        for (text, needle) in [
            ("[handlers.a]\ncommand = []\n", "kind=a: command is empty"),
            ("[handlers.a]\ncommand = \"python3 x.py\"\n", "invalid type"),
            ("[handlers.a]\n", "kind=a: needs command"),
            (
                "[handlers.a]\ncommand = [\"x\"]\ntimeout = \"soon\"\n",
                "write it like 30s",
            ),
            (
                "[handlers.a]\ncommand = [\"x\"]\ntimout = \"1m\"\n",
                "unknown field",
            ),
            ("[handlers.a]\nbuiltin = \"cat\"\n", "unknown builtin"),
            ("[handlers.\"a b\"]\ncommand = [\"x\"]\n", "kinds are 1-64"),
            (
                "[handlers.a]\ncommand = [\"x\"]\nmax_attempts = 0\n",
                "at least 1",
            ),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?} gave {err}");
            assert!(err.contains("file=/srv/jobs/handlers.toml"), "{err}");
        }
    }

    #[test]
    fn the_unknown_kind_error_lists_what_is_known() {
        let h = parse("[handlers.backup]\ncommand = [\"b\"]\n").unwrap();
        let msg = h.unknown_kind_error("bakcup");
        assert!(msg.contains("unknown kind=bakcup"), "{msg}");
        assert!(msg.contains("known kinds: backup, echo"), "{msg}");
        assert!(msg.contains("/srv/jobs/handlers.toml"), "{msg}");
        let none = Handlers::builtin_only().unknown_kind_error("x");
        assert!(none.contains("QUEUE_HANDLERS"), "{none}");
    }
}
