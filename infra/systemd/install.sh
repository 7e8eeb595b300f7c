#!/usr/bin/env bash
# Install worker-light as a systemd service on the VM (Debian 12). Run as root, from a
# directory holding this script, worker-light.service and worker-light.env.example.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

SERVICE=worker-light
USER_NAME=queue-worker
BIN_DEST=/usr/local/bin/worker-light
CONF_DIR=/etc/queue
ENV_DEST=$CONF_DIR/worker-light.env
HANDLERS_DEST=$CONF_DIR/handlers.toml
SCHEDULES_DEST=$CONF_DIR/schedules.toml
JOBS_DEST=$CONF_DIR/handlers
QUEUECTL_DEST=/usr/local/bin/queuectl
UNIT_DEST=/etc/systemd/system/$SERVICE.service
DROPIN_DIR=/etc/systemd/system/$SERVICE.service.d
CODE_DIR=/opt/queue

usage() {
    cat <<EOF
Usage: ${0##*/} [--binary PATH] [options]

Installs worker-light as a systemd service:
  - a system user '$USER_NAME' (no login; its home is the service's state directory)
  - the binary at $BIN_DEST, the unit at $UNIT_DEST
  - $ENV_DEST (from --env-file, else kept if present, else the example)
  - $HANDLERS_DEST from --handlers (default: handlers.toml beside this script, if any)
  - $SCHEDULES_DEST from --schedules (default: schedules.toml beside this script, if
    any), and QUEUE_SCHEDULES pointing at it in $ENV_DEST: the scheduler loads it at start
  - the job scripts from --jobs DIR (default: handlers/ beside this script, if any) into
    $JOBS_DEST, where the handlers file's relative paths (handlers/...) find them
  - queuectl at $QUEUECTL_DEST from --queuectl (default: queuectl beside this script, if
    any): the example jobs read the bucket through it
  - $CODE_DIR for other handler code
then enables the service and (re)starts it when something changed. Safe to re-run: an
unchanged install restarts nothing.

Options:
  --binary PATH    the worker-light binary (default: worker-light beside this script)
  --env-file PATH  environment file to install as $ENV_DEST
  --handlers PATH  handlers file to install as $HANDLERS_DEST
  --schedules PATH schedules file to install as $SCHEDULES_DEST (e.g. examples/schedules.toml)
  --jobs DIR       job scripts (*.py, *.sh) to install into $JOBS_DEST (e.g. examples/handlers)
  --queuectl PATH  the queuectl binary to install as $QUEUECTL_DEST
  --no-start       enable, but do not start or restart
  --uninstall      stop and disable the service, remove the unit and the binary
                   (keeps $CONF_DIR, the user and /var/lib/$USER_NAME)
  --dry-run        print every command instead of running it
  -h, --help       this text
EOF
}

DRY_RUN=0
binary=""
env_file=""
handlers=""
schedules=""
jobs=""
queuectl=""
start=1
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
# same SRC DEST — DEST exists with SRC's content, so installing SRC again changes nothing.
same() { [ -f "$1" ] && [ -f "$2" ] && cmp -s "$1" "$2"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --*=*) opt=$1; shift; set -- "${opt%%=*}" "${opt#*=}" "$@" ;;
    esac
    case "$1" in
        --binary) need_value "$1" "${2-}"; binary=$2; shift 2 ;;
        --env-file) need_value "$1" "${2-}"; env_file=$2; shift 2 ;;
        --handlers) need_value "$1" "${2-}"; handlers=$2; shift 2 ;;
        --schedules) need_value "$1" "${2-}"; schedules=$2; shift 2 ;;
        --jobs) need_value "$1" "${2-}"; jobs=$2; shift 2 ;;
        --queuectl) need_value "$1" "${2-}"; queuectl=$2; shift 2 ;;
        --no-start) start=0; shift ;;
        --uninstall) uninstall=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

