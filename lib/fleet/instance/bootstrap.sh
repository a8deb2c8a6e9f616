#!/bin/bash
# Boot-time setup of a fleet instance: installs and registers GitLab Runner, starts it and the
# drain agent, then completes the launch lifecycle hook. Runs on every boot (cloud-init
# per-boot), because the runner configuration is generated fresh each time: nothing left on
# disk by an earlier registration or baked into the image is trusted (seed 001).
#
# Parameters come from $GRF_PARAMS_FILE, written by the user data from rendered, quoted values.
# The runner token is read from Secrets Manager into a root-only file under /run (tmpfs) and
# reaches `gitlab-runner register` through its environment, never argv or a log line.
set -euo pipefail
umask 022

GRF_COMPONENT=bootstrap
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
GRF_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -f "$GRF_PARAMS_FILE" ]]; then
  # shellcheck disable=SC1090
  . "$GRF_PARAMS_FILE"
fi

for required in GRF_FLEET_NAME GRF_GITLAB_URL GRF_RUNNER_VERSION GRF_RUNNER_DOWNLOAD_URL GRF_ARCHITECTURE GRF_EXECUTOR \
  GRF_CONCURRENCY GRF_MAX_JOB_TIMEOUT_MINUTES GRF_TOKEN_SECRET_ID GRF_ASG_NAME GRF_LAUNCH_HOOK GRF_TERMINATE_HOOK; do
  if [[ -z "${!required:-}" ]]; then
    log "ERROR: parameter $required is not set (expected in $GRF_PARAMS_FILE)"
    exit 2
  fi
done

GRF_CONFIG_FILE="$GRF_CONFIG_DIR/config.toml"
GRF_LIFECYCLE_DONE=0
GRF_REGISTER_ATTEMPTED=0
GRF_FAILURE="unexpected error"

# On any failure, tell Auto Scaling to replace this instance (ABANDON) instead of counting it as
# capacity, after removing a runner manager that a half-finished registration may have created.
on_exit() {
  local rc=$?
  if ((rc == 0)) || ((GRF_LIFECYCLE_DONE == 1)); then
    return
  fi
  log "ERROR: bootstrap failed: $GRF_FAILURE (exit $rc)"
  if ((GRF_REGISTER_ATTEMPTED == 1)) && [[ -s "$GRF_TOKEN_FILE" ]]; then
    deregister_manager $(($(now_ms) + 60000)) || true
  fi
  if [[ -n "${GRF_INSTANCE_ID:-}" && -n "${GRF_REGION:-}" ]]; then
    publish_metric RegistrationFailures 1
    if complete_lifecycle "$GRF_LAUNCH_HOOK" ABANDON; then
      log "completed launch lifecycle action $GRF_LAUNCH_HOOK with ABANDON: Auto Scaling replaces this instance"
    else
      log "ERROR: could not complete $GRF_LAUNCH_HOOK with ABANDON; the hook times out and abandons the instance"
    fi
    wait
  fi
}
trap on_exit EXIT

fail() {
  GRF_FAILURE="$*"
  exit 1
}

# --- who am I (IMDSv2 only) ---------------------------------------------------------------
retry 5 imds_refresh_token || fail "no IMDSv2 session token from $GRF_IMDS_ENDPOINT"
GRF_INSTANCE_ID=$(retry 5 imds_get meta-data/instance-id) || fail "could not read the instance id from IMDS"
identity=$(retry 5 imds_get dynamic/instance-identity/document) || fail "could not read the identity document from IMDS"
GRF_REGION=$(json_field region <<<"$identity")
GRF_ACCOUNT=$(json_field accountId <<<"$identity")
[[ -n "$GRF_REGION" && -n "$GRF_ACCOUNT" ]] || fail "identity document has no region or accountId"
life_cycle=$(imds_get meta-data/instance-life-cycle) || life_cycle=unknown
GRF_SYSTEM_ID=$(system_id_for_instance "$GRF_INSTANCE_ID") || fail "\"$GRF_INSTANCE_ID\" is not an EC2 instance id"
GRF_RUNNER_NAME="$GRF_FLEET_NAME-$GRF_INSTANCE_ID-$GRF_ACCOUNT-$GRF_REGION"
export GRF_INSTANCE_ID GRF_RUNNER_NAME
log "bootstrap of fleet $GRF_FLEET_NAME: region=$GRF_REGION lifecycle=$life_cycle system_id=$GRF_SYSTEM_ID runner $GRF_RUNNER_VERSION"

