"""Physical storage after an erasure: the old bytes of erased values must not linger.

SQLite keeps deleted or overwritten row content in free pages and, in WAL mode, in the `-wal`
file until a checkpoint. Every SQLite connection the app opens turns on
`PRAGMA secure_delete=ON` (fieldwork.core), so freed content is overwritten with zeros; after
an erasure `compact_storage` also checkpoints the WAL (truncating it) and runs VACUUM, which
rewrites the file without free pages.

PostgreSQL keeps the old row versions (dead tuples) until VACUUM makes their space reusable;
VACUUM does not overwrite them, and WAL segments, archives and replicas keep the old values
until they are recycled. `compact_storage` does nothing there; docs/security.md says what an
operator can do (VACUUM FULL of the affected tables, WAL retention).
"""

from __future__ import annotations

import logging

from sqlalchemy import text

from fieldwork.extensions import db

log = logging.getLogger(__name__)


def enable_secure_delete(dbapi_connection) -> None:
    """For a new SQLite connection: overwrite deleted content with zeros."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def compact_storage() -> bool:
    """On SQLite, rewrite the database without free pages and empty the WAL. True when done
    (always False on other databases); a failure is logged, never raised, because the
    erasure it follows is already committed."""
    if db.engine.dialect.name != "sqlite":
        return False
    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            _merge_full_text_indexes(connection)
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            connection.execute(text("VACUUM"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return True
    except Exception:  # noqa: BLE001 - logged; the erasure itself is committed
        log.exception("Could not compact the SQLite database after an erasure")
        return False


def _merge_full_text_indexes(connection) -> None:
    """An FTS5 index (the participant search's) keeps a deleted row's terms and positions in
    its older segments, beside a delete marker, until the segments merge; 'optimize' merges
    them all, so the erased text leaves the index before VACUUM rewrites the file."""
    names = connection.execute(
        text(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'"
        )
    ).scalars()
    for name in list(names):
        # The name comes from sqlite_master, quoted as an identifier; no input reaches it.
        quoted = '"' + name.replace('"', '""') + '"'
        connection.execute(text(f"INSERT INTO {quoted}({quoted}) VALUES ('optimize')"))  # noqa: S608 # nosec B608
