"""A revision token per study that every write to the study's data changes.

Anything cached from a study's rows (the coverage figures) is keyed by (study, revision):
when the token changes the entry is simply never asked for again. The token is changed in
the same transaction as the write, by session events, so every worker process sees the new
token exactly when it sees the new rows, and nobody has to remember to invalidate:

* `after_flush` collects the studies of every object added, changed or deleted: its own
  ``study_id``, or the study reached by following its foreign keys (a contact attempt's
  participant, a consent answer's consent, a pipeline entry's appointment...). Objects with no
  path to a study (users, tokens) and delivery bookkeeping (`BOOKKEEPING_TABLES`) touch none.
* `do_orm_execute` does the same for bulk INSERTs (each row's keys); a bulk UPDATE or DELETE
  that changed rows of a study's table changes every study's token, as its rows are not known.
* `before_commit` writes the new tokens (one upsert per commit), so the row lock lasts only
  as long as the commit. A rolled-back transaction writes none.

The token is random, not a counter, so a database restored from a backup never hands out a
token that an older cache entry was computed under.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import BigInteger, ForeignKey, Table, event, inspect, literal, select, true
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column
from sqlalchemy.orm.exc import UnmappedColumnError

from fieldwork.core.upserts import insert_on_conflict
from fieldwork.extensions import Model, db

#: session.info key holding the ids of the studies changed in the current transaction.
_CHANGED = "changed_study_ids"
#: Marker in that set: a bulk statement changed rows of unknown studies.
EVERY_STUDY = 0
#: Tables of delivery and bookkeeping that no cached figure reads: writing them (every outbox
#: sweep claims and confirms messages in bulk, every page view may note a visit) leaves the
#: tokens alone, so sending mail neither slows down on a token upsert nor empties the caches.
BOOKKEEPING_TABLES = frozenset(
    {
        "audit_event",
        "coverage_result",
        "home_visit",
        "idempotency_key",
        "mailbox_message",
        "outbox_message",
        "reminder",
        "scheduler_heartbeat",
        "weekly_report",
    }
)


class StudyRevision(Model):
    """The current revision token of one study's data (absent until its first write)."""

    __tablename__ = "study_revision"

    study_id: Mapped[int] = mapped_column(
        ForeignKey("study.id", ondelete="CASCADE"), primary_key=True
    )
    #: Random; replaced in the transaction of every write to the study.
    revision: Mapped[int] = mapped_column(BigInteger)


def revision_of(study_id: int) -> int:
    """The study's current revision token (0 before its first recorded write). One query."""
    return (
        db.session.scalar(select(StudyRevision.revision).where(StudyRevision.study_id == study_id))
        or 0
    )


def has_unrecorded_writes(session: Session) -> bool:
    """Whether the session's open transaction has flushed writes to some study's data that
    its revision tokens do not show yet (they change at commit): figures read now would be of
    rows other workers cannot see, so they must not be kept under the current token."""
    session.flush()
    return bool(session.info.get(_CHANGED))


# --- Which study a row belongs to --------------------------------------------------------------

#: A hop from a row to its parent: (the row's foreign-key column, the parent table, the parent's
#: referenced column).
Hop = tuple[str, Table, str]
_paths: dict[str, list[Hop] | None] = {}


def _path_to_study(table: Table, seen: frozenset[str] = frozenset()) -> list[Hop] | None:
    """The shortest chain of foreign keys from `table` to a table with a ``study_id`` column
    (or the study itself): [] when `table` has one, None when no chain reaches a study."""
    if not seen and table.name in _paths:
        return _paths[table.name]
    path: list[Hop] | None = [] if table.name == "study" or "study_id" in table.c else None
    if path is None:
        for key in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
            parent = key.column.table
            if parent.name in seen | {table.name}:
                continue
            rest = _path_to_study(parent, seen | {table.name})
            if rest is not None and (path is None or len(rest) + 1 < len(path)):
                path = [(key.parent.name, parent, key.column.name), *rest]
    if not seen:
        _paths[table.name] = path
    return path


