#!/usr/bin/env bash
# Start Coop on the embedded default: SQLite in instance/, demo data, http://127.0.0.1:5000
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
export FLASK_APP=app
.venv/bin/flask coop demo          # the app applies migrations as it starts; demo is idempotent
port="${PORT:-5000}"
echo
echo "Coop: откройте http://127.0.0.1:${port}/ (учётные записи для входа указаны на странице входа)"
echo
exec .venv/bin/flask run --host 127.0.0.1 --port "$port"
