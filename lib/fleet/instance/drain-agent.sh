#!/bin/bash
# The drain agent: never lose a job, never leave an orphan runner manager.
#
# Polls IMDSv2 for the Auto Scaling target lifecycle state, the spot interruption notice and the
# rebalance recommendation.
#  - Target state Terminated (scale-in, scheduled scale-down, instance refresh, capacity rebalance):
#    SIGQUIT the runner (stop taking jobs, finish running ones), record lifecycle heartbeats
#    while jobs run (up to the max job timeout), delete this machine's runner manager in GitLab,
#    force-stop jobs still running at the deadline, complete the terminate lifecycle action with
#    CONTINUE, exit. A spot notice seen while it waits shortens the deadline to the spot one.
#  - Spot notice (about two minutes left): SIGQUIT at once, let jobs run until
#    GRF_SPOT_DEREGISTER_AFTER_MS (90 s) after the notice or GRF_SPOT_RECLAIM_MARGIN_MS before the
#    reclaim, deregister, force-stop the jobs still running (so GitLab fails them now as
#    runner_system_failure instead of an hour later), then keep watching so the terminate
#    lifecycle action is completed as soon as Auto Scaling starts it.
#  - Rebalance recommendation: only counted. With capacity rebalancing on, Auto Scaling launches
#    a replacement and then terminates this instance through the terminate hook (first case).
#
# Signals, as GitLab Runner documents them (https://docs.gitlab.com/runner/commands/#signals):
# SIGQUIT is the graceful shutdown (no new job, exit once running jobs finish); SIGTERM and SIGINT
# are the forceful shutdown (abort running jobs, exit). An aborted job is reported to GitLab as
# failed with failure reason runner_system_failure (Build.run in gitlab-runner's common/build.go:
# the SystemInterrupt case), which `retry: when: [runner_system_failure]` retries at once.
#
# A marker under $GRF_RUN_DIR (tmpfs) means a step FINISHED; a restarted agent or a second
# trigger repeats every step that has no marker and skips the others. drain-<trigger>-seen files
# hold when a trigger was first seen, so a restarted agent keeps the original deadlines.
set -uo pipefail

GRF_COMPONENT=drain-agent
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
for file in "$GRF_PARAMS_FILE" "$GRF_INSTANCE_ENV"; do
  # shellcheck disable=SC1090
  if [[ -f "$file" ]]; then . "$file"; fi
done

: "${GRF_POLL_SECONDS:=5}"
# Durations in milliseconds, derived from the rendered parameters; the tests shorten them.
: "${GRF_HEARTBEAT_MS:=$((${GRF_HEARTBEAT_SECONDS:-300} * 1000))}"
: "${GRF_MAX_JOB_TIMEOUT_MS:=$((${GRF_MAX_JOB_TIMEOUT_MINUTES:-60} * 60000))}"
: "${GRF_DEREGISTER_TIMEOUT_MS:=300000}"
: "${GRF_SPOT_DEREGISTER_AFTER_MS:=90000}"
: "${GRF_SPOT_DEREGISTER_MARGIN_MS:=20000}"
: "${GRF_SPOT_RECLAIM_MARGIN_MS:=30000}"
# How long a force-stopped runner gets to report its aborted jobs to GitLab before we move on.
: "${GRF_FORCE_STOP_WAIT_MS:=15000}"
: "${GRF_METRICS_URL:=http://127.0.0.1:9252/metrics}"
: "${GRF_PROGRESS_LOG_SECONDS:=60}"

for required in GRF_GITLAB_URL GRF_ASG_NAME GRF_TERMINATE_HOOK GRF_INSTANCE_ID GRF_REGION GRF_SYSTEM_ID; do
  if [[ -z "${!required:-}" ]]; then
    log "ERROR: $required is not set (written by the bootstrap to $GRF_INSTANCE_ENV); nothing to drain"
    exit 2
  fi
