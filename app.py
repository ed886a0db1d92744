"""Entry point for `flask --app app ...` and `gunicorn app:app`: it only builds the app."""

from fieldwork import create_app

app = create_app()
