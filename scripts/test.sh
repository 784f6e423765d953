#!/usr/bin/env bash
# Run the whole test suite. SQLite by default; PostgreSQL when DATABASE_URL names one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
"$VENV"/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
source scripts/browser.sh  # the browser tests: Chromium installed if it can be, else skipped
"$VENV"/bin/ruff check .
"$VENV"/bin/mypy
exec "$VENV"/bin/pytest "$@"