done

done_step() { [[ -e "$GRF_RUN_DIR/drain-$1" ]]; }
mark_step() { : >"$GRF_RUN_DIR/drain-$1"; }
clear_step() { rm -f "$GRF_RUN_DIR/drain-$1"; }

# first_seen_ms TRIGGER: when TRIGGER was first seen (epoch ms), recorded on the first call.
first_seen_ms() {
  local file="$GRF_RUN_DIR/drain-$1-seen" at=""
  if [[ -s "$file" ]]; then at=$(<"$file"); fi
  if ! [[ "$at" =~ ^[0-9]+$ ]]; then
    at=$(now_ms)
    echo "$at" >"$file"
  fi
  echo "$at"
}

runner_pid() {
  local pid
  pid=$(systemctl show --property MainPID --value gitlab-runner.service 2>/dev/null) || pid=0
  [[ "$pid" =~ ^[0-9]+$ ]] || pid=0
  echo "$pid"
}

runner_alive() {
  local pid
  pid=$(runner_pid)
  ((pid > 0)) && kill -0 "$pid" 2>/dev/null
}

# Running jobs according to the runner's Prometheus metrics; fails when they are unavailable.
metrics_jobs() {
  curl -fsS --max-time 2 "$GRF_METRICS_URL" 2>/dev/null | awk '/^gitlab_runner_jobs[{ ]/ { n += $NF } END { print n + 0 }'
}

# True while the runner process lives and (when metrics answer) still reports running jobs.
# A runner that got SIGQUIT takes no new job, so zero jobs stays zero.
jobs_running() {
  local jobs
  runner_alive || return 1
  if jobs=$(metrics_jobs) && [[ "$jobs" == 0 ]]; then
    return 1
  fi
  return 0
}

GRF_HEARTBEATS=0
GRF_NEXT_HEARTBEAT=0
heartbeat_tick() {
  ((GRF_HEARTBEATS == 1)) || return 0
  local now
  now=$(now_ms)
  ((now >= GRF_NEXT_HEARTBEAT)) || return 0
  GRF_NEXT_HEARTBEAT=$((now + GRF_HEARTBEAT_MS))
  if aws autoscaling record-lifecycle-action-heartbeat --region "$GRF_REGION" --lifecycle-hook-name "$GRF_TERMINATE_HOOK" \
    --auto-scaling-group-name "$GRF_ASG_NAME" --instance-id "$GRF_INSTANCE_ID" >/dev/null; then
    log "recorded lifecycle heartbeat for $GRF_TERMINATE_HOOK"
  else
    log "WARNING: lifecycle heartbeat failed; retrying in $((GRF_HEARTBEAT_MS / 1000))s"
  fi
}

# imds_read PATH: imds_get into GRF_IMDS_VALUE, in the calling shell, so that an error also forgets
# the session token here (imds_get runs in a subshell, where that would be lost).
GRF_IMDS_VALUE=""
imds_read() {
  local rc
  GRF_IMDS_VALUE=$(imds_get "$1")
  rc=$?
  if ((rc == 1)); then GRF_IMDS_TOKEN_AT=0; fi
  return "$rc"
}

GRF_SPOT_DEADLINE=0 # epoch ms by which to deregister; 0 until a spot notice is seen
GRF_SPOT_RECLAIM=0  # epoch ms of the reclaim the notice names; 0 when it names none