def _study_of_row(
    session: Session, table: Table, values: dict, path: list[Hop], memo: dict
) -> int | None:
    """Follow `path` from a row's column values to its study id: a query per hop, each
    answered once per flush (`memo`). None if a parent row is gone."""
    if table.name == "study":
        return values.get("id")
    value = values.get(path[0][0]) if path else values.get("study_id")
    for position, (_, parent, parent_key) in enumerate(path):
        if value is None or parent.name == "study":
            break
        wanted = path[position + 1][0] if position + 1 < len(path) else "study_id"
        key = (parent.name, parent_key, value, wanted)
        if key not in memo:
            memo[key] = session.connection().scalar(
                select(parent.c[wanted]).where(parent.c[parent_key] == value)
            )
        value = memo[key]
    return value


def _object_values(instance: object, table: Table) -> dict:
    """The values of a mapped object's own study id and foreign keys. A deleted object's row is
    gone, so only what it has loaded is read (a missing value traces to every study)."""
    state = inspect(instance)
    mapper = state.mapper
    values = {}
    for column in table.c:
        if column.name not in ("id", "study_id") and not column.foreign_keys:
            continue
        try:
            prop = mapper.get_property_by_column(column)
        except UnmappedColumnError:
            continue
        if state.deleted or state.was_deleted:
            values[column.name] = state.dict.get(prop.key)
        else:
            values[column.name] = getattr(instance, prop.key, None)
    return values


def _note(session: Session, study_ids: Iterable[int | None]) -> None:
    """Remember the studies a transaction changed (None: a row that could not be traced, so
    every study is counted as changed)."""
    noted = session.info.setdefault(_CHANGED, set())
    noted.update(EVERY_STUDY if study_id is None else study_id for study_id in study_ids)


def _traced_table(table: object) -> list[Hop] | None:
    """The path from `table` to a study; None for tables whose writes change no token."""
    if not isinstance(table, Table) or table.name == StudyRevision.__tablename__:
        return None
    if table.name in BOOKKEEPING_TABLES:
        return None
    return _path_to_study(table)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: object) -> None:
    changed = [*session.new, *session.deleted]
    changed += [o for o in session.dirty if session.is_modified(o, include_collections=False)]
    memo: dict = {}
    found = []
    for instance in changed:
        table = inspect(instance).mapper.local_table
        path = _traced_table(table)
        if path is not None:
            values = _object_values(instance, table)
            found.append(_study_of_row(session, table, values, path, memo))
    _note(session, found)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    path = _traced_table(getattr(state.statement, "table", None))
    if path is None:
        return
    parameters = state.parameters
    rows: list = list(parameters) if isinstance(parameters, list) else [parameters or {}]
    if state.is_insert and not path and all(rows):
        # Rows that carry their study id name it; any other bulk write counts for every study
        # (imports and restores: rare, and tracing 100,000 rows would cost a query each).
        _note(state.session, {row.get("study_id", row.get("id")) for row in rows})
    else:
        _note(state.session, [None])


@event.listens_for(Session, "before_commit")
def _write_revisions(session: Session) -> None:
    session.flush()  # what the commit would flush is noted before the tokens are written
    changed = session.info.pop(_CHANGED, None)
    if not changed:
        return
    studies = db.metadata.tables["study"]
    # WHERE even when every study changed: SQLite needs one before ON CONFLICT.
    which = true() if EVERY_STUDY in changed else studies.c.id.in_(changed)
    source = select(studies.c.id, literal(secrets.randbits(62) + 1, BigInteger)).where(which)
    statement = insert_on_conflict(session.connection(), StudyRevision).from_select(
        ["study_id", "revision"], source
    )
    session.connection().execute(
        statement.on_conflict_do_update(
            index_elements=["study_id"], set_={"revision": statement.excluded.revision}
        )
    )


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CHANGED, None)
