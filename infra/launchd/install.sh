#!/usr/bin/env bash
# Install worker-heavy as a launchd agent on the MacBook: it starts at login and stays up.
# Written for the bash macOS ships (3.2).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LABEL=com.example.queue.worker-heavy
TEMPLATE="$here/$LABEL.plist"

usage() {
    cat <<EOF
Usage: ${0##*/} --store gs://BUCKET --credentials KEY.json [options]

Fills in $LABEL.plist, installs it as ~/Library/LaunchAgents/$LABEL.plist (mode 600) and
(re)loads it with launchctl bootout/bootstrap. Safe to re-run: an unchanged plist that is
already loaded is left alone.

Options (each defaults to the environment variable named):
  --binary PATH        worker-heavy binary (default: worker-heavy on PATH, else
                       ~/.cargo/bin/worker-heavy)
  --store URL          QUEUE_STORE, e.g. gs://BUCKET (\$QUEUE_STORE)
  --credentials FILE   service account key for gs:// stores, as made by
                       infra/gcp/service-accounts.sh --mac-key-file
                       (\$GOOGLE_APPLICATION_CREDENTIALS)
  --handlers FILE      handlers TOML (\$QUEUE_HANDLERS; default: none)
  --workdir DIR        working directory for handlers (default: the handlers file's
                       directory, else your home)
  --path PATH          PATH for the worker and its handlers
                       (default: /opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin)
  --uninstall          unload the agent and remove the installed plist
  --dry-run            print every command and the filled-in plist (token hidden)
  -h, --help           this text

TELEGRAM_BOT_TOKEN, if set in the environment, is written into the plist so the worker can
send results back to the chat; it is never taken as a flag nor printed.
TELEGRAM_ADMIN_CHAT_ID, if set, goes in too: worker-heavy then alerts that chat when the VM's
presence goes stale (docs/seed-jobs.md).
Logs: ~/Library/Logs/queue/worker-heavy.log
EOF
}

DRY_RUN=0
binary=""
store=${QUEUE_STORE:-}
credentials=${GOOGLE_APPLICATION_CREDENTIALS:-}
handlers=${QUEUE_HANDLERS:-}
workdir=""
path_value="/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
uninstall=0

log() { printf '==> %s\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}
usage_error() {
    printf 'error: %s\n' "$*" >&2
    printf "run '%s --help' for usage\n" "${0##*/}" >&2
    exit 2
}
# quote ARG — ARG as a shell would read it back: bare when safe, else in single quotes.
quote() {
    if [[ $1 =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
        printf '%s' "$1"
    else
        printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
    fi
}
# run CMD... — print the command; run it unless --dry-run.
run() {
    local out="+" arg
    for arg in "$@"; do out="$out $(quote "$arg")"; done
    printf '%s\n' "$out"
    [ "$DRY_RUN" = 1 ] || "$@"
}
need_value() {
    if [ -z "${2-}" ] || [ "${2#--}" != "$2" ]; then usage_error "$1 needs a value"; fi
}
# absolute PATH — launchd does not expand ~ or relative paths.
absolute() {
    case "$1" in
        /*) printf '%s' "$1" ;;
        "~"/*) printf '%s/%s' "$HOME" "${1#"~/"}" ;;
        *) printf '%s/%s' "$PWD" "$1" ;;
    esac
}

while [ $# -gt 0 ]; do
    case "$1" in
        --*=*) opt=$1; shift; set -- "${opt%%=*}" "${opt#*=}" "$@" ;;
    esac
    case "$1" in
        --binary) need_value "$1" "${2-}"; binary=$2; shift 2 ;;
        --store) need_value "$1" "${2-}"; store=$2; shift 2 ;;
        --credentials) need_value "$1" "${2-}"; credentials=$2; shift 2 ;;
        --handlers) need_value "$1" "${2-}"; handlers=$2; shift 2 ;;
        --workdir) need_value "$1" "${2-}"; workdir=$2; shift 2 ;;
        --path) need_value "$1" "${2-}"; path_value=$2; shift 2 ;;
        --uninstall) uninstall=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

[ -n "${HOME:-}" ] || die "HOME is not set"
[ -f "$TEMPLATE" ] || die "$TEMPLATE not found"
if [ "$DRY_RUN" = 1 ]; then
    log "dry run: commands are printed, nothing is changed"
else
    [ "$(uname -s)" = Darwin ] || die "this installs a macOS launchd agent; use --dry-run elsewhere"
fi

domain="gui/$(id -u)"
agents_dir="$HOME/Library/LaunchAgents"
dest="$agents_dir/$LABEL.plist"
logs_dir="$HOME/Library/Logs/queue"

# loaded — the agent is known to launchd in this login session.
loaded() {
    [ "$DRY_RUN" = 0 ] && launchctl print "$domain/$LABEL" >/dev/null 2>&1
}

if [ "$uninstall" = 1 ]; then
    log "removing $LABEL"
    if [ "$DRY_RUN" = 1 ] || loaded; then
        # bootout sends SIGTERM and waits up to the plist's ExitTimeOut.
        run launchctl bootout "$domain/$LABEL" || true
    fi
    run rm -f "$dest"
    log "done (logs kept in $logs_dir)"
    exit 0
fi

# --- check the inputs -------------------------------------------------------------------
# exists_or_warn WHAT PATH — a dry run may describe files that are not on this machine.
exists_or_warn() {
    [ -e "$2" ] && return 0
    [ "$DRY_RUN" = 1 ] || die "$1 $2 not found"
    warn "$1 $2 not found (ignored for the dry run)"
}

if [ -z "$binary" ]; then
    binary=$(command -v worker-heavy 2>/dev/null || printf '%s' "$HOME/.cargo/bin/worker-heavy")
fi
binary=$(absolute "$binary")
exists_or_warn "binary" "$binary"
if [ -e "$binary" ] && ! [ -x "$binary" ]; then
    [ "$DRY_RUN" = 1 ] || die "$binary is not executable (chmod +x $binary)"
    warn "$binary is not executable (ignored for the dry run)"
fi

[ -n "$store" ] || usage_error "--store is required (or set QUEUE_STORE)"
case "$store" in
    gs://?* | s3://?* | file:///* | /*) ;;
    memory://*) usage_error "a memory:// store lives in one process; use gs://BUCKET" ;;
    *) usage_error "--store must be gs://BUCKET[/PREFIX], s3://…, file:///PATH or an absolute path" ;;
esac
if [ -n "$credentials" ]; then
    credentials=$(absolute "$credentials")
    exists_or_warn "credentials file" "$credentials"
    if [ -f "$credentials" ] && [ -n "$(find "$credentials" -prune \( -perm -g=r -o -perm -o=r \) 2>/dev/null)" ]; then
        warn "$credentials is readable by other users: chmod 600 $credentials"
    fi
else
    case "$store" in
        gs://*) usage_error "--credentials is required for a gs:// store (or set GOOGLE_APPLICATION_CREDENTIALS)" ;;
    esac
fi
if [ -n "$handlers" ]; then
    handlers=$(absolute "$handlers")
    exists_or_warn "handlers file" "$handlers"
fi
if [ -z "$workdir" ]; then
    if [ -n "$handlers" ]; then workdir=$(dirname "$handlers"); else workdir=$HOME; fi
fi
workdir=$(absolute "$workdir")
exists_or_warn "working directory" "$workdir"
case "$path_value" in
    *[[:space:]]* | "") usage_error "--path must be a non-empty list of directories without spaces" ;;
esac

# --- fill in the template ---------------------------------------------------------------
# Values travel through the environment (not argv, so the token is not in a process list);
# awk escapes them for XML. A <key> whose value would be empty is left out with its value.
render() {
    local token=${TELEGRAM_BOT_TOKEN:-}
    [ "$DRY_RUN" = 0 ] || [ -z "$token" ] || token="(hidden: from \$TELEGRAM_BOT_TOKEN)"
    PL_WORKER_HEAVY_BIN=$binary \
        PL_QUEUE_STORE=$store \
        PL_QUEUE_HANDLERS=$handlers \
        PL_GOOGLE_APPLICATION_CREDENTIALS=$credentials \
        PL_TELEGRAM_BOT_TOKEN=$token \
        PL_TELEGRAM_ADMIN_CHAT_ID=${TELEGRAM_ADMIN_CHAT_ID:-} \
        PL_PATH=$path_value \
        PL_WORKING_DIRECTORY=$workdir \
        PL_HOME=$HOME \
        awk '
        function xml(s,    out, c, i) {
            out = ""
            for (i = 1; i <= length(s); i++) {
                c = substr(s, i, 1)
                if (c == "&") c = "&amp;"
                else if (c == "<") c = "&lt;"
                else if (c == ">") c = "&gt;"
                out = out c
            }
            return out
        }
        # fill(line) sets empty=1 if a placeholder in line has an empty value.
        function fill(line,    out, name, key) {
            out = ""
            empty = 0
            while (match(line, /__[A-Z_]+__/)) {
                name = substr(line, RSTART + 2, RLENGTH - 4)
                key = "PL_" name
                if (!(key in ENVIRON)) { print "unknown placeholder " name > "/dev/stderr"; exit 3 }
                if (ENVIRON[key] == "") empty = 1
                out = out substr(line, 1, RSTART - 1) xml(ENVIRON[key])
                line = substr(line, RSTART + RLENGTH)
            }
            return out line
        }
        {
            if ($0 ~ /^[ \t]*<key>[^<]*<\/key>[ \t]*$/) { held = $0; holding = 1; next }
            text = fill($0)
            if (holding) {
                holding = 0
                if (empty) next
                print held
            }
            print text
        }
        END { if (holding) print held }
        ' "$TEMPLATE"
}

rendered=$(mktemp "${TMPDIR:-/tmp}/$LABEL.XXXXXX")
trap 'rm -f "$rendered"' EXIT
chmod 600 "$rendered"
render >"$rendered"

log "agent $LABEL"
note "binary:      $binary"
note "store:       $store"
note "credentials: ${credentials:-(none)}"
note "handlers:    ${handlers:-(none)}"
note "workdir:     $workdir"
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then
    note "bot token:   from \$TELEGRAM_BOT_TOKEN"
else
    note "bot token:   (none: results are not sent to Telegram from this Mac)"
fi

if [ "$DRY_RUN" = 1 ]; then
    log "the plist that would be installed as $dest:"
    cat "$rendered"
elif command -v plutil >/dev/null 2>&1; then
    plutil -lint -s "$rendered" || die "the filled-in plist does not parse"
fi

run mkdir -p "$agents_dir" "$logs_dir"
if [ "$DRY_RUN" = 0 ] && [ -f "$dest" ] && cmp -s "$rendered" "$dest" && loaded; then
    log "installed, unchanged and loaded: nothing to do"
    exit 0
fi

if [ "$DRY_RUN" = 1 ] || loaded; then
    # Graceful: SIGTERM, then up to ExitTimeOut seconds for running handlers.
    [ "$DRY_RUN" = 0 ] || note "if the agent is loaded already:"
    run launchctl bootout "$domain/$LABEL"
fi
run install -m 600 "$rendered" "$dest"
# enable first: bootstrap refuses a service that was once disabled.
run launchctl enable "$domain/$LABEL"
run launchctl bootstrap "$domain" "$dest"

log "done. Status: launchctl print $domain/$LABEL"
note "logs: tail -f $logs_dir/worker-heavy.log"