install -d -m 0700 "$GRF_RUN_DIR"
install -d -m 0700 "$GRF_CONFIG_DIR"
# Fresh on every boot: an old config.toml or system id (from the image or an earlier boot) is never reused.
rm -f "$GRF_CONFIG_FILE" "$GRF_CONFIG_DIR/.runner_system_id" "$GRF_RUN_DIR/drain-"*
printf '%s\n' "$GRF_SYSTEM_ID" >"$GRF_CONFIG_DIR/.runner_system_id"
(
  umask 077
  declare -p GRF_INSTANCE_ID GRF_REGION GRF_ACCOUNT GRF_SYSTEM_ID GRF_RUNNER_NAME >"$GRF_INSTANCE_ENV"
)

# --- runner token from Secrets Manager, into a root-only file on tmpfs ---------------------
# A mixed fleet has one runner per compute type: an on-demand instance registers with the
# runner tagged computetype-ondemand, so a job asking for on-demand never lands on spot.
if [[ "$life_cycle" == on-demand && -n "${GRF_ONDEMAND_TOKEN_SECRET_ID:-}" ]]; then
  GRF_TOKEN_SECRET_ID=$GRF_ONDEMAND_TOKEN_SECRET_ID
fi
log "runner token secret: $GRF_TOKEN_SECRET_ID (instance-life-cycle $life_cycle)"
read_token() {
  (
    umask 077
    aws secretsmanager get-secret-value --region "$GRF_REGION" --secret-id "$GRF_TOKEN_SECRET_ID" \
      --query SecretString --output text >"$GRF_TOKEN_FILE.tmp"
  )
}
retry 5 read_token || fail "could not read the runner token from Secrets Manager secret $GRF_TOKEN_SECRET_ID"
runner_token=$(tr -d '[:space:]' <"$GRF_TOKEN_FILE.tmp")
rm -f "$GRF_TOKEN_FILE.tmp"
[[ -n "$runner_token" ]] || fail "Secrets Manager secret $GRF_TOKEN_SECRET_ID is empty"
[[ "$runner_token" == glrt-* ]] || log "WARNING: the secret $GRF_TOKEN_SECRET_ID does not hold a glrt- runner authentication token"
(
  umask 077
  printf '%s' "$runner_token" >"$GRF_TOKEN_FILE"
)

# The drain agent watches for scale-in and spot notices from now on.
systemctl daemon-reload || true
systemctl restart gitlab-runner-fleet-drain.service || log "WARNING: could not start the drain agent"

# --- executor, mirror, CA ------------------------------------------------------------------
if [[ -n "${GRF_CA_CERTIFICATE:-}" ]]; then
  host="${GRF_GITLAB_URL#*://}"
  host="${host%%/*}"
  host="${host%%:*}"
  install -d -m 0755 "$GRF_CONFIG_DIR/certs"
  printf '%s\n' "$GRF_CA_CERTIFICATE" >"$GRF_CONFIG_DIR/certs/$host.crt"
  log "installed the private CA bundle for $host"
