#!/usr/bin/env bash
# Build the ingress image, deploy it to Cloud Run (scale to zero, secrets from Secret Manager)
# and register the Telegram webhook.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

usage() {
    cat <<EOF
Usage: ${0##*/} --project ID --bucket NAME --allowed-chat-ids IDS [options]

1. builds infra/Dockerfile.ingress with Cloud Build into an Artifact Registry repository
   (skipped with --image)
2. deploys the Cloud Run service: min 0 instances, max --max-instances, the ingress service
   account, QUEUE_STORE and TELEGRAM_ALLOWED_CHAT_IDS as plain variables, and
   TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET, INGRESS_API_TOKEN from Secret Manager
3. checks GET /healthz, then registers SERVICE_URL/telegram/webhook with Telegram, reading the
   token and the webhook secret from Secret Manager (never printed, never on a command line)

Options:
  --project ID            Google Cloud project (default: \$GOOGLE_CLOUD_PROJECT)
  --region REGION         Cloud Run and Artifact Registry region (default: $DEFAULT_REGION)
  --bucket NAME           the queue bucket; QUEUE_STORE becomes gs://NAME[/PREFIX]
  --prefix PATH           store prefix inside the bucket (default: none)
  --allowed-chat-ids IDS  comma-separated Telegram chat ids allowed to use the bot
                          (default: \$TELEGRAM_ALLOWED_CHAT_IDS)
  --service NAME          Cloud Run service (default: $SERVICE_NAME)
  --service-account NAME  runtime service account (default: $SA_INGRESS)
  --image IMAGE           deploy this image instead of building one
  --repo NAME             Artifact Registry repository to build into (default: $ARTIFACT_REPO)
  --tag TAG               image tag (default: the git commit, plus -dirty-TIME if modified)
  --max-instances N       upper bound on instances (default: 2)
  --memory SIZE           memory per instance (default: 256Mi)
  --push-wake-ups         the workers use Pub/Sub wake-ups (pubsub.sh): the ingress writes no
                          {class}/wake.json after an enqueue (QUEUE_WAKE_WRITES=false)
  --webhook HOW           ingress: run 'ingress set-webhook' locally (default)
                          curl: call the Bot API's setWebhook with curl
                          none: do not register
  --ingress-bin PATH      the ingress binary for --webhook ingress (default:
                          target/release/ingress if built, else 'cargo run -p ingress')
  --webhook-url URL       register this URL instead of SERVICE_URL/telegram/webhook
  --allowed-updates JSON  update types, for --webhook curl only (default: those
                          'ingress set-webhook' registers: message, edited_message,
                          channel_post, edited_channel_post). curl sets no command menu.
  --bot-token-secret NAME, --webhook-secret-secret NAME, --api-token-secret NAME
                          secret names (defaults: $SECRET_BOT_TOKEN, $SECRET_WEBHOOK_SECRET,
                          $SECRET_API_TOKEN)
  --dry-run               print every command instead of running it
  -h, --help              this text

Run bucket.sh, service-accounts.sh and secrets.sh first. Re-running deploys a new revision
with the same settings and registers the same webhook again; both are harmless.
EOF
}

project=${GOOGLE_CLOUD_PROJECT:-}
region=$DEFAULT_REGION
bucket=""
prefix=""
chat_ids=${TELEGRAM_ALLOWED_CHAT_IDS:-}
service=$SERVICE_NAME
sa_name=$SA_INGRESS
image=""
repo=$ARTIFACT_REPO
tag=""
max_instances=2
memory=256Mi
wake_writes=true
webhook=ingress
ingress_bin=""
webhook_url=""
allowed_updates='["message","edited_message","channel_post","edited_channel_post"]'
bot_secret=$SECRET_BOT_TOKEN
webhook_secret=$SECRET_WEBHOOK_SECRET
api_secret=$SECRET_API_TOKEN

while [ $# -gt 0 ]; do
    case "$1" in
        --*=*) opt=$1; shift; set -- "${opt%%=*}" "${opt#*=}" "$@" ;;
    esac
    case "$1" in
        --project) need_value "$1" "${2-}"; project=$2; shift 2 ;;
        --region) need_value "$1" "${2-}"; region=$2; shift 2 ;;
        --bucket) need_value "$1" "${2-}"; bucket=${2#gs://}; shift 2 ;;
        --prefix) need_value "$1" "${2-}"; prefix=$2; shift 2 ;;
        --allowed-chat-ids) need_value "$1" "${2-}"; chat_ids=$2; shift 2 ;;
        --service) need_value "$1" "${2-}"; service=$2; shift 2 ;;
        --service-account) need_value "$1" "${2-}"; sa_name=$2; shift 2 ;;
        --image) need_value "$1" "${2-}"; image=$2; shift 2 ;;
        --repo) need_value "$1" "${2-}"; repo=$2; shift 2 ;;
        --tag) need_value "$1" "${2-}"; tag=$2; shift 2 ;;
        --max-instances) need_value "$1" "${2-}"; max_instances=$2; shift 2 ;;
        --memory) need_value "$1" "${2-}"; memory=$2; shift 2 ;;
        --push-wake-ups) wake_writes=false; shift ;;
        --webhook) need_value "$1" "${2-}"; webhook=$2; shift 2 ;;
        --ingress-bin) need_value "$1" "${2-}"; ingress_bin=$2; shift 2 ;;
        --webhook-url) need_value "$1" "${2-}"; webhook_url=$2; shift 2 ;;
        --allowed-updates) need_value "$1" "${2-}"; allowed_updates=$2; shift 2 ;;
        --bot-token-secret) need_value "$1" "${2-}"; bot_secret=$2; shift 2 ;;
        --webhook-secret-secret) need_value "$1" "${2-}"; webhook_secret=$2; shift 2 ;;
        --api-token-secret) need_value "$1" "${2-}"; api_secret=$2; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

