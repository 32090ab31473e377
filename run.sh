#!/usr/bin/env bash
# Install smtpbot into ./.venv and run it: the Slack bot when Slack tokens are set, else the
# local console chat. Extra arguments go to smtpbot (e.g. ./run.sh explain bounce.eml).
set -euo pipefail
cd "$(dirname "$0")"
source ./scripts/venv.sh
"$VENV/bin/pip" install --quiet --disable-pip-version-check .
exec "$VENV/bin/smtpbot" "$@"
