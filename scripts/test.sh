#!/usr/bin/env bash
# Run the whole test suite. SQLite by default; PostgreSQL when DATABASE_URL names one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
"$VENV"/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
source scripts/browser.sh  # the browser tests: Chromium installed if it can be, else skipped
"$VENV"/bin/ruff check .
"$VENV"/bin/mypy
# One test process per core (pytest-xdist), each on its own database; a file's tests stay together.
exec "$VENV"/bin/pytest -n "${COOP_TEST_WORKERS:-auto}" --dist loadfile "$@"
