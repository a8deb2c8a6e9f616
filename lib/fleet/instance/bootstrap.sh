#!/bin/bash
# gitlab-runner-fleet bootstrap (placeholder, being fleshed out)
set -euo pipefail
echo "gitlab-runner-fleet bootstrap for fleet ${GRF_FLEET_NAME:?}"
