#!/usr/bin/env bash
# Run the whole test suite. SQLite by default; PostgreSQL when DATABASE_URL names one.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/pytest "$@"
