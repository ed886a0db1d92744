"""Coverage counts shared by every worker over the database: one computation per change.

The in-process cache (`coverage.cache`) serves a worker's repeated views; this store lets the
*first* worker to need the counts of a study's new revision compute them and every other
worker (or process) read them. Each (study, kind) has one `CoverageResult` row:

* a worker that finds figures for the current revision, holding at this moment, uses them;
* otherwise it claims the row: an insert that does nothing if the row exists, or an update
  that succeeds only if the row is still as it was read (compare-and-set on its random
  `claim`), so of two workers asking at once exactly one wins and computes;
* the loser waits briefly (`WAIT_SECONDS`), reading the row until the winner's figures are
  there; a claim older than that is taken over (its worker died), and a loser that waited in
  vain computes for itself without storing.

Only counts are stored (no names, references or ids of people), so erasing a person leaves
nothing of them here; the candidates of the gaps page stay in process memory.

The row is read and written on a connection of its own, committed at once, outside the
request's transaction (so a claim is visible to other workers while the claimer computes).
Nothing is shared while the request's own transaction holds unrecorded writes (its figures
would include rows other workers cannot see) or, on SQLite, an open write transaction (a
second connection could not write beside it).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Connection, and_, delete, select, text, update

from fieldwork.core.revisions import has_unrecorded_writes
from fieldwork.core.upserts import insert_on_conflict
from fieldwork.coverage.models import CoverageResult
from fieldwork.extensions import db

T = TypeVar("T")

#: How long a worker waits for another's computation before computing for itself.
WAIT_SECONDS = 5.0
#: How often a waiting worker reads the row again.
POLL_SECONDS = 0.02


@contextmanager
def _transaction() -> Iterator[Connection]:
    """A short transaction of its own, committed on leaving. On PostgreSQL its commit does not
    wait for the write-ahead log to reach the disk: these rows are a cache (a crash loses at
    most a computation), so a claim or a store costs no disk flush."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL synchronous_commit = off"))
        yield connection


def _now_ms() -> int:
    return int(time.time() * 1000)


def can_share() -> bool:
    """Whether the request's transaction lets figures be read from and kept in the store."""
    if has_unrecorded_writes(db.session()):
        return False
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # pysqlite opens a transaction only before a write: then it holds SQLite's write lock.
        return not connection.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
    return True


def forget_all() -> None:
    """Empty the store (for tests and benchmarks that time a computation)."""
    with _transaction() as connection:
        connection.execute(delete(CoverageResult.__table__))


def _read(connection: Connection, study_id: int, kind: str):
    return connection.execute(
        select(CoverageResult.__table__).where(
            CoverageResult.study_id == study_id, CoverageResult.kind == kind
        )
    ).first()


def _claim(connection: Connection, study_id: int, kind: str, revision: int, row) -> int | None:
    """Claim the row for `revision`: the new claim, or None if another worker got there first
    (the row is no longer as `row` shows it)."""
    claim = secrets.randbits(62) + 1
    values = {
        "revision": revision,
        "claim": claim,
        "claimed_at_ms": _now_ms(),
        "payload": None,
        "made_at": None,
        "holds_until": None,
    }
    table = CoverageResult.__table__
    if row is None:
        statement = insert_on_conflict(connection, table).values(
            study_id=study_id, kind=kind, **values
        )
        result = connection.execute(statement.on_conflict_do_nothing().returning(table.c.claim))
    else:
        result = connection.execute(
            update(table)
            .where(
                CoverageResult.study_id == study_id,
                CoverageResult.kind == kind,
                CoverageResult.claim == row.claim,
            )
            .values(**values)
            .returning(table.c.claim)
        )
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT DO NOTHING.
    return claim if result.first() is not None else None


def _holds(row, revision: int, now: dt.datetime) -> bool:
    return (
        row is not None
        and row.revision == revision
        and row.payload is not None
        and row.made_at <= now < row.holds_until
    )


def _being_computed(row, revision: int) -> bool:
    """Another worker claimed the row for this revision and may still be computing."""
    return (
        row.revision == revision
        and row.payload is None
        and _now_ms() - row.claimed_at_ms < WAIT_SECONDS * 1000
    )


def shared(
    study_id: int,
    kind: str,
    revision: int,
    now: dt.datetime,
    compute: Callable[[], tuple[T, dt.datetime]],
    dump: Callable[[T], object],
    load: Callable[[object], T],
) -> tuple[T, dt.datetime]:
    """The value for (study, kind) at `revision` and when it stops holding: read from the
    store, or computed here once this worker holds the claim (see the module's docstring).
    `dump` and `load` turn the value into JSON-able counts and back."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with _transaction() as connection:
            row = _read(connection, study_id, kind)
            if _holds(row, revision, now):
                return load(json.loads(row.payload)), row.holds_until
            waiting = row is not None and _being_computed(row, revision)
            claim = None if waiting else _claim(connection, study_id, kind, revision, row)
        if claim is not None:
            break
        if time.monotonic() >= deadline:
            return compute()  # the claimer is slow: compute, and leave its claim alone
        time.sleep(POLL_SECONDS)
    value, holds_until = compute()
    with _transaction() as connection:
        connection.execute(
            update(CoverageResult.__table__)
            .where(
                and_(
                    CoverageResult.study_id == study_id,
                    CoverageResult.kind == kind,
                    CoverageResult.claim == claim,
                )
            )
            .values(payload=json.dumps(dump(value)), made_at=now, holds_until=holds_until)
        )
    return value, holds_until
