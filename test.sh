#!/usr/bin/env bash
# Install smtpbot with its test extras into ./.venv (and, as root, the Debian packages the
# interop tests use: Postfix) and run the whole test suite. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if ! command -v postfix >/dev/null && [ ! -x /usr/sbin/postfix ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Postfix: the real MTA of the SMTP interop tests; no service is started by the install here
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get install -y -qq --no-install-recommends postfix >/dev/null
  fi
fi
source ./scripts/venv.sh
"$VENV/bin/pip" install --quiet --disable-pip-version-check -e '.[test]'
exec "$VENV/bin/python" -m pytest "$@"
