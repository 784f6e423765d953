"""scripts/venv.sh, which start.sh and test.sh source: a half-made .venv is made
again, and a Python that cannot make one gets one Russian line saying what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _venv_sh(venv: Path, python: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VENV": str(venv), "PYTHON": python}
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail; source scripts/venv.sh"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_a_half_made_venv_is_made_again(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # What an interrupted first run leaves: a python, and no pip.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    assert subprocess.run([venv / "bin" / "python", "-m", "pip", "--version"], capture_output=True).returncode
    result = _venv_sh(venv, sys.executable)
    assert result.returncode == 0, result.stderr
    assert (
        subprocess.run([venv / "bin" / "python", "-m", "pip", "--version"], capture_output=True).returncode
        == 0
    )


def test_a_python_that_cannot_make_a_venv_is_named_in_russian(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    result = _venv_sh(venv, "/bin/false")
    assert result.returncode == 1
    assert "установите python3-venv" in result.stderr
    assert not venv.exists()  # nothing half-made left for the next run
