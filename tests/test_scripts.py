"""scripts/venv.sh, which start.sh and test.sh source: a half-made .venv is made
again, and a Python that cannot make one gets one Russian line saying what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


# scripts/browser.sh, which test.sh sources: a machine without Chromium skips the browser tests
# with a notice instead of failing. apt-get here is a stand-in on PATH that records its call.
HAS_LIBATOMIC = any(Path("/").glob("usr/lib/*/libatomic.so.1")) or any(Path("/").glob("lib/*/libatomic.so.1"))


def _browser_sh(tmp_path: Path, chromium: Path, apt_exit: int) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = bin_dir / "apt-get"
    apt.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path}/apt-calls"\nexit {apt_exit}\n')
    apt.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "COOP_CHROMIUM": str(chromium)}
    env.pop("COOP_SKIP_E2E", None)
    return subprocess.run(
        ["bash", "-c", 'set -euo pipefail; source scripts/browser.sh; echo "skip=${COOP_SKIP_E2E:-}"'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("apt_exit", [100, 0], ids=["apt-fails", "apt-installs-nothing"])
def test_no_chromium_skips_the_browser_tests_with_a_notice(tmp_path: Path, apt_exit: int) -> None:
    result = _browser_sh(tmp_path, tmp_path / "no-chromium", apt_exit)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "skip=1"
    assert "браузерные тесты пропущены" in result.stderr
    if os.geteuid() == 0:  # as root it tried to install them first
        assert "update" in (tmp_path / "apt-calls").read_text()


@pytest.mark.skipif(not HAS_LIBATOMIC, reason="libatomic1 is not installed here")
def test_with_chromium_the_browser_tests_run(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    result = _browser_sh(tmp_path, chromium, 100)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "skip="
    assert result.stderr == ""
    assert not (tmp_path / "apt-calls").exists()
