#!/usr/bin/env bash
# Start Coop on the embedded default: SQLite in instance/, demo data, http://127.0.0.1:5000
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
"$VENV"/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
export FLASK_APP=app
"$VENV"/bin/flask coop demo          # the app applies migrations as it starts; demo is idempotent
port="${PORT:-5000}"
echo
echo "Coop: откройте http://127.0.0.1:${port}/ (учётные записи для входа указаны на странице входа)"
echo
exec "$VENV"/bin/flask run --host 127.0.0.1 --port "$port"