fi
if [[ "$GRF_EXECUTOR" == docker ]]; then
  retry 5 dnf install -y docker || fail "could not install docker"
  if [[ -n "${GRF_REGISTRY_MIRROR:-}" ]]; then
    install -d -m 0755 "$GRF_DOCKER_CONFIG_DIR"
    printf '{\n  "registry-mirrors": ["%s"]\n}\n' "$GRF_REGISTRY_MIRROR" >"$GRF_DOCKER_CONFIG_DIR/daemon.json"
    log "docker uses the registry mirror $GRF_REGISTRY_MIRROR"
  fi
  systemctl enable docker.service || true
  systemctl restart docker.service || fail "could not start docker"
else
  retry 5 dnf install -y git || fail "could not install git for the shell executor"
fi

# --- GitLab Runner binary, pinned and checksummed (fail closed) ---------------------------
case "$GRF_ARCHITECTURE" in
  arm64) binary=gitlab-runner-linux-arm64 ;;
  x86_64) binary=gitlab-runner-linux-amd64 ;;
  *) fail "unsupported architecture $GRF_ARCHITECTURE" ;;
esac
release_url="$GRF_RUNNER_DOWNLOAD_URL/v$GRF_RUNNER_VERSION"
download="$GRF_RUN_DIR/$binary"
retry 5 curl -fsSL --max-time 300 -o "$download" "$release_url/binaries/$binary" ||
  fail "could not download GitLab Runner $GRF_RUNNER_VERSION from $release_url/binaries/$binary"
# A SHA-256 pinned at synth (the repository's table or the fleet's runnerSha256) does not come from
# the host that serves the binary, so a mirror must serve GitLab's exact bytes. Without a pin the
# release's own release.sha256 is the reference; either way no checksum means no install.
if [[ -n "${GRF_RUNNER_SHA256:-}" ]]; then
  expected="${GRF_RUNNER_SHA256,,}"
  reference="the pinned SHA-256"
else
  retry 3 curl -fsSL --max-time 60 -o "$GRF_RUN_DIR/release.sha256" "$release_url/release.sha256" ||
    fail "could not fetch $release_url/release.sha256 and no SHA-256 is pinned: refusing to install an unverified $binary"
  expected=$(awk -v f="binaries/$binary" '{ p = $2; sub(/^\*/, "", p); sub(/^\.\//, "", p); if (p == f) print $1 }' \
    "$GRF_RUN_DIR/release.sha256")
  rm -f "$GRF_RUN_DIR/release.sha256"
  [[ -n "$expected" ]] || fail "$release_url/release.sha256 lists no checksum for binaries/$binary: refusing to install it"
  reference="$release_url/release.sha256"
fi
actual=$(sha256sum "$download" | awk '{ print $1 }')
if [[ "$expected" != "$actual" ]]; then
  rm -f "$download"
  fail "checksum of $binary ($actual) does not match $reference ($expected): refusing to install it"
fi
log "verified $binary against $reference"
install -d -m 0755 "$GRF_BIN_DIR"
install -m 0755 "$download" "$GRF_BIN_DIR/gitlab-runner"
rm -f "$download"
# Jobs of the shell executor run as this unprivileged user (--user below), never as root.
if ! id gitlab-runner >/dev/null 2>&1; then
  useradd --system --create-home --home-dir /home/gitlab-runner --shell /bin/bash gitlab-runner
fi

# --- configuration and registration ---------------------------------------------------------
job_timeout_seconds=$((GRF_MAX_JOB_TIMEOUT_MINUTES * 60))
(
  umask 077
  # Global settings first: `register` keeps them and appends the [[runners]] section.
  # shutdown_timeout bounds only a forced stop (SIGTERM: abort jobs, report them failed); the
  # graceful stop (SIGQUIT) waits for jobs, bounded by TimeoutStopSec below and the drain agent.
  cat >"$GRF_CONFIG_FILE" <<EOF
concurrent = $GRF_CONCURRENCY
check_interval = 0
shutdown_timeout = 60
listen_address = "127.0.0.1:9252"

[session_server]
  session_timeout = 1800
EOF
)
register_args=(register --non-interactive --config "$GRF_CONFIG_FILE" --url "$GRF_GITLAB_URL"
  --executor "$GRF_EXECUTOR" --name "$GRF_RUNNER_NAME")