check_project "$project"
check_region "$region"
check_bucket "$bucket"
check_prefix "$prefix"
[ -n "$chat_ids" ] || usage_error "--allowed-chat-ids is required (or set TELEGRAM_ALLOWED_CHAT_IDS)"
check_match "chat ids" "$chat_ids" '^-?[0-9]+(,-?[0-9]+)*$' "comma-separated integers, e.g. 123456,-100987"
check_match "service name" "$service" '^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$' "lowercase letters, digits, hyphens"
check_sa_name "$sa_name"
check_match "repository" "$repo" '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$' "lowercase letters, digits, hyphens"
[ -z "$tag" ] || check_match "tag" "$tag" '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$' "docker tag characters"
[ -z "$image" ] || check_match "image" "$image" '^[a-z0-9./_:@-]+$' "a full image reference"
check_uint "--max-instances" "$max_instances"
[ "$max_instances" -ge 1 ] || usage_error "--max-instances must be at least 1"
check_match "memory" "$memory" '^[0-9]+(Mi|Gi)$' "e.g. 256Mi or 1Gi"
case "$webhook" in
    ingress | curl | none) ;;
    *) usage_error "--webhook must be ingress, curl or none" ;;
esac
[ -z "$webhook_url" ] || check_match "webhook url" "$webhook_url" '^https://[A-Za-z0-9._~:/?#@!$&()*+,;=%-]+$' "an https:// URL"
check_match "allowed updates" "$allowed_updates" '^\[("[a-z_]+"(,[[:space:]]*"[a-z_]+")*)?\]$' 'a JSON list, e.g. ["message"]'
allowed_updates=${allowed_updates//[[:space:]]/}
check_secret_name "$bot_secret"
check_secret_name "$webhook_secret"
check_secret_name "$api_secret"
if [ -n "$ingress_bin" ] && [ "$DRY_RUN" = 0 ] && ! [ -x "$ingress_bin" ]; then
    usage_error "--ingress-bin $ingress_bin is not an executable file"
fi

sa=$(sa_email "$sa_name" "$project")
store="gs://$bucket"
[ -z "$prefix" ] || store="$store/$prefix"

if [ -z "$image" ] && [ -z "$tag" ]; then
    tag=$(git -C "$repo_root" rev-parse --short=12 HEAD 2>/dev/null || echo manual)
    if [ -n "$(git -C "$repo_root" status --porcelain 2>/dev/null || true)" ]; then
        tag="$tag-dirty-$(date -u +%Y%m%d%H%M%S)"
    fi
fi

log "Cloud Run service $service in $project ($region)"
if [ -n "$image" ]; then
    note "image: $image"
else
    note "image: built by Cloud Build into repository $repo ($region), tag $tag"
fi
note "runs as $sa, 0..$max_instances instances, $memory"
note "QUEUE_STORE=$store TELEGRAM_ALLOWED_CHAT_IDS=$chat_ids"
note "secrets: $bot_secret, $webhook_secret, $api_secret (latest versions)"
note "webhook: $webhook"

preflight
apis=(run.googleapis.com secretmanager.googleapis.com)
[ -n "$image" ] || apis+=(artifactregistry.googleapis.com cloudbuild.googleapis.com)
enable_apis "$project" "${apis[@]}"

if [ "$DRY_RUN" = 0 ]; then
    gcloud iam service-accounts describe "$sa" --project="$project" >/dev/null 2>&1 ||
        die "$sa not found: run infra/gcp/service-accounts.sh first"
    for s in "$bot_secret" "$webhook_secret" "$api_secret"; do
        gcloud secrets describe "$s" --project="$project" >/dev/null 2>&1 ||
            die "secret $s not found: run infra/gcp/secrets.sh first"
    done
fi

# --- 1. the image -----------------------------------------------------------------------
if [ -z "$image" ]; then
    log "Artifact Registry repository $repo"
    if exists gcloud artifacts repositories describe "$repo" --location="$region" --project="$project"; then
        note "exists"
    else
        run gcloud artifacts repositories create "$repo" --project="$project" \
            --location="$region" --repository-format=docker \
            --description="queue images"
        # Keep the five newest images and delete older ones, so the repository stays well
        # inside Artifact Registry's free storage.
        policy=$(mktemp "${TMPDIR:-/tmp}/queue-cleanup.XXXXXX")
        trap 'rm -f "$policy"' EXIT
        cat >"$policy" <<'JSON'
[
  {"name": "keep-recent", "action": {"type": "Keep"}, "mostRecentVersions": {"keepCount": 5}},
  {"name": "delete-old", "action": {"type": "Delete"}, "condition": {"tagState": "any", "olderThan": "1d"}}
]
JSON
        run gcloud artifacts repositories set-cleanup-policies "$repo" --project="$project" \
            --location="$region" --policy="$policy" --format=none
    fi
    if [ "$DRY_RUN" = 1 ]; then
        print_cmd '? (read)' gcloud artifacts repositories describe "$repo" --project="$project" \
            --location="$region" --format='value(registryUri)'
        image="REGISTRY_URI/ingress:$tag"
    else
        registry=$(gcloud artifacts repositories describe "$repo" --project="$project" \
            --location="$region" --format='value(registryUri)')
        [ -n "$registry" ] || die "could not read the address of repository $repo"
        image="$registry/ingress:$tag"
    fi
    log "building $image with Cloud Build (the first build takes a while)"
    (
        cd "$repo_root"
        run gcloud builds submit . --project="$project" \
            --config=infra/gcp/cloudbuild.ingress.yaml \
            --ignore-file=infra/gcp/ingress.gcloudignore \
            --substitutions="_IMAGE=$image"
    )
fi

# --- 2. the service ---------------------------------------------------------------------
# The chat id list holds commas, so the variables use '@' as their delimiter
# (see 'gcloud topic escaping').
# gen1: the quicker cold start, and the one that allows 256Mi (gen2 needs 512Mi).
# --allow-unauthenticated: Telegram cannot authenticate to Google. The service itself checks
# the webhook secret header and the API bearer token, and answers only allowed chats.
log "deploying $service"
run gcloud run deploy "$service" --project="$project" --region="$region" \
    --image="$image" \
    --service-account="$sa" \
    --min-instances=0 \
    --max-instances="$max_instances" \
    --execution-environment=gen1 \
    --memory="$memory" \
    --cpu=1 \
    --concurrency=80 \
    --timeout=60s \
    --allow-unauthenticated \
    --set-env-vars="^@^QUEUE_STORE=$store@TELEGRAM_ALLOWED_CHAT_IDS=$chat_ids@QUEUE_WAKE_WRITES=$wake_writes" \
    --set-secrets="TELEGRAM_BOT_TOKEN=$bot_secret:latest,TELEGRAM_WEBHOOK_SECRET=$webhook_secret:latest,INGRESS_API_TOKEN=$api_secret:latest" \
    --quiet

if [ "$DRY_RUN" = 1 ]; then
    print_cmd '? (read)' gcloud run services describe "$service" --project="$project" \
        --region="$region" --format='value(status.url)'
    url="https://SERVICE_URL"
else
    url=$(gcloud run services describe "$service" --project="$project" --region="$region" \
        --format='value(status.url)')
    [ -n "$url" ] || die "could not read the URL of $service"
fi
log "service URL: $url"

run curl -fsS --max-time 20 -o /dev/null "$url/healthz" ||
    warn "GET $url/healthz failed; see 'gcloud run services logs read $service --region=$region'"

# --- 3. the webhook ---------------------------------------------------------------------
[ -n "$webhook_url" ] || webhook_url="$url/telegram/webhook"

read_secret() {
    gcloud secrets versions access latest --secret="$1" --project="$project"
}

register_with_ingress() {
    local cmd=()
    if [ -n "$ingress_bin" ]; then
        cmd=("$ingress_bin")
    elif [ -x "$repo_root/target/release/ingress" ]; then
        cmd=("$repo_root/target/release/ingress")
    else
        cmd=(cargo run --quiet --release --manifest-path "$repo_root/Cargo.toml" -p ingress --)
    fi
    cmd+=(set-webhook --url "$webhook_url")
    note "with TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET read from Secret Manager"
    note "($bot_secret, $webhook_secret) into the environment of:"
    print_cmd '+' "${cmd[@]}"
    [ "$DRY_RUN" = 1 ] && return 0
    (
        TELEGRAM_BOT_TOKEN=$(read_secret "$bot_secret") || die "could not read $bot_secret"
        TELEGRAM_WEBHOOK_SECRET=$(read_secret "$webhook_secret") || die "could not read $webhook_secret"
        export TELEGRAM_BOT_TOKEN TELEGRAM_WEBHOOK_SECRET
        "${cmd[@]}"
    )
}

# The token is part of the Bot API's URL, so curl reads its URL from a config on standard
# input (written by printf, a shell builtin): it never appears in a process list.
register_with_curl() {
    local api=${TELEGRAM_API_URL:-https://api.telegram.org}
    note "POST $api/bot<token>/setWebhook url=$webhook_url secret_token=<secret> allowed_updates=$allowed_updates"
    print_cmd '+' curl -sS --max-time 30 --config -
    [ "$DRY_RUN" = 1 ] && return 0
    local token secret response
    token=$(read_secret "$bot_secret") || die "could not read $bot_secret"
    secret=$(read_secret "$webhook_secret") || die "could not read $webhook_secret"
    # Every value here is free of quotes and backslashes (checked above, or by secrets.sh).
    response=$(printf 'url = "%s/bot%s/setWebhook"\ndata-urlencode = "url=%s"\ndata-urlencode = "secret_token=%s"\ndata-urlencode = allowed_updates=%s\n' \
        "$api" "$token" "$webhook_url" "$secret" "$allowed_updates" |
        curl -sS --max-time 30 --config -) || die "setWebhook request failed"
    case "$response" in
        *'"ok":true'* | *'"ok": true'*) note "Telegram: $response" ;;
        *) die "Telegram refused the webhook: $response" ;;
    esac
}

log "registering the webhook $webhook_url"
case "$webhook" in
    ingress) register_with_ingress ;;
    curl) register_with_curl ;;
    none) note "skipped (--webhook none)" ;;
esac

log "done: $url"
note "try: curl -fsS $url/healthz"
note "next: infra/gcp/create-vm.sh --project $project"
