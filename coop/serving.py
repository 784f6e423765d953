"""What a serving process does once it has started (gunicorn.conf.py calls it in every worker).

A worker holds some 170 000 objects after start-up (the app, its views, SQLAlchemy's
mappings, the templates), nearly all for its whole life. Python's full collection walks
every one of them: 100–190 ms, landing on whichever request happens to be running
(bench/results). gc.freeze() moves them to a generation the collector never walks; the
requests' own garbage is collected as before.
"""

from __future__ import annotations

import gc
import logging
import os

FROZEN_MESSAGE = "gc.freeze: worker %d keeps %d start-up objects out of collections"


def freeze_start_up(log: logging.Logger | None = None) -> int:
    """Collect what start-up left, then freeze the rest; how many objects are frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    (log or logging.getLogger(__name__)).info(FROZEN_MESSAGE, os.getpid(), frozen)
    return frozen
