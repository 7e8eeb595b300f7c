#!/usr/bin/env bash
# Secret Manager secrets for the ingress: the bot token, the webhook secret, the API token.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

usage() {
    cat <<EOF
Usage: ${0##*/} --project ID [options]

Creates three secrets if absent, stores a value in each, and lets the ingress service account
read them (roles/secretmanager.secretAccessor on each secret, not on the project):

  secret                       value from                  if the variable is unset
  $SECRET_BOT_TOKEN           \$TELEGRAM_BOT_TOKEN          keep the stored value, else ask
  $SECRET_WEBHOOK_SECRET      \$TELEGRAM_WEBHOOK_SECRET     keep the stored value, else generate
  $SECRET_API_TOKEN           \$INGRESS_API_TOKEN           keep the stored value, else generate

"Ask" reads the token from the terminal without echoing it, or one line from standard input
when that is not a terminal:  printf '%s\\n' "\$TOKEN" | ${0##*/} --project ID
A new version is added only when the value differs from the stored one, so a re-run with the
same values changes nothing. Values are never printed; generated ones can be read back with
'gcloud secrets versions access latest --secret=NAME'.

Options:
  --project ID             Google Cloud project (default: \$GOOGLE_CLOUD_PROJECT)
  --ingress-sa NAME        service account that may read the secrets (default: $SA_INGRESS)
  --bot-token-secret NAME       (default: $SECRET_BOT_TOKEN)
  --webhook-secret-secret NAME  (default: $SECRET_WEBHOOK_SECRET)
  --api-token-secret NAME       (default: $SECRET_API_TOKEN)
  --dry-run                print every command instead of running it (reads no value)
  -h, --help               this text
EOF
}

project=${GOOGLE_CLOUD_PROJECT:-}
ingress_sa=$SA_INGRESS
bot_secret=$SECRET_BOT_TOKEN
webhook_secret=$SECRET_WEBHOOK_SECRET
api_secret=$SECRET_API_TOKEN

while [ $# -gt 0 ]; do
    case "$1" in
        --*=*) opt=$1; shift; set -- "${opt%%=*}" "${opt#*=}" "$@" ;;
    esac
    case "$1" in
        --project) need_value "$1" "${2-}"; project=$2; shift 2 ;;
        --ingress-sa) need_value "$1" "${2-}"; ingress_sa=$2; shift 2 ;;
        --bot-token-secret) need_value "$1" "${2-}"; bot_secret=$2; shift 2 ;;
        --webhook-secret-secret) need_value "$1" "${2-}"; webhook_secret=$2; shift 2 ;;
        --api-token-secret) need_value "$1" "${2-}"; api_secret=$2; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

check_project "$project"
check_sa_name "$ingress_sa"
check_secret_name "$bot_secret"
check_secret_name "$webhook_secret"
check_secret_name "$api_secret"
sa=$(sa_email "$ingress_sa" "$project")

# check_value KIND VALUE — reject values the ingress or Telegram would refuse, without
# showing them.
check_value() {
    case "$1" in
        bot-token)
            [[ $2 =~ ^[0-9]+:[A-Za-z0-9_-]+$ ]] ||
                die "the bot token does not look like '123456:ABC…' (as @BotFather gives it)"
            ;;
        webhook-secret)
            # Telegram's rule for secret_token: 1-256 characters, A-Z a-z 0-9 _ -.
            [[ $2 =~ ^[A-Za-z0-9_-]{1,256}$ ]] ||
                die "the webhook secret must be 1-256 characters of A-Z, a-z, 0-9, '_' and '-'"
            ;;
        api-token)
            [[ $2 =~ ^[!-~]{16,}$ ]] ||
                die "the API token must be at least 16 printable characters without spaces"
            ;;
    esac
}

generate() {
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# ensure_secret NAME KIND ENV_VAR CAN_GENERATE
ensure_secret() {
    local name=$1 kind=$2 var=$3 can_generate=$4
    local value=${!var:-}

    log "secret $name"
    if exists gcloud secrets describe "$name" --project="$project"; then
        note "exists"
    else
        run gcloud secrets create "$name" --project="$project" \
            --replication-policy=automatic --format=none
    fi

    if [ "$DRY_RUN" = 1 ]; then
        if [ -n "$value" ]; then
            note "would store the value of \$$var if it differs from the stored one"
        elif [ "$can_generate" = 1 ]; then
            note "\$$var is unset: would keep the stored value, or generate one if there is none"
        else
            note "\$$var is unset: would keep the stored value, or ask for one if there is none"
        fi
        print_cmd '+' gcloud secrets versions add "$name" --project="$project" --data-file=-
        note "(the value goes through a pipe, never on a command line)"
        return 0
    fi

    # Tell "no version yet" from "could not read it": only the first may generate a value,
    # or a passing error would silently rotate a secret that the webhook depends on.
    local versions current=""
    versions=$(gcloud secrets versions list "$name" --project="$project" \
        --filter=state=ENABLED --limit=1 --format='value(name)') ||
        die "could not list the versions of $name"
    if [ -n "$versions" ]; then
        current=$(gcloud secrets versions access latest --secret="$name" --project="$project") ||
            die "could not read the latest version of $name"
    fi
    if [ -z "$value" ]; then
        if [ -n "$current" ]; then
            note "\$$var is unset: keeping the stored value"
            return 0
        fi
        if [ "$can_generate" = 1 ]; then
            note "generating a random value"
            value=$(generate)
        elif [ -t 0 ]; then
            read -r -s -p "Value for $name (input hidden): " value
            printf '\n' >&2
        else
            IFS= read -r value || true
        fi
        [ -n "$value" ] || die "no value for $name: set \$$var or pass it on standard input"
    fi
    check_value "$kind" "$value"
    if [ "$value" = "$current" ]; then
        note "unchanged"
        return 0
    fi
    print_cmd '+' gcloud secrets versions add "$name" --project="$project" --data-file=-
    printf '%s' "$value" |
        gcloud secrets versions add "$name" --project="$project" --data-file=- --format=none
    note "stored a new version"
}

grant() {
    log "letting $ingress_sa read $1"
    retry 5 gcloud secrets add-iam-policy-binding "$1" --project="$project" \
        --member="serviceAccount:$sa" \
        --role=roles/secretmanager.secretAccessor \
        --format=none
}

log "secrets in $project, readable by $sa"
preflight
enable_apis "$project" secretmanager.googleapis.com
if [ "$DRY_RUN" = 0 ]; then
    gcloud iam service-accounts describe "$sa" --project="$project" >/dev/null 2>&1 ||
        die "$sa not found: run infra/gcp/service-accounts.sh first"
fi

ensure_secret "$bot_secret" bot-token TELEGRAM_BOT_TOKEN 0
ensure_secret "$webhook_secret" webhook-secret TELEGRAM_WEBHOOK_SECRET 1
ensure_secret "$api_secret" api-token INGRESS_API_TOKEN 1
for name in "$bot_secret" "$webhook_secret" "$api_secret"; do
    grant "$name"
done

log "done"
note "next: infra/gcp/deploy-ingress.sh --project $project --bucket BUCKET --allowed-chat-ids IDS"
