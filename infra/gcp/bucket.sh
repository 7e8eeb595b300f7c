#!/usr/bin/env bash
# Create (or bring into line) the Cloud Storage bucket that holds the queue.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

usage() {
    cat <<EOF
Usage: ${0##*/} --project ID --bucket NAME [options]

Creates the queue bucket, or updates an existing one to the same settings:
  - uniform bucket-level access, public access prevention enforced
  - soft delete off (see below), object versioning off
  - a lifecycle rule deleting finished tasks (*/done/) after --done-days days

Options:
  --project ID        Google Cloud project (default: \$GOOGLE_CLOUD_PROJECT)
  --bucket NAME       bucket name, without gs://
  --location REGION   bucket region (default: $DEFAULT_REGION; the free tier covers
                      us-west1, us-central1, us-east1)
  --prefix PATH       the store prefix, if QUEUE_STORE is gs://NAME/PATH (default: none)
  --done-days N       delete heavy/done and light/done objects N days after they were
                      written (default: 30; 0 keeps them forever)
  --failed-days N     also delete */failed/ objects after N days (default: 0 = keep)
  --soft-delete-days N  0 turns soft delete off (default); otherwise 7-90
  --print-lifecycle   print the lifecycle JSON these options produce, and exit
  --dry-run           print every command instead of running it
  -h, --help          this text

Why soft delete is off: the queue moves a task between states by writing the new object and
deleting the old one, and renews leases by rewriting them. With soft delete on, every one of
those deleted or overwritten objects would be kept (and billed) for the retention period. The
queue's history lives in done/ and failed/ anyway.
EOF
}

project=${GOOGLE_CLOUD_PROJECT:-}
bucket=""
location=$DEFAULT_REGION
prefix=""
done_days=30
failed_days=0
soft_delete_days=0
print_lifecycle=0

while [ $# -gt 0 ]; do
    case "$1" in
        --*=*) opt=$1; shift; set -- "${opt%%=*}" "${opt#*=}" "$@" ;;
    esac
    case "$1" in
        --project) need_value "$1" "${2-}"; project=$2; shift 2 ;;
        --bucket) need_value "$1" "${2-}"; bucket=${2#gs://}; shift 2 ;;
        --location) need_value "$1" "${2-}"; location=$2; shift 2 ;;
        --prefix) need_value "$1" "${2-}"; prefix=$2; shift 2 ;;
        --done-days) need_value "$1" "${2-}"; done_days=$2; shift 2 ;;
        --failed-days) need_value "$1" "${2-}"; failed_days=$2; shift 2 ;;
        --soft-delete-days) need_value "$1" "${2-}"; soft_delete_days=$2; shift 2 ;;
        --print-lifecycle) print_lifecycle=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

check_prefix "$prefix"
check_uint "--done-days" "$done_days"
check_uint "--failed-days" "$failed_days"
check_uint "--soft-delete-days" "$soft_delete_days"
if [ "$soft_delete_days" != 0 ] && { [ "$soft_delete_days" -lt 7 ] || [ "$soft_delete_days" -gt 90 ]; }; then
    usage_error "--soft-delete-days must be 0 or 7-90 (Cloud Storage's allowed range)"
fi

# lifecycle_json — the bucket's lifecycle configuration. With the defaults it is exactly
# infra/gcp/lifecycle.json (the checked-in copy, for reading and for use by hand).
lifecycle_json() {
    local p=""
    [ -n "$prefix" ] && p="$prefix/"
    local rules=()
    if [ "$done_days" != 0 ]; then
        rules+=("$(printf '    {\n      "action": {"type": "Delete"},\n      "condition": {"age": %s, "matchesPrefix": ["%sheavy/done/", "%slight/done/"]}\n    }' \
            "$done_days" "$p" "$p")")
    fi
    if [ "$failed_days" != 0 ]; then
        rules+=("$(printf '    {\n      "action": {"type": "Delete"},\n      "condition": {"age": %s, "matchesPrefix": ["%sheavy/failed/", "%slight/failed/"]}\n    }' \
            "$failed_days" "$p" "$p")")
    fi
    printf '{\n  "rule": [\n'
    local i=0 n=${#rules[@]}
    while [ "$i" -lt "$n" ]; do
        printf '%s' "${rules[$i]}"
        i=$((i + 1))
        if [ "$i" -lt "$n" ]; then printf ',\n'; else printf '\n'; fi
    done
    printf '  ]\n}\n'
}

if [ "$print_lifecycle" = 1 ]; then
    lifecycle_json
    exit 0
fi

check_project "$project"
check_bucket "$bucket"
check_region "$location"
if ! is_free_tier_region "$location"; then
    warn "$location is outside the Cloud Storage free tier ($FREE_TIER_REGIONS)"
fi

lifecycle_file=$(mktemp "${TMPDIR:-/tmp}/queue-lifecycle.XXXXXX")
trap 'rm -f "$lifecycle_file"' EXIT
lifecycle_json >"$lifecycle_file"

log "bucket gs://$bucket in project $project ($location)"
note "uniform access, public access prevention, versioning off"
if [ "$soft_delete_days" = 0 ]; then
    note "soft delete: off"
else
    note "soft delete: ${soft_delete_days}d"
fi
if [ "$done_days" = 0 ]; then
    note "done tasks: kept forever"
else
    note "done tasks: deleted ${done_days} days after they finish"
fi
[ "$failed_days" = 0 ] || note "failed tasks: deleted ${failed_days} days after they fail"
if [ "$DRY_RUN" = 1 ] && { [ "$done_days" != 0 ] || [ "$failed_days" != 0 ]; }; then
    note "lifecycle file ($lifecycle_file):"
    sed 's/^/      /' "$lifecycle_file" >&2
fi

preflight
enable_apis "$project" storage.googleapis.com

# With no rule at all (--done-days 0 and --failed-days 0) the bucket gets no lifecycle.
if [ "$done_days" = 0 ] && [ "$failed_days" = 0 ]; then
    create_lifecycle=()
    update_lifecycle=(--clear-lifecycle)
else
    create_lifecycle=(--lifecycle-file="$lifecycle_file")
    update_lifecycle=(--lifecycle-file="$lifecycle_file")
fi

if [ "$soft_delete_days" = 0 ]; then
    create_soft_delete=(--soft-delete-duration=0)
    update_soft_delete=(--clear-soft-delete)
else
    create_soft_delete=(--soft-delete-duration="${soft_delete_days}d")
    update_soft_delete=(--soft-delete-duration="${soft_delete_days}d")
fi

if exists gcloud storage buckets describe "gs://$bucket" --project="$project"; then
    log "gs://$bucket exists: applying the settings again"
    run gcloud storage buckets update "gs://$bucket" --project="$project" \
        --uniform-bucket-level-access \
        --public-access-prevention \
        --no-versioning \
        "${update_soft_delete[@]}" \
        "${update_lifecycle[@]}"
else
    log "creating gs://$bucket"
    run gcloud storage buckets create "gs://$bucket" --project="$project" \
        --location="$location" \
        --default-storage-class=STANDARD \
        --uniform-bucket-level-access \
        --public-access-prevention \
        "${create_soft_delete[@]}" \
        ${create_lifecycle[@]+"${create_lifecycle[@]}"}
fi

store="gs://$bucket"
[ -n "$prefix" ] && store="$store/$prefix"
log "done. QUEUE_STORE=$store"
note "next: infra/gcp/service-accounts.sh --project $project --bucket $bucket"