# watch_spot_notice: reads the spot notice until one is seen; then sets GRF_SPOT_DEADLINE to
# GRF_SPOT_DEREGISTER_AFTER_MS after the first sighting or GRF_SPOT_RECLAIM_MARGIN_MS before the
# reclaim, whichever comes first. Returns 0 once a notice is known. Must run in the calling shell.
watch_spot_notice() {
  ((GRF_SPOT_DEADLINE > 0)) && return 0
  imds_refresh_token || return 1
  local notice seen time reclaim_s
  imds_read meta-data/spot/instance-action || return 1
  notice=$GRF_IMDS_VALUE
  if [[ ! -e "$GRF_RUN_DIR/drain-spot-seen" ]]; then publish_metric SpotInterruptionNotices 1; fi
  seen=$(first_seen_ms spot)
  GRF_SPOT_DEADLINE=$((seen + GRF_SPOT_DEREGISTER_AFTER_MS))
  time=$(json_field time <<<"$notice")
  if [[ -n "$time" ]] && reclaim_s=$(date -d "$time" +%s 2>/dev/null) && [[ "$reclaim_s" =~ ^[0-9]+$ ]]; then
    GRF_SPOT_RECLAIM=$((reclaim_s * 1000))
    if ((GRF_SPOT_RECLAIM - GRF_SPOT_RECLAIM_MARGIN_MS < GRF_SPOT_DEADLINE)); then
      GRF_SPOT_DEADLINE=$((GRF_SPOT_RECLAIM - GRF_SPOT_RECLAIM_MARGIN_MS))
    fi
  fi
  log "spot interruption notice ($(tr -d '\n' <<<"$notice")): deregistering in $(((GRF_SPOT_DEADLINE - $(now_ms)) / 1000))s at the latest"
  return 0
}

# watch_rebalance: counts a rebalance recommendation once. Capacity rebalancing acts on it through
# the terminate hook; the agent has nothing else to do.
watch_rebalance() {
  done_step rebalance && return 0
  imds_read meta-data/events/recommendations/rebalance || return 0
  log "rebalance recommendation ($(tr -d '\n' <<<"$GRF_IMDS_VALUE")): the instance is at elevated risk of a spot" \
    "interruption; with capacity rebalancing Auto Scaling launches a replacement, then drains this one through the terminate hook"
  publish_metric SpotRebalanceRecommendations 1
  mark_step rebalance
}

stop_runner() {
  done_step stopped && return 0
  log "sending SIGQUIT to gitlab-runner (systemctl stop, KillSignal=SIGQUIT): no new jobs, running jobs finish"
  if ! systemctl stop --no-block gitlab-runner.service; then
    local pid
    pid=$(runner_pid)
    if ((pid > 0)); then kill -QUIT "$pid" || true; fi
  fi
  mark_step stopped
}

# wait_for_jobs DEADLINE_MS: waits (recording heartbeats when enabled) until no job runs or the
# deadline, which a spot notice seen meanwhile brings forward to the spot deadline.
wait_for_jobs() {
  local deadline="$1" last_log=0 now jobs
  while jobs_running; do
    if watch_spot_notice && ((GRF_SPOT_DEADLINE < deadline)); then
      deadline=$GRF_SPOT_DEADLINE
      log "spot notice while waiting for jobs: drain deadline brought forward to the spot deadline"
    fi
    now=$(now_ms)
    if ((now >= deadline)); then
      log "WARNING: jobs still running at the drain deadline; deregistering anyway (they are then failed as runner_system_failure)"
      return 1
    fi
    if ((now - last_log >= GRF_PROGRESS_LOG_SECONDS * 1000)); then
      jobs=$(metrics_jobs) || jobs=unknown
      log "waiting for running jobs to finish (jobs=$jobs, $(((deadline - now) / 1000))s left)"
      last_log=$now
    fi
    heartbeat_tick
    sleep "$GRF_POLL_SECONDS"
  done
  log "no job is running any more"
}

# deregister DEADLINE_MS: a give-up is recorded apart from success, so the next trigger (a terminate
# lifecycle action after a spot give-up, a restarted agent) tries again while the instance lives.
deregister() {
  done_step deregistered && return 0
  if deregister_manager "$1" heartbeat_tick; then
    mark_step deregistered
    clear_step deregister-gave-up
  else
    mark_step deregister-gave-up
    publish_metric DeregistrationFailures 1
  fi
}

