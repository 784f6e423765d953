"""Every gunicorn worker freezes its start-up objects (gunicorn.conf.py, coop/serving.py)."""

from __future__ import annotations

import gc
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from coop import serving

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_freeze_moves_the_start_up_objects_out_of_collections() -> None:
    try:
        frozen = serving.freeze_start_up()
        assert frozen == gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_every_gunicorn_worker_freezes(database_url: str, tmp_path: Path) -> None:
    """gunicorn started as bench/run.py starts it, in the project's root: each worker logs
    that it froze, from its own process, after loading the app."""
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "COOP_AUTO_MIGRATE": "0",
        "SECRET_KEY": "test-secret-key",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{_free_port()}",
    ]
    with log.open("w") as output:
        server = subprocess.Popen([*command, "app:app"], cwd=ROOT, env=env, stdout=output, stderr=output)
        try:
            pattern = re.compile(serving.FROZEN_MESSAGE.replace("%d", r"(\d+)"))
            found: list[tuple[str, str]] = []
            for _ in range(240):
                found = pattern.findall(log.read_text())
                if len(found) >= WORKERS or server.poll() is not None:
                    break
                time.sleep(0.25)
        finally:
            server.terminate()
            server.wait(timeout=30)
    text = log.read_text()
    booted = set(re.findall(r"Booting worker with pid: (\d+)", text))
    assert len(booted) == WORKERS, text
    assert {pid for pid, _count in found} == booted, text
    assert all(int(count) > 10_000 for _pid, count in found), text
