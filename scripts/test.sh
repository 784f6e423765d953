#!/usr/bin/env bash
# Run the whole test suite. SQLite by default; PostgreSQL when DATABASE_URL names one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
"$VENV"/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
# The browser tests drive Debian's Chromium (Playwright's node needs libatomic1): installed
# when this runs as root with apt, else those tests are skipped, and the run says so.
if [ ! -x /usr/bin/chromium ] && [ -z "${COOP_SKIP_E2E:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium libatomic1
  else
    echo "Chromium не установлен (sudo apt-get install chromium libatomic1): браузерные тесты пропущены." >&2
    export COOP_SKIP_E2E=1
  fi
fi
"$VENV"/bin/ruff check .
"$VENV"/bin/mypy
exec "$VENV"/bin/pytest "$@"