if [ "$DRY_RUN" = 1 ]; then
    log "dry run: commands are printed, nothing is changed"
else
    [ "$(id -u)" = 0 ] || die "run as root (sudo $0 ...)"
    command -v systemctl >/dev/null 2>&1 || die "systemctl not found: this is for a systemd host"
fi

if [ "$uninstall" = 1 ]; then
    log "removing $SERVICE (configuration, user and state are kept)"
    run systemctl disable --now "$SERVICE.service" || true
    run rm -f "$UNIT_DEST" "$BIN_DEST" "$QUEUECTL_DEST"
    run rm -rf "$DROPIN_DIR"
    run systemctl daemon-reload
    log "done"
    exit 0
fi

# --- check the inputs -------------------------------------------------------------------
[ -n "$binary" ] || binary="$here/worker-light"
# The seed's routine jobs, when copied beside this script (see infra/gcp/README.md).
[ -n "$handlers" ] || [ ! -f "$here/handlers.toml" ] || handlers="$here/handlers.toml"
[ -n "$schedules" ] || [ ! -f "$here/schedules.toml" ] || schedules="$here/schedules.toml"
[ -n "$jobs" ] || [ ! -d "$here/handlers" ] || jobs="$here/handlers"
[ -n "$queuectl" ] || [ ! -f "$here/queuectl" ] || queuectl="$here/queuectl"
unit_src="$here/worker-light.service"
example_src="$here/worker-light.env.example"
[ -f "$unit_src" ] || die "$unit_src not found (copy it beside this script)"

# check_file WHAT PATH — a file we are asked to install exists (a dry run only warns).
check_file() {
    [ -f "$2" ] && return 0
    [ "$DRY_RUN" = 1 ] || die "$1 $2 not found"
    warn "$1 $2 not found (ignored for the dry run)"
}
check_file "binary" "$binary"
[ -z "$env_file" ] || check_file "environment file" "$env_file"
[ -z "$handlers" ] || check_file "handlers file" "$handlers"
[ -z "$schedules" ] || check_file "schedules file" "$schedules"
[ -z "$queuectl" ] || check_file "queuectl binary" "$queuectl"
if [ -n "$jobs" ] && ! [ -d "$jobs" ]; then
    [ "$DRY_RUN" = 1 ] || die "job directory $jobs not found"
    warn "job directory $jobs not found (ignored for the dry run)"
fi
if [ -z "$env_file" ] && ! [ -f "$ENV_DEST" ] && ! [ -f "$example_src" ]; then
    die "$example_src not found, and neither --env-file nor $ENV_DEST exists"
fi

log "installing $SERVICE"
changed=0

# --- user -------------------------------------------------------------------------------
if getent group "$USER_NAME" >/dev/null 2>&1; then
    note "group $USER_NAME exists"
else
    run groupadd --system "$USER_NAME"
fi
if getent passwd "$USER_NAME" >/dev/null 2>&1; then
    note "user $USER_NAME exists"
else
    # The home is the service's state directory, which systemd creates (StateDirectory=).
    run useradd --system --gid "$USER_NAME" --home-dir "/var/lib/$USER_NAME" --no-create-home \
        --shell /usr/sbin/nologin --comment "queue worker-light" "$USER_NAME"
fi

# --- files ------------------------------------------------------------------------------
# install_file MODE GROUP SRC DEST — copy unless DEST already has SRC's content.
install_file() {
    if same "$3" "$4"; then
        note "$4 unchanged"
        return 0
    fi
    run install -m "$1" -o root -g "$2" "$3" "$4"
    changed=1
}

# Copied binaries often lose the executable bit; install -m 0755 restores it.
install_file 0755 root "$binary" "$BIN_DEST"
run install -d -m 0750 -o root -g "$USER_NAME" "$CONF_DIR"
# The service's working directory, for handler code (see the unit).
run install -d -m 0755 -o root -g root "$CODE_DIR"
if [ -n "$env_file" ]; then
    install_file 0640 "$USER_NAME" "$env_file" "$ENV_DEST"
