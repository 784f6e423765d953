"""Entry point: `flask --app app run`, `gunicorn app:app`."""

from coop import create_app

app = create_app()
