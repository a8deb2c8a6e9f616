#!/bin/bash
# The drain agent: never lose a job, never leave an orphan runner manager.
#
# Polls IMDSv2 for the Auto Scaling target lifecycle state and the spot interruption notice.
#  - Target state Terminated (scale-in, scheduled scale-down, instance refresh, rebalance):
#    SIGQUIT the runner (stop taking jobs, finish running ones), record lifecycle heartbeats
#    while jobs run (up to the max job timeout), delete this machine's runner manager in GitLab,
#    complete the terminate lifecycle action with CONTINUE, exit.
#  - Spot notice (about two minutes left): SIGQUIT at once, let jobs run until
#    GRF_SPOT_DEREGISTER_AFTER_MS (90 s) after the notice, deregister, then keep watching so the
#    terminate lifecycle action is completed as soon as Auto Scaling starts it.
# Each step leaves a marker under $GRF_RUN_DIR (tmpfs): a restarted agent or a second trigger
# resumes where it stopped and never repeats a step.
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

runner_pid() {
  local pid
  pid=$(systemctl show --property MainPID --value gitlab-runner.service 2>/dev/null) || pid=0
  [[ "$pid" =~ ^[0-9]+$ ]] || pid=0
  echo "$pid"
}

# Running jobs according to the runner's Prometheus metrics; fails when they are unavailable.
metrics_jobs() {
  curl -fsS --max-time 2 "$GRF_METRICS_URL" 2>/dev/null | awk '/^gitlab_runner_jobs[{ ]/ { n += $NF } END { print n + 0 }'
}

# True while the runner process lives and (when metrics answer) still reports running jobs.
# A runner that got SIGQUIT takes no new job, so zero jobs stays zero.
jobs_running() {
  local pid jobs
  pid=$(runner_pid)
  if ((pid == 0)) || ! kill -0 "$pid" 2>/dev/null; then
    return 1
  fi
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

# wait_for_jobs DEADLINE_MS: waits (recording heartbeats when enabled) until no job runs or the deadline.
wait_for_jobs() {
  local deadline="$1" last_log=0 now jobs
  while jobs_running; do
    now=$(now_ms)
    if ((now >= deadline)); then
      log "WARNING: jobs still running at the drain deadline; deregistering anyway (the jobs fail as runner_system_failure)"
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

deregister() {
  done_step deregistered && return 0
  deregister_manager "$1" heartbeat_tick || true
  mark_step deregistered
}

drain_for_termination() {
  log "target lifecycle state is Terminated (scale-in, scheduled scale-down, instance refresh or rebalance): draining"
  GRF_HEARTBEATS=1
  stop_runner
  if ! done_step deregistered; then
    wait_for_jobs $(($(now_ms) + GRF_MAX_JOB_TIMEOUT_MS))
    deregister $(($(now_ms) + GRF_DEREGISTER_TIMEOUT_MS))
  fi
  if complete_lifecycle "$GRF_TERMINATE_HOOK" CONTINUE; then
    log "completed terminate lifecycle action $GRF_TERMINATE_HOOK with CONTINUE"
  else
    log "ERROR: could not complete $GRF_TERMINATE_HOOK; the hook's timeout ends the wait"
  fi
  mark_step completed
}

# The notice names the reclaim time; deregister by GRF_SPOT_DEREGISTER_AFTER_MS after seeing the
# notice or GRF_SPOT_RECLAIM_MARGIN_MS before the reclaim time, whichever comes first.
drain_for_spot() {
  local deregister_at reclaim_at
  deregister_at=$(($(now_ms) + GRF_SPOT_DEREGISTER_AFTER_MS))
  if reclaim_at=$(date -d "$(json_field time <<<"$1")" +%s 2>/dev/null) && [[ -n "$reclaim_at" ]]; then
    reclaim_at=$((reclaim_at * 1000 - GRF_SPOT_RECLAIM_MARGIN_MS))
    if ((reclaim_at < deregister_at)); then deregister_at=$reclaim_at; fi
  fi
  log "spot interruption notice ($(tr -d '\n' <<<"$1")): draining before the instance is reclaimed"
  mark_step spot
  stop_runner
  wait_for_jobs "$deregister_at"
  deregister $((deregister_at + GRF_SPOT_DEREGISTER_MARGIN_MS))
}

if done_step completed; then
  log "this instance was already drained and its lifecycle action completed; nothing to do"
  exit 0
fi
trap 'log "drain agent stopped"; exit 0' TERM INT
log "drain agent watching IMDS every ${GRF_POLL_SECONDS}s (system_id=$GRF_SYSTEM_ID)"
while :; do
  if imds_refresh_token; then
    if ! done_step spot && notice=$(imds_get meta-data/spot/instance-action); then
      drain_for_spot "$notice"
    fi
    state=$(imds_get meta-data/autoscaling/target-lifecycle-state)
    case $? in
      0)
        if [[ "$state" == Terminated ]]; then
          drain_for_termination
          log "drain complete"
          exit 0
        fi
        ;;
      4) ;;
      *) GRF_IMDS_TOKEN_AT=0 ;;
    esac
  fi
  sleep "$GRF_POLL_SECONDS"
done
