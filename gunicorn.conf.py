"""gunicorn's settings for Coop, read from the working directory (`gunicorn app:app` in the
project's root, as bench/run.py and bench/load.py start it); the command line adds to them."""

from __future__ import annotations

from typing import Any

from coop.serving import freeze_start_up


def post_worker_init(worker: Any) -> None:
    """Each worker, once it has loaded the app: freeze what start-up made (coop/serving.py)."""
    freeze_start_up(worker.log)
