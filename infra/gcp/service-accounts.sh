#!/usr/bin/env bash
# The three service accounts, each allowed to use the objects of the queue bucket and nothing
# else in the project.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

usage() {
    cat <<EOF
Usage: ${0##*/} --project ID --bucket NAME [options]

Creates, if absent, one service account per component and grants each
roles/storage.objectUser on the queue bucket only (a bucket-level binding, not a project one):
  $SA_INGRESS         Cloud Run ingress (secrets are granted by secrets.sh)
  $SA_WORKER_LIGHT    worker-light on the VM (attached to the VM, no key)
  $SA_WORKER_HEAVY    worker-heavy on the MacBook (needs a key file, see below)

Options:
  --project ID           Google Cloud project (default: \$GOOGLE_CLOUD_PROJECT)
  --bucket NAME          the queue bucket (made by bucket.sh)
  --mac-key-file PATH    also create a JSON key for $SA_WORKER_HEAVY and write it to PATH
                         (only if PATH does not exist: a re-run mints no second key)
  --dry-run              print every command instead of running it
  -h, --help             this text

roles/storage.objectUser lets a component create, read, list, overwrite and delete objects:
what every queue state change needs. It gives no right over the bucket's settings or IAM,
nor over any other bucket.

A key file is a long-lived password for the Mac worker: keep it out of the repository and
backups, readable by you only, and delete it with 'gcloud iam service-accounts keys delete'
if the Mac is lost.
EOF
}

project=${GOOGLE_CLOUD_PROJECT:-}
bucket=""
mac_key_file=""

while [ $# -gt 0 ]; do
    case "$1" in
        --*=*) opt=$1; shift; set -- "${opt%%=*}" "${opt#*=}" "$@" ;;
    esac
    case "$1" in
        --project) need_value "$1" "${2-}"; project=$2; shift 2 ;;
        --bucket) need_value "$1" "${2-}"; bucket=${2#gs://}; shift 2 ;;
        --mac-key-file) need_value "$1" "${2-}"; mac_key_file=$2; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

check_project "$project"
check_bucket "$bucket"
make_key=0
if [ -n "$mac_key_file" ]; then
    if [ -e "$mac_key_file" ]; then
        note "$mac_key_file exists: no new key (move it away first to create another)"
    else
        make_key=1
        key_dir=$(dirname "$mac_key_file")
        [ -d "$key_dir" ] || [ "$DRY_RUN" = 1 ] || die "directory $key_dir does not exist"
    fi
fi

describe() {
    case "$1" in
        "$SA_INGRESS") echo "queue ingress (Cloud Run)" ;;
        "$SA_WORKER_LIGHT") echo "queue worker-light (VM)" ;;
        "$SA_WORKER_HEAVY") echo "queue worker-heavy (Mac)" ;;
    esac
}

log "service accounts in $project, each with roles/storage.objectUser on gs://$bucket only"
for name in "$SA_INGRESS" "$SA_WORKER_LIGHT" "$SA_WORKER_HEAVY"; do
    note "$(sa_email "$name" "$project")"
done
[ "$make_key" = 0 ] || note "and a key for $SA_WORKER_HEAVY written to $mac_key_file"

preflight
enable_apis "$project" iam.googleapis.com

if [ "$DRY_RUN" = 0 ]; then
    gcloud storage buckets describe "gs://$bucket" --project="$project" >/dev/null 2>&1 ||
        die "gs://$bucket not found: run infra/gcp/bucket.sh first"
fi

for name in "$SA_INGRESS" "$SA_WORKER_LIGHT" "$SA_WORKER_HEAVY"; do
    email=$(sa_email "$name" "$project")
    if exists gcloud iam service-accounts describe "$email" --project="$project"; then
        log "$email exists"
    else
        log "creating $email"
        run gcloud iam service-accounts create "$name" --project="$project" \
            --display-name="$(describe "$name")"
    fi
    # Adding a binding that is already there changes nothing, so this is safe to repeat.
    # Retried because IAM may not know a just-created account for a few seconds.
    log "granting roles/storage.objectUser on gs://$bucket to $name"
    retry 5 gcloud storage buckets add-iam-policy-binding "gs://$bucket" --project="$project" \
        --member="serviceAccount:$email" \
        --role=roles/storage.objectUser \
        --format=none
done

if [ "$make_key" = 1 ]; then
    email=$(sa_email "$SA_WORKER_HEAVY" "$project")
    warn "creating a long-lived key for $email; anyone holding $mac_key_file can read and"
    warn "change every task in gs://$bucket. Keep it private (mode 600), never commit it."
    (
        umask 077
        run gcloud iam service-accounts keys create "$mac_key_file" \
            --iam-account="$email" --project="$project"
    )
    run chmod 600 "$mac_key_file"
fi

log "done"
note "next: infra/gcp/secrets.sh --project $project"
