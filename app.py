"""Entry point: `flask --app app run`, `gunicorn app:app`."""

import gc

from coop import create_app

app = create_app()

# The app's start-up objects live as long as the process: keep them out of the
# garbage collector's full passes, which otherwise stall a request every so often
# for 150–400 ms (measured on the calendar at regional scale).
gc.collect()
gc.freeze()
