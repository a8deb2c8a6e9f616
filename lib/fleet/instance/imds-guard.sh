#!/bin/bash
# Keeps jobs away from the instance role. A shell-executor job is a host process of the job user,
# so the IMDS hop limit of 1 does not stop it: without this rule it could read the role's
# credentials from IMDS and, with them, the fleet's runner token. This script loads an nftables
# table that rejects the job user's connections to IMDS (IPv4 and IPv6); root (the runner, the
# bootstrap, the drain agent) keeps its access.
#
# Run on every start of gitlab-runner.service (ExecStartPre, and by the bootstrap on every boot
# before the runner starts): netfilter rules do not survive a reboot, so the runner never runs
# without them. Replaces the table atomically, so it can run any number of times. Exits non-zero
# when the rule cannot be loaded, and then the runner does not start.
#
# Usage: imds-guard.sh [JOB_USER] (default gitlab-runner)
set -euo pipefail
umask 077

GRF_COMPONENT=imds-guard
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

job_user="${1:-gitlab-runner}"
uid=$(id -u "$job_user") || {
  log "ERROR: no user $job_user: cannot block its access to IMDS"
  exit 1
}
if ((uid == 0)); then
  log "ERROR: the job user $job_user is root: jobs would hold the instance role"
  exit 1
fi
if ! command -v nft >/dev/null 2>&1; then
  retry 5 dnf install -y nftables || {
    log "ERROR: could not install nftables"
    exit 1
  }
fi

# "table; delete table; table {...}" in one file is one transaction: the old rules are replaced,
# never absent in between.
ruleset=$(mktemp)
trap 'rm -f "$ruleset"' EXIT
cat >"$ruleset" <<RULES
table inet $GRF_GUARD_TABLE
delete table inet $GRF_GUARD_TABLE
table inet $GRF_GUARD_TABLE {
  chain output {
    type filter hook output priority filter; policy accept;
    meta skuid $uid ip daddr $GRF_IMDS_IPV4 counter reject with icmpx type admin-prohibited
    meta skuid $uid ip6 daddr $GRF_IMDS_IPV6 counter reject with icmpx type admin-prohibited
  }
}
RULES
nft -f "$ruleset" || {
  log "ERROR: could not load the nftables rules that keep $job_user (uid $uid) away from IMDS"
  exit 1
}
nft list table inet "$GRF_GUARD_TABLE" >/dev/null || {
  log "ERROR: the nftables table $GRF_GUARD_TABLE is missing after loading it"
  exit 1
}
log "jobs of $job_user (uid $uid) cannot reach IMDS ($GRF_IMDS_IPV4, $GRF_IMDS_IPV6)"
