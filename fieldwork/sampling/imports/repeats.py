"""The first line on which a file named each key (a reference, an email, a name at an
organisation, an existing participant), kept in the database rather than in Python.

"Each person appears once" needs, for every row, the line that first named the same key.
Held in a Python dict that grew by about 150 bytes a row, so a long file's import grew
without bound. Instead each chunk of rows writes its keys to a temporary table on the import's
own connection (its primary key keeps the first line of a key: later ones are ignored) and
reads back the first line of each: memory stays flat, two statements a chunk. The table lives
only as long as the pass (dropped at its end; PostgreSQL drops it too if the transaction
rolls back), and a temporary table is private to its connection, so two imports never meet.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

from sqlalchemy import Column, Connection, Integer, MetaData, Table, Text, select, text
from sqlalchemy.orm import Session

from fieldwork.core.upserts import insert_on_conflict

#: Rows checked together: one write and one read of the table per chunk.
CHUNK_ROWS = 1_000

_NAME = "import_first_line"
#: Its own metadata: the table is never part of the schema (create_all, migrations).
_TABLE = Table(
    _NAME,
    MetaData(),
    Column("repeat_key", Text, primary_key=True),
    Column("line", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)

#: PostgreSQL in one round trip, the keys as two arrays: insert the new ones, and answer each
#: key's first line (the statement reads the table as it was before its own insert, so a key
#: not there before is first named on this chunk's line).
_NOTE_ON_POSTGRESQL = text(
    """
    WITH incoming AS (
        SELECT key, line FROM unnest(CAST(:keys AS text[]), CAST(:lines AS integer[]))
            AS given (key, line)
    ), stored AS (
        INSERT INTO import_first_line (repeat_key, line) SELECT key, line FROM incoming
        ON CONFLICT DO NOTHING
    )
    SELECT incoming.key, coalesce(earlier.line, incoming.line)
    FROM incoming LEFT JOIN import_first_line AS earlier ON earlier.repeat_key = incoming.key
    """
)

_Item = TypeVar("_Item")


def chunks(items: Iterable[_Item], size: int) -> Iterator[list[_Item]]:
    """Lists of `size` items (the last one shorter), read as they are needed."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class FirstLines:
    """The first line of each key so far, in a temporary table on the session's connection."""

    def __init__(self, session: Session) -> None:
        self.connection: Connection = session.connection()
        is_postgresql = self._is_postgresql = self.connection.dialect.name == "postgresql"
        #: Qualified for the drop, so it can only ever drop the temporary table.
        self._qualified = f"{'pg_temp' if is_postgresql else 'temp'}.{_NAME}"
        self._insert = insert_on_conflict(self.connection, _TABLE).on_conflict_do_nothing()
        self.connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_NAME} "
            "(repeat_key TEXT PRIMARY KEY, line INTEGER NOT NULL)"
        )
        self.connection.execute(_TABLE.delete())

    def note(self, keys: list[tuple[str, int]]) -> dict[str, int]:
        """Record (key, line) pairs, given in line order; returns each key's first line in
        the whole file so far (this chunk's own line when no earlier row named it)."""
        first: dict[str, int] = {}
        for key, line in keys:
            first.setdefault(key, line)
        if not first:
            return {}
        if self._is_postgresql:
            rows = self.connection.execute(
                _NOTE_ON_POSTGRESQL, {"keys": list(first), "lines": list(first.values())}
            )
        else:
            self.connection.execute(
                self._insert, [{"repeat_key": key, "line": line} for key, line in first.items()]
            )
            rows = self.connection.execute(
                select(_TABLE.c.repeat_key, _TABLE.c.line).where(_TABLE.c.repeat_key.in_(first))
            )
        return {key: line for key, line in rows}

    def close(self) -> None:
        """Drop the table (the pass is over)."""
        self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {self._qualified}")
