"""INSERT ... ON CONFLICT in the dialect of the connection, for the two databases we run on."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_on_conflict(connection: Connection, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` that takes `on_conflict_do_nothing` / `on_conflict_do_update`:
    PostgreSQL's on PostgreSQL, SQLite's otherwise (the generic INSERT has neither)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
