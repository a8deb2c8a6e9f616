#!/bin/bash
# The busy reporter: tells the demand scaler whether this instance runs jobs.
#
# Reads the runner's own Prometheus metrics (listen_address 127.0.0.1:9252, gitlab_runner_jobs)
# every GRF_BUSY_POLL_SECONDS and keeps two tags on this instance: gitlab-runner-fleet:busy-slots
# (running jobs) and gitlab-runner-fleet:idle-since (epoch seconds since the last job ended,
# empty while busy). Tags, not a metric per instance: they cost nothing, and the fleet-level
# metrics are published once per fleet by the scaler. A tag is written when the count changes
# (at most once per GRF_BUSY_MIN_WRITE_SECONDS unless busy/idle flips) and refreshed every
# GRF_BUSY_REFRESH_SECONDS, so EC2's API rate stays flat however busy the fleet is.
# Unreadable metrics write nothing: the scaler then never takes the instance for an idle one.
set -uo pipefail

GRF_COMPONENT=busy-reporter
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
for file in "$GRF_PARAMS_FILE" "$GRF_INSTANCE_ENV"; do
  # shellcheck disable=SC1090
  if [[ -f "$file" ]]; then . "$file"; fi
done

: "${GRF_BUSY_POLL_SECONDS:=15}"
: "${GRF_BUSY_MIN_WRITE_SECONDS:=60}"
: "${GRF_BUSY_REFRESH_SECONDS:=600}"
: "${GRF_BUSY_ONCE:=}"
: "${GRF_METRICS_URL:=http://127.0.0.1:9252/metrics}"

if [[ -z "${GRF_INSTANCE_ID:-}" || -z "${GRF_REGION:-}" ]]; then
  log "ERROR: GRF_INSTANCE_ID and GRF_REGION are not set (written by the bootstrap to $GRF_INSTANCE_ENV)"
  exit 2
fi

busy_jobs() {
  curl -fsS --max-time 2 "$GRF_METRICS_URL" 2>/dev/null | awk '/^gitlab_runner_jobs[{ ]/ { n += $NF } END { print n + 0 }'
}

last_jobs=-1
last_write=0
idle_since=""
while true; do
  now=$(date +%s)
  if jobs=$(busy_jobs) && [[ "$jobs" =~ ^[0-9]+$ ]]; then
    if ((jobs == 0)) && [[ -z "$idle_since" || "$last_jobs" -gt 0 ]]; then idle_since=$now; fi
    if ((jobs > 0)); then idle_since=""; fi
    flipped=0
    if ((last_jobs < 0)) || { ((last_jobs == 0)) && ((jobs > 0)); } || { ((last_jobs > 0)) && ((jobs == 0)); }; then flipped=1; fi
    if ((flipped == 1)) || { ((jobs != last_jobs)) && ((now - last_write >= GRF_BUSY_MIN_WRITE_SECONDS)); } || ((now - last_write >= GRF_BUSY_REFRESH_SECONDS)); then
      if aws ec2 create-tags --region "$GRF_REGION" --resources "$GRF_INSTANCE_ID" \
        --tags "Key=gitlab-runner-fleet:busy-slots,Value=$jobs" "Key=gitlab-runner-fleet:idle-since,Value=$idle_since" >/dev/null; then
        last_jobs=$jobs
        last_write=$now
      else
        log "could not tag the instance with busy-slots=$jobs; will retry"
      fi
    fi
  fi
  [[ -n "$GRF_BUSY_ONCE" ]] && exit 0
  sleep "$GRF_BUSY_POLL_SECONDS"
done
