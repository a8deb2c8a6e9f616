#!/bin/bash
# Functions shared by bootstrap.sh and drain-agent.sh (sourced, not run).
#
# Every path and endpoint can be overridden from the environment, so the tests run the real
# scripts unprivileged against 127.0.0.1 with stub commands on PATH. GRF_ROOT relocates every
# file path under one directory; it is empty on a real instance.
# shellcheck disable=SC2034 # variables are used by the scripts that source this file

: "${GRF_ROOT:=}"
: "${GRF_IMDS_ENDPOINT:=http://169.254.169.254}"
: "${GRF_PARAMS_FILE:=$GRF_ROOT/etc/gitlab-runner-fleet/fleet.env}"
: "${GRF_RUN_DIR:=$GRF_ROOT/run/gitlab-runner-fleet}"
: "${GRF_CONFIG_DIR:=$GRF_ROOT/etc/gitlab-runner}"
: "${GRF_BIN_DIR:=$GRF_ROOT/usr/local/bin}"
: "${GRF_SYSTEMD_DIR:=$GRF_ROOT/etc/systemd/system}"
: "${GRF_DOCKER_CONFIG_DIR:=$GRF_ROOT/etc/docker}"
: "${GRF_RETRY_BASE_MS:=2000}"
: "${GRF_RETRY_MAX_MS:=30000}"
: "${GRF_SYSLOG:=1}"
: "${GRF_CURL_TIMEOUT_SECONDS:=15}"

# The instance metadata service as the job firewall (imds-guard.sh) blocks it for the job user.
GRF_IMDS_IPV4=169.254.169.254
GRF_IMDS_IPV6=fd00:ec2::254
GRF_GUARD_TABLE=gitlab_runner_fleet_imds_guard

GRF_TOKEN_FILE="$GRF_RUN_DIR/runner-token"
now_ms() { date +%s%3N; }
GRF_INSTANCE_ENV="$GRF_RUN_DIR/instance.env"

# One log line to stdout (the journal under systemd, cloud-init-output.log at boot) and to
# syslog. Never pass the runner token here: nothing in these scripts ever holds it in a
# variable that is logged.
log() {
  local line
  line="gitlab-runner-fleet[${GRF_COMPONENT:-script}] instance=${GRF_INSTANCE_ID:-unknown} runner=${GRF_RUNNER_NAME:-unknown}: $*"
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$line"
  if [[ "$GRF_SYSLOG" == 1 ]] && command -v logger >/dev/null 2>&1; then
    logger -t gitlab-runner-fleet -- "$line" || true
  fi
}

# The runner system_id of an instance: "s_" and the last 12 hex digits of the instance id,
# zero-padded for 8-digit ids. Same rule as systemIdForInstance() in lib/identity/runner-identity.ts.
system_id_for_instance() {
  local hex="${1#i-}"
  [[ "$1" == i-* && "$hex" =~ ^([0-9a-f]{8}|[0-9a-f]{17})$ ]] || return 1
  hex="000000000000$hex"
  printf 's_%s\n' "${hex: -12}"
}

# sleep_ms MILLISECONDS
sleep_ms() {
  sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"
}

# next_backoff_ms DELAY_MS: the pause after DELAY_MS, doubled and capped.
next_backoff_ms() {
  local next=$(($1 * 2))
  echo $((next > GRF_RETRY_MAX_MS ? GRF_RETRY_MAX_MS : next))
}

# retry ATTEMPTS COMMAND...: runs COMMAND until it succeeds, doubling the pause between tries.
retry() {
  local attempts="$1" n=1 delay="$GRF_RETRY_BASE_MS"
  shift
  until "$@"; do
    if ((n >= attempts)); then
      return 1
    fi
    sleep_ms "$delay"
    delay=$(next_backoff_ms "$delay")
    n=$((n + 1))
  done
}

GRF_IMDS_TOKEN=""
GRF_IMDS_TOKEN_AT=0

# Fetches an IMDSv2 session token when the current one is missing or older than 5 minutes.
# Must run in the calling shell (not in $(...)) so the token is kept for the next reads.
imds_refresh_token() {
  local now
  now=$(date +%s)
  if [[ -n "$GRF_IMDS_TOKEN" ]] && ((now - GRF_IMDS_TOKEN_AT < 300)); then
    return 0
  fi
  GRF_IMDS_TOKEN=$(curl -sS -f --max-time 3 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 600' \
    "$GRF_IMDS_ENDPOINT/latest/api/token") || {
    GRF_IMDS_TOKEN=""
    return 1
  }
  GRF_IMDS_TOKEN_AT=$now
}

