#!/usr/bin/env bash
# Push wake-ups: Cloud Storage notifications of new pending tasks, through Pub/Sub, one
# subscription per class. Workers then pick up a task in about a second without polling.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

usage() {
    cat <<EOF
Usage: ${0##*/} --project ID --bucket NAME [options]

Creates, if absent:
  - the topic $TOPIC_PENDING, on which only the bucket's Cloud Storage service agent may
    publish (roles/pubsub.publisher on the topic);
  - two notification configs on the bucket: OBJECT_FINALIZE under heavy/pending/ and under
    light/pending/ (payload JSON_API_V1), published to that topic;
  - one subscription per class, $SUB_HEAVY and $SUB_LIGHT, each filtered to its class's
    pending prefix, with an ack deadline and 7 days of retention (what a MacBook asleep for
    a week finds on waking), never expiring;
  - each worker's service account may read its own class's subscription only
    (roles/pubsub.subscriber and roles/pubsub.viewer on that subscription, not the project).

Run service-accounts.sh first (the worker accounts must exist). Then start the workers with
  worker-light --wake pubsub:projects/PROJECT/subscriptions/$SUB_LIGHT
  worker-heavy --wake pubsub:projects/PROJECT/subscriptions/$SUB_HEAVY
(or QUEUE_WAKE), and the ingress with wake-up writes off (docs/workers.md, "Wake-ups").

Options:
  --project ID          Google Cloud project (default: \$GOOGLE_CLOUD_PROJECT)
  --bucket NAME         the queue bucket (made by bucket.sh)
  --prefix PATH         the store's prefix inside the bucket, as in gs://NAME/PATH (default none)
  --ack-deadline SECS   how long a pulled message waits for its ack before redelivery (default 60)
  --dry-run             print every command instead of running it
  -h, --help            this text

Cost: Pub/Sub's free tier is 10 GiB of messages a month; a notification is about 1 KB, so
even 100,000 tasks a month use about 1% of it. Each worker keeps one pull open at a time.
EOF
}

TOPIC_PENDING="queue-pending"
SUB_HEAVY="queue-heavy"
SUB_LIGHT="queue-light"

project=${GOOGLE_CLOUD_PROJECT:-}
bucket=""
prefix=""
ack_deadline=60

while [ $# -gt 0 ]; do
    case "$1" in
        --*=*) opt=$1; shift; set -- "${opt%%=*}" "${opt#*=}" "$@" ;;
    esac
    case "$1" in
        --project) need_value "$1" "${2-}"; project=$2; shift 2 ;;
        --bucket) need_value "$1" "${2-}"; bucket=${2#gs://}; shift 2 ;;
        --prefix) need_value "$1" "${2-}"; prefix=${2#/}; prefix=${prefix%/}; shift 2 ;;
        --ack-deadline) need_value "$1" "${2-}"; ack_deadline=$2; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

check_project "$project"
check_bucket "$bucket"
check_prefix "$prefix"
check_uint "--ack-deadline" "$ack_deadline"
if [ "$ack_deadline" -lt 10 ] || [ "$ack_deadline" -gt 600 ]; then
    usage_error "--ack-deadline must be 10-600 seconds"
fi

root=${prefix:+$prefix/}
topic="projects/$project/topics/$TOPIC_PENDING"

log "push wake-ups for gs://$bucket${prefix:+/$prefix} through $topic"
preflight
enable_apis "$project" pubsub.googleapis.com

if [ "$DRY_RUN" = 1 ]; then
    agent="service-PROJECT_NUMBER@gs-project-accounts.iam.gserviceaccount.com"
    print_cmd '+' gcloud storage service-agent --project="$project"
else
    gcloud storage buckets describe "gs://$bucket" --project="$project" >/dev/null 2>&1 ||
        die "gs://$bucket not found: run infra/gcp/bucket.sh first"
    agent=$(gcloud storage service-agent --project="$project")
fi
note "the bucket's Cloud Storage service agent: $agent"

if exists gcloud pubsub topics describe "$TOPIC_PENDING" --project="$project"; then
    log "topic $TOPIC_PENDING exists"
else
    log "creating topic $TOPIC_PENDING"
    run gcloud pubsub topics create "$TOPIC_PENDING" --project="$project"
fi
log "only the Cloud Storage service agent may publish to it"
retry 5 gcloud pubsub topics add-iam-policy-binding "$TOPIC_PENDING" --project="$project" \
    --member="serviceAccount:$agent" --role=roles/pubsub.publisher --format=none

# notification_exists PREFIX — a config on the bucket already sends PREFIX's new objects to
# the topic.
notification_exists() {
    if [ "$DRY_RUN" = 1 ]; then
        print_cmd '? (check)' gcloud storage buckets notifications list "gs://$bucket" --format=json
        return 1
    fi
    gcloud storage buckets notifications list "gs://$bucket" --format=json 2>/dev/null |
        tr -d ' \n' | grep -q "\"object_name_prefix\":\"$1\"[^}]*$TOPIC_PENDING"
}

for class in heavy light; do
    case "$class" in
        heavy) sub=$SUB_HEAVY; sa=$SA_WORKER_HEAVY ;;
        light) sub=$SUB_LIGHT; sa=$SA_WORKER_LIGHT ;;
    esac
    pending="${root}$class/pending/"
    if notification_exists "$pending"; then
        log "gs://$bucket already notifies $TOPIC_PENDING of $pending"
    else
        log "notifying $TOPIC_PENDING of new objects under $pending"
        run gcloud storage buckets notifications create "gs://$bucket" --topic="$topic" \
            --event-types=OBJECT_FINALIZE --object-prefix="$pending" --payload-format=json
    fi
    if exists gcloud pubsub subscriptions describe "$sub" --project="$project"; then
        log "subscription $sub exists"
    else
        log "creating subscription $sub (ack deadline ${ack_deadline}s, 7 days of retention)"
        run gcloud pubsub subscriptions create "$sub" --project="$project" \
            --topic="$TOPIC_PENDING" \
            --ack-deadline="$ack_deadline" \
            --message-retention-duration=7d \
            --expiration-period=never \
            --message-filter="hasPrefix(attributes.objectId, \"$pending\")"
    fi
    email=$(sa_email "$sa" "$project")
    log "$sa may pull from $sub only"
    for role in roles/pubsub.subscriber roles/pubsub.viewer; do
        retry 5 gcloud pubsub subscriptions add-iam-policy-binding "$sub" --project="$project" \
            --member="serviceAccount:$email" --role="$role" --format=none
    done
done

log "done"
note "worker-light: --wake pubsub:projects/$project/subscriptions/$SUB_LIGHT"
note "worker-heavy: --wake pubsub:projects/$project/subscriptions/$SUB_HEAVY"
