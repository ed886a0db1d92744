"""Locks that keep a periodic task to one process per installation.

* PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a connection
  kept open for the lock's life; the server frees it when the process dies.
* SQLite: an exclusive `fcntl.flock` on a file next to the database file; the kernel frees it
  when the process dies.

The scheduler (fieldwork.reminders.scheduler) takes one before it runs any job; the calendar
replies reader (fieldwork.replies.mailbox) takes its own around each read.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import zlib
from typing import IO, Protocol

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url

from fieldwork.extensions import db

log = logging.getLogger(__name__)


class SchedulerLock(Protocol):
    def acquire(self) -> bool: ...
    def is_held(self) -> bool: ...
    def release(self) -> None: ...


class FileLock:
    """An exclusive, non-blocking flock on a file (per open file, so also within a process)."""

    def __init__(self, path: str):
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = open(self.path, "a+")  # noqa: SIM115 - held open while the lock is held
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{socket.gethostname()} {os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def is_held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            finally:
                self._file.close()
                self._file = None


class PostgresAdvisoryLock:
    """A session-level advisory lock on a connection of its own, kept for the lock's life.

    The key is derived from the schema, so installations sharing a database in separate
    schemas (as the tests do) do not block each other.
    """

    def __init__(self, engine: Engine, name: str = "scheduler"):
        self.engine = engine
        self.name = name
        self._connection: Connection | None = None
        self.key: int | None = None

    def acquire(self) -> bool:
        if self._connection is not None:
            return True
        connection = self.engine.connect()
        try:
            schema = connection.execute(text("SELECT current_schema()")).scalar() or "public"
            self.key = zlib.crc32(f"fieldwork-{self.name}:{schema}".encode())
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar()
            connection.commit()  # the lock is the session's; no transaction stays open
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def is_held(self) -> bool:
        """True while the lock's connection still answers (a lost connection lost the lock)."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except Exception:
            self._forget()
            return False
        return True

    def _forget(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except Exception:  # already broken; dropping it is all that is left to do
                log.debug("scheduler: closing a broken lock connection failed", exc_info=True)
            self._connection = None

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._connection.commit()
            self._connection.close()
        except Exception:  # noqa: BLE001 - closing the connection frees it anyway
            self._forget()
        self._connection = None


def lock_path(app: Flask) -> str:
    """The SQLite lock file: beside the database file (in instance/ by default)."""
    name = app.config["SCHEDULER_LOCK_NAME"]
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database and database != ":memory:":
        return f"{os.path.abspath(database)}.{name}.lock"
    return os.path.join(app.instance_path, f"{name}.lock")


def lock_for(app: Flask) -> SchedulerLock:
    """The scheduler's lock for this app's database (advisory on PostgreSQL, else a file)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLock(engine, app.config["SCHEDULER_LOCK_NAME"])
    return FileLock(lock_path(app))
