"""`flask import-frame FILE.csv [--study SLUG]`."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the import command."""