# imds_get PATH: prints the IMDS value under /latest/PATH. Returns 0 on 200, 4 on 404 (e.g. no
# spot notice yet) and 1 on anything else (then forgets the session token, so it is renewed).
imds_get() {
  local body code
  body=$(mktemp)
  code=$(curl -sS --max-time 3 -o "$body" -w '%{http_code}' -H "X-aws-ec2-metadata-token: $GRF_IMDS_TOKEN" \
    "$GRF_IMDS_ENDPOINT/latest/$1") || code=000
  case "$code" in
    200) cat "$body" && rm -f "$body" && return 0 ;;
    404) rm -f "$body" && return 4 ;;
    *)
      rm -f "$body"
      GRF_IMDS_TOKEN_AT=0
      return 1
      ;;
  esac
}

# json_field NAME: the string value of a top-level field of the JSON object on stdin (the
# identity document is flat; AL2023 does not guarantee jq).
json_field() {
  tr -d '\n' | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"
}

# curl arguments that make the scripts trust the private CA, when one was configured.
gitlab_ca_args() {
  local host="${GRF_GITLAB_URL#*://}"
  host="${host%%/*}"
  host="${host%%:*}"
  if [[ -s "$GRF_CONFIG_DIR/certs/$host.crt" ]]; then
    printf '%s\n' --cacert "$GRF_CONFIG_DIR/certs/$host.crt"
  fi
}

# deregister_manager DEADLINE_MS [TICK_FUNCTION]: removes this machine's runner manager from GitLab
# (DELETE /api/v4/runners/managers with the runner token and system_id; never DELETE
# /api/v4/runners, which would remove the runner of the whole fleet). Retries 5xx, 429 and
# connection failures with backoff until DEADLINE_MS (epoch milliseconds); 404 means already gone.
# TICK_FUNCTION runs between tries (the drain agent records lifecycle heartbeats there).
# Returns 0 when the manager is gone, 1 when it gave up.
deregister_manager() {
  local deadline_ms="$1" tick="${2:-}" delay="$GRF_RETRY_BASE_MS" code attempt=1 ca_args=()
  mapfile -t ca_args < <(gitlab_ca_args)
  while :; do
    # The token is read by curl from a root-only file ("<file"), so it is neither in argv nor in a log.
    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time "$GRF_CURL_TIMEOUT_SECONDS" "${ca_args[@]}" -X DELETE \
      -F "token=<$GRF_TOKEN_FILE" -F "system_id=$GRF_SYSTEM_ID" "$GRF_GITLAB_URL/api/v4/runners/managers") || code=000
    case "$code" in
      200 | 204)
        log "deregistered runner manager system_id=$GRF_SYSTEM_ID (HTTP $code, attempt $attempt)"
        return 0
        ;;
      404)
        log "runner manager system_id=$GRF_SYSTEM_ID was already gone (HTTP 404): nothing to deregister"
        return 0
        ;;
      401 | 403 | 400)
        log "ERROR: GitLab refused to deregister system_id=$GRF_SYSTEM_ID (HTTP $code): token revoked or runner deleted?" \
          "Not retrying; the safety-net Lambda and the orphan reaper will clean up."
        return 1
        ;;
    esac
    if (($(now_ms) + delay > deadline_ms)); then
      log "ERROR: GIVING UP deregistering system_id=$GRF_SYSTEM_ID after $attempt attempts (last HTTP $code)." \
        "The safety-net Lambda and the orphan reaper will remove the stale runner manager."
      return 1
    fi
    log "GitLab unavailable for deregistration (HTTP $code, attempt $attempt); retrying in ${delay} ms"
    sleep_ms "$delay"
    if [[ -n "$tick" ]]; then "$tick"; fi
    delay=$(next_backoff_ms "$delay")
    attempt=$((attempt + 1))
  done
}

# complete_lifecycle HOOK RESULT: completes this instance's lifecycle action (CONTINUE/ABANDON).
complete_lifecycle() {
  retry 3 aws autoscaling complete-lifecycle-action --region "$GRF_REGION" --lifecycle-hook-name "$1" \
    --auto-scaling-group-name "$GRF_ASG_NAME" --instance-id "$GRF_INSTANCE_ID" --lifecycle-action-result "$2"
}

# publish_metric NAME VALUE [UNIT]: one datapoint in the fleet namespace, dimension Fleet only (the
# naming rule of lib/identity/fleet-metrics.ts; names in health-metrics.ts). In the background: a
# slow CloudWatch must not eat a spot notice window; callers that exit next `wait` for it.
publish_metric() {
  [[ -n "${GRF_FLEET_NAME:-}" && "$2" =~ ^[0-9]+$ ]] || return 0
  (aws cloudwatch put-metric-data --region "$GRF_REGION" --namespace GitLabRunnerFleet --metric-name "$1" \
    --dimensions "Fleet=$GRF_FLEET_NAME" --value "$2" --unit "${3:-Count}" >/dev/null 2>&1 ||
    log "WARNING: could not publish metric $1=$2") &
}