if [[ "$GRF_EXECUTOR" == docker ]]; then
  register_args+=(--docker-image "$GRF_DOCKER_IMAGE")
fi
# The drain agent runs from early on: if it already stopped this runner (spot notice or scale-in
# during boot), registering now would leave a manager nobody deregisters.
draining() { [[ -e "$GRF_RUN_DIR/drain-stopped" ]]; }
register_runner() {
  local output rc=0
  if draining; then fail "the instance started draining (scale-in or spot notice) before its runner registered"; fi
  GRF_REGISTER_ATTEMPTED=1
  output=$(CI_SERVER_TOKEN="$runner_token" "$GRF_BIN_DIR/gitlab-runner" "${register_args[@]}" 2>&1) || rc=$?
  log "gitlab-runner register (exit $rc): ${output//"$runner_token"/[redacted]}"
  return "$rc"
}
# Retried: a GitLab hiccup at boot should not cost an instance; a bad token fails all three.
retry 3 register_runner || fail "gitlab-runner register failed: bad token or GitLab unreachable?"
unset runner_token
grep -q '^\[\[runners\]\]' "$GRF_CONFIG_FILE" || fail "gitlab-runner register wrote no [[runners]] section"
sed -i "s/^concurrent = .*/concurrent = $GRF_CONCURRENCY/" "$GRF_CONFIG_FILE"
# config.toml holds the token: root only, in a root-only directory, like the token file under /run.
chmod 0600 "$GRF_CONFIG_FILE"
chmod 0700 "$GRF_CONFIG_DIR" "$GRF_RUN_DIR"

# --- service: a plain `systemctl stop` drains (SIGQUIT, wait for jobs) ----------------------
install -d -m 0755 "$GRF_SYSTEMD_DIR"
cat >"$GRF_SYSTEMD_DIR/gitlab-runner.service" <<EOF
[Unit]
Description=GitLab Runner (gitlab-runner-fleet $GRF_FLEET_NAME)
After=network-online.target docker.service
Wants=network-online.target

[Service]
ExecStartPre=$GRF_LIB_DIR/imds-guard.sh gitlab-runner
ExecStart=$GRF_BIN_DIR/gitlab-runner run --config $GRF_CONFIG_FILE --working-directory /home/gitlab-runner --service gitlab-runner --user gitlab-runner
KillSignal=SIGQUIT
KillMode=mixed
TimeoutStopSec=$((job_timeout_seconds + 300))
Restart=on-failure
RestartSec=5
EOF
systemctl daemon-reload
# Before the first job can run: the job user loses IMDS (and with it the instance role). The unit's
# ExecStartPre loads the rule again on every later start of the runner.
"$GRF_LIB_DIR/imds-guard.sh" gitlab-runner || fail "could not block IMDS for the job user"
if draining; then fail "the instance started draining (scale-in or spot notice) before its runner started"; fi
systemctl restart gitlab-runner.service || fail "could not start gitlab-runner.service"
retry 5 systemctl is-active --quiet gitlab-runner.service || fail "gitlab-runner.service is not running"
log "gitlab-runner is running: concurrent=$GRF_CONCURRENCY executor=$GRF_EXECUTOR"

# --- launch hook ---------------------------------------------------------------------------
GRF_LIFECYCLE_DONE=1
if complete_lifecycle "$GRF_LAUNCH_HOOK" CONTINUE; then
  log "completed launch lifecycle action $GRF_LAUNCH_HOOK with CONTINUE: instance is in service"
  # Seconds since the kernel booted: the whole boot-to-registered time, one datapoint per boot.
  publish_metric BootToRegisteredSeconds "$(cut -d. -f1 "$GRF_ROOT/proc/uptime" 2>/dev/null)" Seconds
  wait
else
  log "no pending launch lifecycle action to complete (a reboot, or the hook already timed out)"
fi
