"""Reading the organiser's mailbox over IMAP (imapclient) for replies from calendars.

One run (one at a time, under a lock like the scheduler's): log in, make sure the folders
exist, list the recent messages of `IMAP_FOLDER`, read the headers of each (BODY.PEEK, so
nothing is marked read), skip those handled before, download and handle the rest one by one,
then move each away:

* a recorded answer → `IMAP_PROCESSED_FOLDER`;
* a calendar message that could not be used (unknown UID, wrong attendee, stale, broken)
  → `IMAP_UNMATCHED_FOLDER` (left in place when that setting is empty);
* an ordinary email without a calendar part, or one too large to read → left where it is.

Nothing is ever deleted (a move is IMAP MOVE, or COPY then expunging that one message where a
server lacks MOVE). A failure on one message is logged and the run goes on; a failure to reach
the server ends the run, and the next one tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from fieldwork.core.locks import FileLock, PostgresAdvisoryLock, lock_path
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.replies import parsing, services
from fieldwork.replies.models import MailOutcome

log = logging.getLogger(__name__)

HEADER = b"BODY[HEADER]"
BODY = b"BODY[]"
SIZE = b"RFC822.SIZE"
MESSAGE_ID = "HEADER.FIELDS (MESSAGE-ID)"
#: Messages whose Message-ID is fetched in one command.
CHUNK = 500


@dataclass
class ReadReport:
    """What one run did, by message key."""

    recorded: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    already_handled: list[str] = field(default_factory=list)
    moved: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    #: True when another run was reading the mailbox, so this one left it alone.
    skipped: bool = False


def is_configured(config: Any | None = None) -> bool:
    """IMAP is on when a host is set."""
    config = config if config is not None else current_app.config
    return bool(config["IMAP_HOST"])


def connect(config: Any) -> IMAPClient:
    """A logged-in client (implicit TLS, STARTTLS, or plain for a loopback test server)."""
    context = ssl.create_default_context()
    client = IMAPClient(
        config["IMAP_HOST"],
        port=int(config["IMAP_PORT"]),
        ssl=bool(config["IMAP_USE_TLS"]),
        ssl_context=context if config["IMAP_USE_TLS"] else None,
        timeout=float(config["IMAP_TIMEOUT_SECONDS"]),
    )
    try:
        if not config["IMAP_USE_TLS"] and config["IMAP_USE_STARTTLS"]:
            client.starttls(context)
        client.login(config["IMAP_USERNAME"], config["IMAP_PASSWORD"])
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - the connection may already be gone
        log.debug("imap: logout failed", exc_info=True)


def ensure_folder(client: IMAPClient, name: str) -> None:
    """Create (and subscribe) a folder unless it exists."""
    if name and not client.folder_exists(name):
        try:
            client.create_folder(name)
        except IMAPClientError:
            if not client.folder_exists(name):  # not just made by a concurrent run
                raise
        try:
            client.subscribe_folder(name)
        except IMAPClientError:  # subscribing is a courtesy to mail clients
            log.debug("imap: could not subscribe to %s", name, exc_info=True)


def move(client: IMAPClient, uid: int, folder: str) -> None:
    """Move one message; never a plain delete."""
    if client.has_capability("MOVE"):
        client.move([uid], folder)
        return
    client.copy([uid], folder)
    client.add_flags([uid], [b"\\Deleted"])
    if client.has_capability("UIDPLUS"):
        client.uid_expunge([uid])
    else:
        client.expunge()


def read_mailbox(now: dt.datetime | None = None, config: Any | None = None) -> ReadReport:
    """One run over the mailbox (the scheduler's job); see the module's docstring."""
    config = config if config is not None else current_app.config
    now = now or now_utc()
    report = ReadReport()
    if not is_configured(config):
        return report
    lock = _reader_lock()
    if not lock.acquire():
        report.skipped = True
        return report
    try:
        return _read(config, now, report)
    finally:
        lock.release()


def read_calendar_replies() -> None:
    """The scheduler's job (registered by fieldwork.replies.init_app when IMAP_HOST is set):
    read the mailbox and log what came of it."""
    report = read_mailbox()
    if report.recorded or report.unmatched or report.errors:
        log.info(
            "calendar replies: %d recorded, %d not used, %d failed",
            len(report.recorded),
            len(report.unmatched),
            len(report.errors),
        )


def _reader_lock():
    """One reader at a time per installation: two sessions moving the same message would
    leave two copies of it. (The database alone keeps answers single; this keeps mail so.)"""
    name = f"{current_app.config['SCHEDULER_LOCK_NAME']}-calendar-replies"
    if db.engine.dialect.name == "postgresql":
        return PostgresAdvisoryLock(db.engine, name)
    return FileLock(lock_path(current_app).removesuffix(".lock") + "-calendar-replies.lock")


def _read(config: Any, now: dt.datetime, report: ReadReport) -> ReadReport:
    limit = int(config["IMAP_MAX_MESSAGE_BYTES"])

    def folder_for(outcome: MailOutcome, has_calendar: bool) -> str:
        if outcome == MailOutcome.RECORDED:
            return config["IMAP_PROCESSED_FOLDER"]
        return config["IMAP_UNMATCHED_FOLDER"] if has_calendar else ""

    client = connect(config)
    try:
        ensure_folder(client, config["IMAP_PROCESSED_FOLDER"])
        ensure_folder(client, config["IMAP_UNMATCHED_FOLDER"])
        client.select_folder(config["IMAP_FOLDER"])
        since = (now - dt.timedelta(days=int(config["IMAP_LOOKBACK_DAYS"]))).date()
        uids = _to_look_at(client, sorted(client.search(["SINCE", since, "NOT", "DELETED"])))
        uids = uids[: int(config["IMAP_BATCH_SIZE"])]
        headers = client.fetch(uids, ["RFC822.SIZE", "BODY.PEEK[HEADER]"]) if uids else {}
        keyed = {
            uid: parsing.message_key(headers[uid][HEADER])
            for uid in uids
            if HEADER in headers.get(uid, {})
        }
        known = services.known_messages(list(keyed.values()))
        for uid, key in keyed.items():
            try:
                folder = known[key].folder if key in known else None
                if folder is None:
                    folder = _process(client, uid, key, headers[uid], limit, folder_for, report)
                else:
                    report.already_handled.append(key)
                if folder:
                    move(client, uid, folder)
                    report.moved[key] = folder
            except IMAPClientError as error:
                log.warning("imap: message %s (uid %s): %s", key, uid, error)
                report.errors.append(key)
            except Exception:
                db.session.rollback()
                log.exception("imap: message %s (uid %s) could not be handled", key, uid)
                report.errors.append(key)
    finally:
        _close(client)
    return report


def _to_look_at(client: IMAPClient, uids: list[int]) -> list[int]:
    """The messages a run must look at: all but those handled before that stay where they are
    (ordinary mail). Judged by Message-ID alone (a small fetch), so a mailbox full of ordinary
    mail does not fill every run's batch and hide new replies behind it."""
    wanted = []
    for start in range(0, len(uids), CHUNK):
        chunk = uids[start : start + CHUNK]
        fetched = client.fetch(chunk, [f"BODY.PEEK[{MESSAGE_ID}]"])
        ids = {
            uid: parsing.message_id_of(
                fetched.get(uid, {}).get(f"BODY[{MESSAGE_ID}]".encode(), b"")
            )
            for uid in chunk
        }
        known = services.known_messages([i for i in ids.values() if i])
        wanted += [
            uid
            for uid in chunk
            if (message_id := ids[uid]) is None
            or message_id not in known
            or known[message_id].folder
        ]
    return wanted


def _process(client, uid: int, key: str, data: dict, limit: int, folder_for, report) -> str:
    """Download (unless too large) and handle one new message; the folder it belongs in."""
    size = int(data.get(SIZE) or 0)
    raw = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(BODY) if size <= limit else None
    if raw is None and size <= limit:  # gone since it was listed (moved by a person)
        report.errors.append(key)
        return ""
    processed = services.process_message(data[HEADER], raw, size, limit, folder_for)
    if processed is None:  # a concurrent run recorded it a moment ago, and moves it
        report.already_handled.append(key)
        return ""
    (report.recorded if processed.outcome == MailOutcome.RECORDED else report.unmatched).append(key)
    return processed.folder
