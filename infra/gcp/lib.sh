# shellcheck shell=bash
# shellcheck disable=SC2034  # the defaults below are used by the scripts that source this file
# Helpers shared by the infra/gcp scripts: logging, input checks and --dry-run.
#
# Sourced, never run. Written for bash 3.2 as well (the bash macOS ships), because the
# operator often runs these from the MacBook: no associative arrays, no mapfile, and empty
# arrays are expanded as ${a[@]+"${a[@]}"}.

# Names the scripts agree on. Every script can override them with flags; keep the defaults
# here so that bucket.sh, service-accounts.sh, secrets.sh and deploy-ingress.sh line up.
DEFAULT_REGION="us-west1"        # a free-tier region (also us-central1, us-east1)
DEFAULT_ZONE="us-west1-b"
FREE_TIER_REGIONS="us-west1 us-central1 us-east1"
SA_INGRESS="queue-ingress"
SA_WORKER_LIGHT="queue-worker-light"
SA_WORKER_HEAVY="queue-worker-heavy"
SECRET_BOT_TOKEN="telegram-bot-token"
SECRET_WEBHOOK_SECRET="telegram-webhook-secret"
SECRET_API_TOKEN="ingress-api-token"
SERVICE_NAME="queue-ingress"
ARTIFACT_REPO="queue"
VM_NAME="queue-worker-light"

DRY_RUN=0

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

# print_cmd PREFIX ARGS... — show a command the way a shell would read it back.
print_cmd() {
    local out=$1 arg
    shift
    for arg in "$@"; do
        out+=" $(quote "$arg")"
    done
    printf '%s\n' "$out"
}

# run CMD... — print the command; run it unless --dry-run.
run() {
    print_cmd '+' "$@"
    if [ "$DRY_RUN" = 1 ]; then
        return 0
    fi
    "$@"
}

# exists CMD... — a read-only check ("describe"). Under --dry-run it is only printed and
# reports "absent", so the dry run shows every command a first run would perform.
exists() {
    if [ "$DRY_RUN" = 1 ]; then
        print_cmd '? (check)' "$@"
        return 1
    fi
    "$@" >/dev/null 2>&1
}

# retry N CMD... — for IAM bindings on a service account created seconds ago, which Google's
# IAM may not know about yet (eventual consistency).
retry() {
    local attempts=$1
    shift
    local i=1
    while true; do
        if run "$@"; then
            return 0
        fi
        if [ "$i" -ge "$attempts" ]; then
            return 1
        fi
        warn "attempt $i of $attempts failed; retrying in $((i * 5))s"
        sleep $((i * 5))
        i=$((i + 1))
    done
}

# need_value FLAG VALUE — a flag that takes a value got one.
need_value() {
    if [ -z "${2-}" ] || [ "${2#--}" != "$2" ]; then
        usage_error "$1 needs a value"
    fi
}

# check_match WHAT VALUE REGEX HINT
check_match() {
    if ! [[ $2 =~ $3 ]]; then
        usage_error "invalid $1 '$2': $4"
    fi
}

check_project() {
    [ -n "$1" ] || usage_error "--project is required (or set GOOGLE_CLOUD_PROJECT)"
    check_match "project id" "$1" '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' \
        "6-30 lowercase letters, digits and hyphens, starting with a letter"
}

check_bucket() {
    [ -n "$1" ] || usage_error "--bucket is required"
    check_match "bucket name" "$1" '^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$' \
        "3-63 lowercase letters, digits, '-' and '_' (dotted names need domain verification)"
    case "$1" in
        goog*) usage_error "bucket names cannot start with 'goog'" ;;
    esac
}

check_prefix() {
    [ -z "$1" ] && return 0
    check_match "prefix" "$1" '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$' \
        "path segments of letters, digits, '.', '_' and '-', without leading or trailing '/'"
}

check_region() {
    check_match "region" "$1" '^[a-z]+-[a-z]+[0-9]+$' "expected e.g. us-west1"
}

check_zone() {
    check_match "zone" "$1" '^[a-z]+-[a-z]+[0-9]+-[a-z]$' "expected e.g. us-west1-b"
}

check_uint() {
    check_match "$1" "$2" '^[0-9]+$' "expected a whole number"
}

check_sa_name() {
    check_match "service account name" "$1" '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' \
        "6-30 lowercase letters, digits and hyphens, starting with a letter"
}

check_secret_name() {
    check_match "secret name" "$1" '^[A-Za-z0-9_-]{1,255}$' "letters, digits, '_' and '-'"
}

is_free_tier_region() {
    local r
    for r in $FREE_TIER_REGIONS; do
        [ "$r" = "$1" ] && return 0
    done
    return 1
}

sa_email() { printf '%s@%s.iam.gserviceaccount.com' "$1" "$2"; }

# preflight — before a real run: gcloud is installed and logged in. Skipped under --dry-run,
# which never calls gcloud.
preflight() {
    if [ "$DRY_RUN" = 1 ]; then
        log "dry run: commands are printed, nothing is called or changed"
        return 0
    fi
    command -v gcloud >/dev/null 2>&1 || die "gcloud is not installed (see infra/gcp/README.md)"
    local account
    account=$(gcloud auth list --filter=status:ACTIVE --format='value(account)' 2>/dev/null || true)
    [ -n "$account" ] || die "gcloud has no active account: run 'gcloud auth login' first"
    log "acting as $account"
}

# enable_apis PROJECT API... — idempotent: enabling an enabled API is a no-op.
enable_apis() {
    local project=$1
    shift
    run gcloud services enable "$@" --project="$project"
}
