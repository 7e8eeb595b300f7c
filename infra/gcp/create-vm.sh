#!/usr/bin/env bash
# The e2-micro VM that runs worker-light 24/7.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

usage() {
    cat <<EOF
Usage: ${0##*/} --project ID [options]

Creates, if absent, an e2-micro Debian 12 VM that runs as the $SA_WORKER_LIGHT service
account with one OAuth scope, devstorage.read_write: the VM can use Cloud Storage (and, by
that account's IAM, only the queue bucket's objects) and no other Google API.

Options:
  --project ID            Google Cloud project (default: \$GOOGLE_CLOUD_PROJECT)
  --zone ZONE             (default: $DEFAULT_ZONE; the free tier covers one e2-micro in
                          us-west1, us-central1 or us-east1)
  --name NAME             instance name (default: $VM_NAME)
  --service-account NAME  (default: $SA_WORKER_LIGHT)
  --disk-gb N             standard persistent disk size (default: 30, the free allowance)
  --no-external-ip        no public address. The VM then reaches Cloud Storage through
                          Private Google Access (enabled on the subnet by this script) but
                          not the internet: no apt, no Telegram replies, unless you add Cloud
                          NAT (billed). SSH goes through IAP.
  --allow-paid            allow a zone outside the free tier
  --dry-run               print every command instead of running it
  -h, --help              this text

Re-running with an existing instance changes nothing and prints the next steps again.
EOF
}

project=${GOOGLE_CLOUD_PROJECT:-}
zone=$DEFAULT_ZONE
name=$VM_NAME
sa_name=$SA_WORKER_LIGHT
disk_gb=30
external_ip=1
allow_paid=0

while [ $# -gt 0 ]; do
    case "$1" in
        --*=*) opt=$1; shift; set -- "${opt%%=*}" "${opt#*=}" "$@" ;;
    esac
    case "$1" in
        --project) need_value "$1" "${2-}"; project=$2; shift 2 ;;
        --zone) need_value "$1" "${2-}"; zone=$2; shift 2 ;;
        --name) need_value "$1" "${2-}"; name=$2; shift 2 ;;
        --service-account) need_value "$1" "${2-}"; sa_name=$2; shift 2 ;;
        --disk-gb) need_value "$1" "${2-}"; disk_gb=$2; shift 2 ;;
        --no-external-ip) external_ip=0; shift ;;
        --allow-paid) allow_paid=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

check_project "$project"
check_zone "$zone"
check_match "instance name" "$name" '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$' "lowercase letters, digits, hyphens"
check_sa_name "$sa_name"
check_uint "--disk-gb" "$disk_gb"
[ "$disk_gb" -ge 10 ] || usage_error "--disk-gb must be at least 10 (the Debian image's size)"
region=${zone%-*}
if ! is_free_tier_region "$region"; then
    [ "$allow_paid" = 1 ] || usage_error "$zone is outside the free tier ($FREE_TIER_REGIONS); pass --allow-paid to use it anyway"
    warn "$zone is outside the free tier: the VM will be billed"
fi
if [ "$disk_gb" -gt 30 ]; then
    [ "$allow_paid" = 1 ] || usage_error "--disk-gb over 30 is billed; pass --allow-paid to use it anyway"
    warn "disk over the free 30 GB: the excess is billed"
fi
sa=$(sa_email "$sa_name" "$project")

log "VM $name in $zone ($project)"
note "e2-micro, Debian 12, ${disk_gb} GB standard disk, runs as $sa"
note "scopes: storage-rw only; OS Login; Shielded VM"
if [ "$external_ip" = 1 ]; then
    note "ephemeral external IP (needed for apt and Telegram replies; see README: cost)"
else
    note "no external IP; Private Google Access on the $region default subnet"
fi

preflight
enable_apis "$project" compute.googleapis.com

if [ "$DRY_RUN" = 0 ]; then
    gcloud iam service-accounts describe "$sa" --project="$project" >/dev/null 2>&1 ||
        die "$sa not found: run infra/gcp/service-accounts.sh first"
fi

if exists gcloud compute instances describe "$name" --zone="$zone" --project="$project"; then
    attached=$(gcloud compute instances describe "$name" --zone="$zone" --project="$project" \
        --format='value(serviceAccounts[0].email)')
    log "$name exists; leaving it as it is"
    [ "$attached" = "$sa" ] || warn "$name runs as '$attached', not $sa"
else
    address=()
    if [ "$external_ip" = 0 ]; then
        address=(--no-address)
        run gcloud compute networks subnets update default --project="$project" \
            --region="$region" --enable-private-ip-google-access
    fi
    # STANDARD provisioning (not spot) and pd-standard: what the free tier covers.
    run gcloud compute instances create "$name" --project="$project" \
        --zone="$zone" \
        --machine-type=e2-micro \
        --provisioning-model=STANDARD \
        --maintenance-policy=MIGRATE \
        --image-family=debian-12 \
        --image-project=debian-cloud \
        --boot-disk-size="${disk_gb}GB" \
        --boot-disk-type=pd-standard \
        --service-account="$sa" \
        --scopes=storage-rw \
        --metadata=enable-oslogin=TRUE \
        --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring \
        --labels=app=queue,component=worker-light \
        ${address[@]+"${address[@]}"}
fi

ssh_flags="--zone=$zone --project=$project"
[ "$external_ip" = 1 ] || ssh_flags="$ssh_flags --tunnel-through-iap"
cat >&2 <<EOF

Next steps (see infra/gcp/README.md, "The VM"):
  1. Build worker-light for Debian 12 x86_64, e.g. in the Dockerfile's builder image (a
     separate target directory keeps it apart from your own builds):
       docker run --rm --platform linux/amd64 -v "\$PWD":/src -w /src \\
         -e CARGO_TARGET_DIR=target/linux-amd64 rust:1-slim-bookworm \\
         cargo build --release --locked -p worker-light -p queuectl
  2. Copy the binaries, the systemd files and the routine jobs (examples/ or your own):
       gcloud compute scp $ssh_flags --recurse \\
         target/linux-amd64/release/worker-light target/linux-amd64/release/queuectl \\
         infra/systemd/worker-light.service infra/systemd/worker-light.env.example \\
         infra/systemd/install.sh examples/handlers.toml examples/schedules.toml \\
         examples/handlers $name:
  3. On the VM ('gcloud compute ssh $name $ssh_flags'): install.sh picks up what lies
     beside it (handlers.toml, schedules.toml, handlers/, queuectl) and enables the schedules:
       sudo ./install.sh --binary ./worker-light
       sudoedit /etc/queue/worker-light.env      # QUEUE_STORE, bot token, admin chat
       sudo systemctl restart worker-light && journalctl -u worker-light -f
  With 1 GB of memory, a swap file helps Python handlers through peaks:
       sudo fallocate -l 1G /swapfile && sudo chmod 600 /swapfile && sudo mkswap /swapfile
       sudo swapon /swapfile && echo '/swapfile none swap sw 0 0' | sudo tee -a /etc/fstab
EOF
