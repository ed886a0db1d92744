"""Shared building blocks: the UTC column type, the clock, pagination, error pages."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Template filters, error pages and the health check."""
    from fieldwork.core import converters, errors, views, web

    converters.init_app(app)
    web.init_app(app)
    _enforce_sqlite_foreign_keys()
    errors.init_app(app)
    app.register_blueprint(views.blueprint)


def _enforce_sqlite_foreign_keys() -> None:
    """SQLite ignores foreign keys unless each connection asks; cascades must work there too."""
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if getattr(_enforce_sqlite_foreign_keys, "done", False):
        return

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_connection, connection_record) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # SQLite's lower() folds only ASCII; searches fold accented letters too, as
            # PostgreSQL's ILIKE does (sampling.services._contains_folded).
            dbapi_connection.create_function("unicode_lower", 1, _unicode_lower, deterministic=True)
            from fieldwork.core.storage import enable_secure_delete

            enable_secure_delete(dbapi_connection)

    _enforce_sqlite_foreign_keys.done = True  # type: ignore[attr-defined]


def _unicode_lower(value: str | None) -> str | None:
    return None if value is None else value.lower()
