"""exports (being written)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint(s)."""