elif [ -f "$ENV_DEST" ]; then
    note "keeping $ENV_DEST"
else
    install_file 0640 "$USER_NAME" "$example_src" "$ENV_DEST"
fi
[ -z "$handlers" ] || install_file 0640 "$USER_NAME" "$handlers" "$HANDLERS_DEST"
[ -z "$queuectl" ] || install_file 0755 root "$queuectl" "$QUEUECTL_DEST"
if [ -n "$jobs" ] && [ -d "$jobs" ]; then
    run install -d -m 0750 -o root -g "$USER_NAME" "$JOBS_DEST"
    for job in "$jobs"/*.py "$jobs"/*.sh; do
        [ -f "$job" ] || continue
        case "${job##*/}" in test_*) continue ;; esac
        install_file 0750 "$USER_NAME" "$job" "$JOBS_DEST/${job##*/}"
    done
fi
if [ -n "$schedules" ]; then
    install_file 0640 "$USER_NAME" "$schedules" "$SCHEDULES_DEST"
    # Enable the file in the environment: worker-light runs the scheduler by default and
    # upserts these schedules at every start.
    if [ -f "$ENV_DEST" ] && ! grep -q '^QUEUE_SCHEDULES=' "$ENV_DEST"; then
        if grep -q '^#QUEUE_SCHEDULES=' "$ENV_DEST"; then
            run sed -i "s|^#QUEUE_SCHEDULES=.*|QUEUE_SCHEDULES=$SCHEDULES_DEST|" "$ENV_DEST"
        else
            if [ "$DRY_RUN" = 1 ]; then
                printf '+ echo QUEUE_SCHEDULES=%s >> %s\n' "$SCHEDULES_DEST" "$ENV_DEST"
            else
                printf 'QUEUE_SCHEDULES=%s\n' "$SCHEDULES_DEST" >>"$ENV_DEST"
            fi
        fi
        changed=1
    fi
fi
install_file 0644 root "$unit_src" "$UNIT_DEST"

# Growing restart delays need systemd 254+; Debian 12 has 252, which would warn about
# RestartSteps= in the unit itself, so the setting lives in a drop-in added only where known.
systemd_version=$(systemctl --version 2>/dev/null | sed -n '1s/^systemd \([0-9][0-9]*\).*/\1/p' || true)
if [ -n "$systemd_version" ] && [ "$systemd_version" -ge 254 ]; then
    dropin=$(mktemp)
    trap 'rm -f "$dropin"' EXIT
    printf '[Service]\nRestartSteps=6\nRestartMaxDelaySec=5min\n' >"$dropin"
    run install -d -m 0755 "$DROPIN_DIR"
    install_file 0644 root "$dropin" "$DROPIN_DIR/backoff.conf"
fi

# --- service ----------------------------------------------------------------------------
run systemctl daemon-reload
run systemctl enable "$SERVICE.service"

configured=1
if [ -n "$env_file" ]; then
    grep -q 'gs://BUCKET' "$env_file" 2>/dev/null && configured=0
elif [ -f "$ENV_DEST" ]; then
    grep -q 'gs://BUCKET' "$ENV_DEST" && configured=0
else
    configured=0 # the example was just installed
fi

if [ "$start" = 0 ]; then
    note "not started (--no-start)"
elif [ "$configured" = 0 ]; then
    warn "$ENV_DEST still holds the example's placeholders: edit it (sudoedit $ENV_DEST),"
    warn "then: sudo systemctl restart $SERVICE"
elif [ "$changed" = 1 ] || ! systemctl is-active --quiet "$SERVICE.service" 2>/dev/null; then
    # A restart is graceful: running handlers get the worker's grace period (see the unit).
    run systemctl restart "$SERVICE.service"
else
    note "running and unchanged: not restarted"
fi

log "done. Logs: journalctl -u $SERVICE -f"
