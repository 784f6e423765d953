# Sourced by start.sh and test.sh: a working virtual environment in $VENV (default .venv),
# made with $PYTHON (default python3). One left half-made by an interrupted first run
# (a python but no pip) is made again.
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  rm -rf "$VENV"
  if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1 || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$VENV"
    echo "Не удалось создать виртуальное окружение: установите python3-venv (Debian/Ubuntu: sudo apt-get install python3-venv) и запустите команду снова." >&2
    exit 1
  fi
fi
