"""The one way a service owns its transaction.

A service wraps its writes in `with transaction():` (or decorates itself with
`@transaction()`). The outermost block commits when it ends normally and rolls back when an
exception leaves it, so a view that catches a service's error finds a clean session and never
touches `db.session` itself. A block opened inside another (one service calling another, a
command running several services as one unit) joins the outer one: only the outermost block
commits or rolls back, so the whole unit lands or nothing does.

Work that must wait until the data is really committed (compacting the database after an
erasure, anything that must not see a rolled-back state) is registered with `after_commit`;
it runs after the outermost commit and is dropped on a rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fieldwork.extensions import db

_DEPTH = "fieldwork.transaction_depth"
_AFTER_COMMIT = "fieldwork.after_commit"


@contextmanager
def transaction() -> Iterator[Session]:
    """Run the block in the session's transaction: commit at the end of the outermost block,
    roll back if an exception leaves it (and re-raise). Nested blocks join the outer one."""
    session = db.session()
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
            session.info.pop(_AFTER_COMMIT, None)
        raise
    finally:
        session.info[_DEPTH] = depth
    if depth == 0:
        for callback in session.info.pop(_AFTER_COMMIT, []):
            callback()


def after_commit(callback: Callable[[], object]) -> None:
    """Call `callback` once the enclosing `transaction()` has committed; it is forgotten if
    the transaction rolls back. Outside a `transaction()` block there is nothing to wait for,
    which is a mistake in the caller."""
    session = db.session()
    if not session.info.get(_DEPTH, 0):
        raise RuntimeError("after_commit needs an open transaction() block")
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def hold_rows(*rows: tuple[Any, int]) -> None:
    """Hold these rows (model, id) until the transaction ends, so that a check and the write
    that follows it cannot interleave with another request's.

    PostgreSQL: SELECT ... FOR UPDATE of each, in the order given (callers agree on one order,
    so two never wait on each other in a cycle). SQLite locks the whole database for writing:
    a no-op UPDATE of the first row takes that lock, which covers the rest.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        for model, row_id in rows:
            db.session.execute(select(model.id).where(model.id == row_id).with_for_update())
        return
    model, row_id = rows[0]
    # On the session's connection, not through the ORM: an ORM bulk UPDATE counts as a write
    # to every study (fieldwork.core.revisions) and would empty every study's cached figures,
    # where this one changes nothing.
    table = model.__table__
    db.session.connection().execute(update(table).where(table.c.id == row_id).values(id=table.c.id))


def delete_row_of_study(model: Any, study_id: int, row_id: int) -> bool:
    """Delete one row of a study's table (a quota, a closed date) in its own transaction;
    False when there is no row with that id in this study, so the page answers 404."""
    with transaction():
        row = db.session.get(model, row_id)
        if row is None or row.study_id != study_id:
            return False
        db.session.delete(row)
    return True
