"""A logical backup of every table, and its restore, the same on SQLite and PostgreSQL.

The file is gzip-compressed JSON lines: a header (format, schema revision, table names), then
each table's column names and rows. Every table is read inside ONE read-only transaction that
sees a single moment of the database, so a backup taken while the app serves writes never holds
a reminder without its appointment: on PostgreSQL `SERIALIZABLE READ ONLY DEFERRABLE` (it waits,
if need be, for a moment free of serialisation conflicts, then reads without taking locks or
blocking writers); on SQLite one `BEGIN` ... `ROLLBACK` read transaction (writers wait for it
to end, up to their busy timeout). `pg_dump` is the production-grade alternative on
PostgreSQL (see docs/production.md). Values that JSON lacks (datetimes, dates, bytes, enums)
are tagged, so a restore writes back exactly what was read; a backup taken on SQLite restores
into PostgreSQL and the other way round, as long as both are at the same schema revision.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from fieldwork.core.time import now_utc
from fieldwork.extensions import db

FORMAT = "fieldwork-backup"
VERSION = 1
BATCH = 1000


class BackupError(RuntimeError):
    """The backup file cannot be restored here; the message says why."""


@dataclass
class BackupSummary:
    revision: str | None
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$t": value.isoformat()}
    if isinstance(value, bytes | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, decimal.Decimal):
        return {"$n": str(value)}
    if isinstance(value, dict | list):
        return {"$j": value}
    return value


def _decode(value: Any, column: sa.Column) -> Any:
    if isinstance(value, dict):
        tag, raw = next(iter(value.items()))
        if tag == "$dt":
            return dt.datetime.fromisoformat(raw)
        if tag == "$d":
            return dt.date.fromisoformat(raw)
        if tag == "$t":
            return dt.time.fromisoformat(raw)
        if tag == "$b":
            return base64.b64decode(raw)
        if tag == "$n":
            return decimal.Decimal(raw)
        if tag == "$j":
            return raw
        raise BackupError(f"unknown value tag {tag!r} in column {column.name}")
    enum_class = getattr(column.type, "enum_class", None)
    if value is not None and enum_class is not None:
        return enum_class(value)
    return value


def current_revision(connection: sa.Connection | None = None) -> str | None:
    """The Alembic revision the database is at (None for a schema made without migrations)."""
    inspector = sa.inspect(connection if connection is not None else db.engine)
    if "alembic_version" not in inspector.get_table_names():
        return None
    statement = sa.text("SELECT version_num FROM alembic_version")
    if connection is not None:
        return connection.scalar(statement)
    return db.session.scalar(statement)


@contextmanager
def snapshot() -> Iterator[sa.Connection]:
    """A connection inside one read-only transaction that sees one moment of the database."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(
                isolation_level="SERIALIZABLE",
                postgresql_readonly=True,
                postgresql_deferrable=True,
            )
            with connection.begin() as transaction:
                yield connection
                transaction.rollback()
        else:
            # pysqlite opens transactions only before writes; a read transaction needs an
            # explicit BEGIN, and its snapshot lasts from the first read to the ROLLBACK.
            connection.exec_driver_sql("BEGIN")
            try:
                yield connection
            finally:
                connection.exec_driver_sql("ROLLBACK")


def _lines(connection: sa.Connection) -> Iterator[dict]:
    tables = db.metadata.sorted_tables
    counts: dict[str, int] = {}
    yield {
        "format": FORMAT,
        "version": VERSION,
        "revision": current_revision(connection),
        "created_at": now_utc().isoformat(),
        "tables": [t.name for t in tables],
    }
    for table in tables:
        columns = [column.name for column in table.columns]
        yield {"table": table.name, "columns": columns}
        order = list(table.primary_key.columns) or list(table.columns)
        result = connection.execution_options(yield_per=BATCH).execute(
            sa.select(table).order_by(*order)
        )
        counts[table.name] = 0
        for row in result:
            counts[table.name] += 1
            yield {"row": [_encode(row._mapping[name]) for name in columns]}
    yield {"end": counts}