# force_stop_jobs REASON: after deregistration, the forceful shutdown (SIGTERM): GitLab Runner aborts
# the jobs still running and reports them failed (runner_system_failure) while it still can, instead
# of GitLab finding them stuck up to an hour later. Waits up to GRF_FORCE_STOP_WAIT_MS for it to exit.
force_stop_jobs() {
  done_step forced && return 0
  if jobs_running; then
    local jobs pid until
    jobs=$(metrics_jobs) || jobs=unknown
    log "forced shutdown ($1): SIGTERM to gitlab-runner; it aborts its running jobs (jobs=$jobs) and reports them" \
      "failed as runner_system_failure, so jobs with retry:when:runner_system_failure are retried on another runner"
    if ! systemctl kill --kill-whom=main --signal=SIGTERM gitlab-runner.service; then
      pid=$(runner_pid)
      if ((pid > 0)); then kill -TERM "$pid" || true; fi
    fi
    if [[ "$1" == "spot reclaim" ]]; then publish_metric JobsFailedByReclaim "$jobs"; fi
    until=$(($(now_ms) + GRF_FORCE_STOP_WAIT_MS))
    while runner_alive && (($(now_ms) < until)); do sleep "$GRF_POLL_SECONDS"; done
  fi
  mark_step forced
}

drain_for_termination() {
  log "target lifecycle state is Terminated (scale-in, scheduled scale-down, instance refresh or rebalance): draining"
  GRF_HEARTBEATS=1
  local started
  started=$(first_seen_ms terminate)
  stop_runner
  if ! done_step deregistered; then
    wait_for_jobs $((started + GRF_MAX_JOB_TIMEOUT_MS))
    local deregister_by=$(($(now_ms) + GRF_DEREGISTER_TIMEOUT_MS))
    # Past the reclaim there is no instance left to deregister from.
    if ((GRF_SPOT_RECLAIM > 0 && GRF_SPOT_RECLAIM < deregister_by)); then deregister_by=$GRF_SPOT_RECLAIM; fi
    deregister "$deregister_by"
  fi
  if ((GRF_SPOT_DEADLINE > 0)); then force_stop_jobs "spot reclaim"; else force_stop_jobs "drain deadline"; fi
  # Published before CONTINUE (the instance goes away right after), awaited after it.
  publish_metric DrainSeconds $((($(now_ms) - started) / 1000)) Seconds
  if complete_lifecycle "$GRF_TERMINATE_HOOK" CONTINUE; then
    log "completed terminate lifecycle action $GRF_TERMINATE_HOOK with CONTINUE"
  else
    log "ERROR: could not complete $GRF_TERMINATE_HOOK; the hook's timeout ends the wait"
  fi
  wait
  mark_step completed
}

drain_for_spot() {
  log "spot interruption: draining before the instance is reclaimed"
  stop_runner
  wait_for_jobs "$GRF_SPOT_DEADLINE"
  deregister $((GRF_SPOT_DEADLINE + GRF_SPOT_DEREGISTER_MARGIN_MS))
  force_stop_jobs "spot reclaim"
  mark_step spot
}

if done_step completed; then
  log "this instance was already drained and its lifecycle action completed; nothing to do"
  exit 0
fi
trap 'log "drain agent stopped"; exit 0' TERM INT
log "drain agent watching IMDS every ${GRF_POLL_SECONDS}s (system_id=$GRF_SYSTEM_ID)"
while :; do
  if imds_refresh_token; then
    watch_rebalance
    if ! done_step spot && watch_spot_notice; then
      drain_for_spot
    fi
    if imds_read meta-data/autoscaling/target-lifecycle-state && [[ "$GRF_IMDS_VALUE" == Terminated ]]; then
      drain_for_termination
      log "drain complete"
      exit 0
    fi
  fi
  sleep "$GRF_POLL_SECONDS"
done