def write_backup(path: str | Path) -> BackupSummary:
    """Write every table of the app's database to `path` (gzip JSON lines), all read in one
    snapshot (see the module's docstring)."""
    counts: dict[str, int] = {}
    revision = None
    with snapshot() as connection, gzip.open(path, "wt", encoding="utf-8") as handle:
        for line in _lines(connection):
            if "format" in line:
                revision = line["revision"]
            if "end" in line:
                counts = line["end"]
            handle.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    return BackupSummary(revision=revision, rows=counts)


def _read(path: str | Path) -> Iterator[dict]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for number, text in enumerate(handle, start=1):
                try:
                    yield json.loads(text)
                except json.JSONDecodeError as error:
                    raise BackupError(f"line {number} of the backup is not JSON") from error
    except (OSError, EOFError) as error:
        raise BackupError(f"cannot read {path}: {error}") from error


# Long by design: one pass over the backup stream, whose state (the current table, its
# batch, the deferred self-references, the counts) the loop shares.
def restore_backup(path: str | Path) -> BackupSummary:
    """Replace every row of the database with the backup's, in one transaction.

    The database must be at the backup's schema revision (run `flask db upgrade` first).
    """
    lines = _read(path)
    header = next(lines, None)
    if not header or header.get("format") != FORMAT or header.get("version") != VERSION:
        raise BackupError("this is not a Fieldwork backup file")
    here = current_revision()
    if header.get("revision") != here:
        raise BackupError(
            f"the backup is at schema revision {header.get('revision')}, the database at {here}: "
            "bring the database to the backup's revision first"
        )
    tables = {table.name: table for table in db.metadata.sorted_tables}
    unknown = set(header["tables"]) - set(tables)
    if unknown:
        raise BackupError(f"the backup has tables this version does not know: {sorted(unknown)}")
    counts: dict[str, int] = {}
    connection = db.session.connection()
    for existing in reversed(db.metadata.sorted_tables):
        connection.execute(existing.delete())
    table: sa.Table | None = None
    columns: list[sa.Column] = []
    batch: list[dict] = []
    deferred: list[tuple[sa.Table, dict]] = []  # self-references, set after their rows exist

    def flush() -> None:
        if batch and table is not None:
            connection.execute(table.insert(), batch)
            batch.clear()

    for line in lines:
        if "table" in line:
            flush()
            table = tables[line["table"]]
            columns = [table.columns[name] for name in line["columns"]]
            counts[table.name] = 0
        elif "row" in line:
            if table is None:
                raise BackupError("the backup has a row before the table it belongs to")
            record = {
                column.name: _decode(value, column)
                for column, value in zip(columns, line["row"], strict=True)
            }
            for column in columns:
                if (
                    any(fk.column.table is table for fk in column.foreign_keys)
                    and record[column.name] is not None
                ):
                    key = {pk.name: record[pk.name] for pk in table.primary_key.columns}
                    deferred.append((table, {**key, column.name: record[column.name]}))
                    record[column.name] = None
            batch.append(record)
            counts[table.name] += 1
            if len(batch) >= BATCH:
                flush()
        elif "end" in line:
            flush()
            if line["end"] != counts:
                raise BackupError("the backup is incomplete: its row counts do not match")
            break
    else:
        raise BackupError("the backup is cut short (no end marker)")
    for owner, values in deferred:
        keys = [pk.name for pk in owner.primary_key.columns]
        statement = owner.update().where(*[owner.c[k] == values[k] for k in keys])
        connection.execute(statement.values({k: v for k, v in values.items() if k not in keys}))
    if connection.dialect.name == "postgresql":
        _reset_sequences(connection)
    db.session.commit()
    return BackupSummary(revision=here, rows=counts)


def _reset_sequences(connection: sa.Connection) -> None:
    """After explicit ids were inserted, each sequence continues past the highest one."""
    for table in db.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
            continue
        name = keys[0].name
        # Table and column names come from the app's own metadata, never from input; values
        # are bound. (bandit B608 flags any f-string SQL.)
        connection.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608 # nosec B608
                f'COALESCE((SELECT MAX("{name}") FROM "{table.name}"), 0) + 1, false) '
                f"WHERE pg_get_serial_sequence(:table, :column) IS NOT NULL"
            ),
            {"table": f'"{table.name}"', "column": name},
        )
