"""The outbox: queue a message in the caller's transaction, send due ones exactly once.

Exactly-once comes from the database. A sender claims a row with a conditional UPDATE
(pending → sending, only if it is still pending) and commits that claim before it talks SMTP;
only the sender whose UPDATE changed the row goes on. The row becomes 'sent' after the server
accepted the message; a failed attempt puts it back to 'pending' with a later next_attempt_at
(1, 2, 4 ... minutes, at most an hour), or 'failed' after OUTBOX_MAX_ATTEMPTS. A row left in
'sending' (the process died between claim and confirmation, or the server took the message and
never answered) is never resent blindly: it shows as interrupted on the outbox page, in the
coordinators' banner and on /healthz, where a coordinator can send it again.

Only the scheduler sends (`send_due`); a web request commits its messages and the commit wakes
the sender (see wakeup.py). Without a configured mail server (SMTP_HOST empty, the default)
messages stay pending, marked "not sent: no mail server configured".
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import quopri
import re
import smtplib
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses, make_msgid

from flask import current_app
from markupsafe import escape
from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import Session

from fieldwork.core.pagination import Page, paginate
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import smtp
from fieldwork.outbox.models import OutboxKind, OutboxMessage, OutboxState
from fieldwork.outbox.redaction import redact_links

log = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=1)
#: A claim older than this without a result means the sender died mid-send. Longer than the
#: longest legitimate send (connection, commands and the DATA answer at their timeouts).
INTERRUPTED_AFTER = dt.timedelta(minutes=4)
REMOVED_NAME = "[name removed]"


class OutboxError(Exception):
    """A request the outbox cannot carry out (e.g. retrying a message already sent)."""


@dataclass
class SendReport:
    """What one sweep did."""

    sent: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    #: Rows another sender claimed first.
    skipped: list[int] = field(default_factory=list)
    #: Rows the server took but never confirmed (left 'sending', shown as interrupted).
    interrupted: list[int] = field(default_factory=list)


def _addresses(message: EmailMessage, *names: str) -> list[tuple[str, str]]:
    fields = [str(value) for name in names for value in message.get_all(name, [])]
    return [(name, address) for name, address in getaddresses(fields) if address]


def enqueue(
    message: EmailMessage,
    *,
    kind: str,
    study_id: int | None,
    appointment_id: int | None = None,
    due_at: dt.datetime | None = None,
) -> OutboxMessage:
    """Record a message to be sent, in the caller's transaction (no commit here), so a
    booking and its messages are saved together or not at all."""
    kind = OutboxKind(kind)
    if message.get_all("Bcc"):
        raise ValueError("the outbox sends to To and Cc only; a Bcc header is refused")
    recipients = [address for _, address in _addresses(message, "To", "Cc")]
    if not recipients:
        raise ValueError("a message needs at least one To or Cc address")
    senders = _addresses(message, "From")
    if len(senders) != 1:
        raise ValueError("a message needs exactly one From address")
    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(domain=senders[0][1].rpartition("@")[2] or None)
    when = due_at or now_utc()
    row = OutboxMessage(
        study_id=study_id,
        appointment_id=appointment_id,
        kind=kind,
        subject=str(message["Subject"] or "")[:998],
        sender=senders[0][1],
        recipients=",".join(recipients),
        message_id=str(message["Message-ID"]),
        raw=message.as_bytes(policy=SMTP),
        state=OutboxState.PENDING,
        attempts=0,
        last_error="",
        due_at=when,
        next_attempt_at=when,
    )
    db.session.add(row)
    db.session.flush()
    return row


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the n-th failed attempt: 1, 2, 4, 8 ... minutes, at most 1 h."""
    return min(dt.timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _due_ids(session: Session, now: dt.datetime, limit: int) -> list[int]:
    statement = (
        select(OutboxMessage.id)
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    # No row locks: the conditional UPDATE in _claim decides who sends, on every database.
    return list(session.scalars(statement))


def _claim(session: Session, message_id: int, now: dt.datetime) -> bool:
    """pending → sending for this sender only; True if this sender won the row."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == OutboxState.PENDING)
        .values(
            state=OutboxState.SENDING,
            claimed_at=now,
            attempts=OutboxMessage.attempts + 1,
            last_error="",
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def send_due(
    limit: int = 100, now: dt.datetime | None = None, stop: threading.Event | None = None
) -> SendReport:
    """Send the pending messages that are due, each once, committing after each message
    (right after the server's answer), and stopping between two messages once `stop` is set.

    Runs in a session of its own, so it never commits anything the caller left pending.
    """
    now = now or now_utc()
    max_attempts = int(current_app.config["OUTBOX_MAX_ATTEMPTS"])
    report = SendReport()
    if not smtp.is_configured():
        _mark_not_configured(now)
        return report
    connection: smtplib.SMTP | None = None
    with Session(db.engine, expire_on_commit=False) as session:
        candidates = _due_ids(session, now, limit)
        session.commit()  # ends the read transaction before any claim
        try:
            for message_id in candidates:
                if stop is not None and stop.is_set():
                    break
                if not _claim(session, message_id, now):
                    report.skipped.append(message_id)
                    continue
                row = session.get(OutboxMessage, message_id, populate_existing=True)
                try:
                    if connection is None:
                        connection = smtp.open_connection()
                    refused = smtp.send_raw(
                        row.sender, row.recipient_list, row.raw, connection=connection
                    )
                except smtp.PermanentSendError as error:
                    row.state = OutboxState.FAILED
                    row.last_error = str(error)[:2000]
                    redact_links(row)
                    report.failed.append(message_id)
                except smtp.UnconfirmedSendError as error:
                    # It may have arrived: stay 'sending' (interrupted, shown at once), and
                    # drop the connection, whose state is unknown.
                    _close(connection)
                    connection = None
                    row.last_error = str(error)[:2000]
                    report.interrupted.append(message_id)
                except (OSError, smtplib.SMTPException) as error:
                    if connection is not None:
                        _close(connection)
                        connection = None
                    row.last_error = f"{type(error).__name__}: {error}"[:2000]
                    if row.attempts >= max_attempts:
                        row.state = OutboxState.FAILED
                        redact_links(row)
                        report.failed.append(message_id)
                    else:
                        row.state = OutboxState.PENDING
                        row.next_attempt_at = now + backoff(row.attempts)
                        report.deferred.append(message_id)
                else:
                    row.state = OutboxState.SENT
                    row.sent_at = now_utc()
                    # The stored copy keeps no working link (no usable secret at rest).
                    redact_links(row)
                    row.last_error = f"refused by the server: {refused}" if refused else ""
                    report.sent.append(message_id)
                session.commit()
        finally:
            if connection is not None:
                _close(connection, polite=True)
    return report


def _mark_not_configured(now: dt.datetime) -> None:
    """Say on every due message why it waits; they go out once SMTP_HOST is set."""
    with Session(db.engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.state == OutboxState.PENDING,
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.last_error != smtp.NOT_CONFIGURED,
            )
            .values(last_error=smtp.NOT_CONFIGURED)
            .execution_options(synchronize_session=False)
        )
        session.commit()


def _close(connection: smtplib.SMTP, polite: bool = False) -> None:
    try:
        if polite:
            connection.quit()
        else:
            connection.close()
    except (OSError, smtplib.SMTPException):
        connection.close()


def retry(message_id: int) -> None:
    """A coordinator's resend of a failed (or interrupted) message: pending and due now,
    with a fresh series of attempts (the last error stays until the next attempt)."""
    # Senders work in sessions of their own: read the row as it is now, not as cached.
    row = db.session.get(OutboxMessage, message_id, populate_existing=True)
    if row is None:
        raise OutboxError("There is no such message.")
    if not is_retryable(row):
        raise OutboxError(f"A message that is {row.state.value} cannot be retried.")
    now = now_utc()
    row.state = OutboxState.PENDING
    row.next_attempt_at = now
    row.claimed_at = None
    row.attempts = 0
    db.session.commit()


def is_interrupted(row: OutboxMessage, now: dt.datetime | None = None) -> bool:
    """Claimed long ago and never confirmed: the sender died, and the message may or may
    not have left. A person decides whether to resend it."""
    now = now or now_utc()
    if row.state != OutboxState.SENDING:
        return False
    if row.last_error:  # the server took it and never answered
        return True
    return row.claimed_at is not None and row.claimed_at < now - INTERRUPTED_AFTER


def interrupted_clause(now: dt.datetime | None = None):
    """SQL for `is_interrupted`, for counts and filters."""
    now = now or now_utc()
    return and_(
        OutboxMessage.state == OutboxState.SENDING,
        or_(OutboxMessage.last_error != "", OutboxMessage.claimed_at < now - INTERRUPTED_AFTER),
    )


def is_retryable(row: OutboxMessage) -> bool:
    return row.state == OutboxState.FAILED or is_interrupted(row)


def cancel_pending(appointment_id: int, kinds: tuple[str, ...] = ("reminder",)) -> int:
    """Cancel the messages of these kinds still waiting for an appointment (no commit)."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.appointment_id == appointment_id,
            OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.kind.in_([OutboxKind(kind) for kind in kinds]),
        )
        .values(state=OutboxState.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def cancel_study_pending(study_id: int, reason: str) -> int:
    """Cancel every message of a study still waiting, saying why (the demo's invitations go
    to made-up addresses and are never sent). No commit."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.study_id == study_id, OutboxMessage.state == OutboxState.PENDING)
        .values(state=OutboxState.CANCELLED, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# --- the outbox page ---------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxFilters:
    state: str = ""
    kind: str = ""


def message_query(filters: OutboxFilters, study_id: int | None = None) -> Select:
    """Messages newest first, optionally of one state and kind and one study (plus messages
    tied to no study)."""
    statement = select(OutboxMessage).order_by(
        OutboxMessage.created_at.desc(), OutboxMessage.id.desc()
    )
    if filters.state:
        statement = statement.where(OutboxMessage.state == OutboxState(filters.state))
    if filters.kind:
        statement = statement.where(OutboxMessage.kind == OutboxKind(filters.kind))
    if study_id is not None:
        statement = statement.where(
            or_(OutboxMessage.study_id == study_id, OutboxMessage.study_id.is_(None))
        )
    return statement


def list_messages(
    filters: OutboxFilters, page: int, per_page: int, study_id: int | None = None
) -> Page[OutboxMessage]:
    return paginate(message_query(filters, study_id), page, per_page)


def get_message(message_id: int) -> OutboxMessage | None:
    return db.session.get(OutboxMessage, message_id)


@dataclass(frozen=True)
class MessageView:
    """What the outbox page shows of one stored message."""

    headers: list[tuple[str, str]]
    text: str
    parts: list[str]


def describe(row: OutboxMessage) -> MessageView:
    """The headers, the plain-text body and the MIME parts of a stored message."""
    message = message_from_bytes(row.raw, policy=SMTP)
    shown = ("From", "To", "Cc", "Subject", "Date", "Message-ID")
    headers = [(name, str(value)) for name in shown for value in message.get_all(name, [])]
    text_part = message.get_body(preferencelist=("plain",))
    text = text_part.get_content() if text_part is not None else ""
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        description = part.get_content_type()
        method = part.get_param("method")
        if method:
            description += f"; method={method}"
        if part.get_filename():
            description += f" (attachment {part.get_filename()})"
        parts.append(description)
    return MessageView(headers=headers, text=text, parts=parts)


# --- erasure -------------------------------------------------------------------------------


def _replace_all(text: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        if old:
            text = re.sub(re.escape(old), lambda _, new=new: new, text, flags=re.IGNORECASE)
    return text


def _fold(line: str, limit: int = 75) -> str:
    """Fold an iCalendar content line at 75 octets without splitting a character."""
    pieces, current, size = [], "", 0
    for character in line:
        width = len(character.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size = " ", 1
        current += character
        size += width
    pieces.append(current)
    return "\r\n".join(pieces)


def _scrub_calendar(text: str, replacements: list[tuple[str, str]]) -> str:
    """Unfold the iCalendar lines first (a name may be split across a fold), then refold."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    lines = _replace_all(unfolded, replacements).splitlines()
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _ical_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _scrub_part(part, replacements: list[tuple[str, str]]) -> None:
    content_type = part.get_content_type()
    if part.get_content_maintype() != "text" and content_type != "application/ics":
        return
    charset = part.get_content_charset() or "utf-8"
    payload = part.get_payload(decode=True) or b""
    text = payload.decode(charset, errors="replace")
    if content_type in ("text/calendar", "application/ics"):
        # Text values are RFC 5545-escaped there ("O'Brien\\, Siân"); try that form first.
        escaped = [(_ical_escape(old), _ical_escape(new)) for old, new in replacements]
        text = _scrub_calendar(text, escaped + replacements)
    elif content_type == "text/html":
        escaped = [(str(escape(old)), str(escape(new))) for old, new in replacements]
        text = _replace_all(text, escaped + replacements)
    else:
        text = _replace_all(text, replacements)
    data = text.encode(charset)
    encoding = (part.get("Content-Transfer-Encoding") or "7bit").lower()
    if encoding == "base64":
        part.set_payload(base64.encodebytes(data).decode("ascii"))
    elif encoding == "quoted-printable":
        part.set_payload(quopri.encodestring(data).decode("ascii"))
    elif data.isascii():
        part.set_payload(data.decode("ascii"))
    else:
        # An 8bit part still holding other non-ASCII text cannot be written back as str;
        # quoted-printable keeps every character and any generator can write it.
        del part["Content-Transfer-Encoding"]
        part["Content-Transfer-Encoding"] = "quoted-printable"
        part.set_payload(quopri.encodestring(data).decode("ascii"))


def _scrub_addresses(message, header: str, email: str, replacement: str) -> None:
    values = message.get_all(header, [])
    if not values:
        return
    mailboxes = []
    for name, address in getaddresses([str(v) for v in values]):
        if address.lower() == email:
            mailboxes.append(Address(addr_spec=replacement))
        else:
            mailboxes.append(Address(display_name=name, addr_spec=address))
    del message[header]
    message[header] = mailboxes


def scrub_recipient(email: str, replacement: str) -> int:
    """Erase a person from stored messages: their address becomes `replacement` (an address
    such as 'erased@invalid') and their name '[name removed]' in the recipients, headers,
    subject and every text and calendar part. Rows and their states stay. No commit.

    Returns the number of messages changed.
    """
    email = email.strip().lower()
    if not email:
        raise ValueError("give the address to remove")
    escaped = email.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipients.ilike(f"%{escaped}%", escape="\\"))
    ).all()
    changed = 0
    for row in rows:
        if email not in [address.lower() for address in row.recipient_list]:
            continue
        message = message_from_bytes(row.raw, policy=SMTP)
        names = {
            name
            for name, address in _addresses(message, "To", "Cc")
            if address.lower() == email and name.strip()
        }
        replacements = [(email, replacement)] + [
            (name, REMOVED_NAME) for name in sorted(names, key=len, reverse=True)
        ]
        for header in ("To", "Cc"):
            _scrub_addresses(message, header, email, replacement)
        subject = _replace_all(str(message["Subject"] or ""), replacements)
        del message["Subject"]
        message["Subject"] = subject
        for part in message.walk():
            if not part.is_multipart():
                _scrub_part(part, replacements)
        row.raw = message.as_bytes(policy=SMTP)
        row.subject = subject[:998]
        row.recipients = ",".join(
            replacement if address.lower() == email else address for address in row.recipient_list
        )
        changed += 1
    db.session.flush()
    return changed


# --- what coordinators must know: the banner and the booking note -------------------------

#: A message still pending this long after it was due is late.
LATE_AFTER = dt.timedelta(minutes=5)
#: Failed messages stay in the banner this long after their last attempt.
FAILED_SHOWN_FOR = dt.timedelta(days=7)


@dataclass(frozen=True)
class MailAttention:
    """Counts behind the coordinators' banner, each with its plain-language reason."""

    not_configured: int = 0
    failed: int = 0
    late: int = 0
    interrupted: int = 0

    @property
    def any(self) -> bool:
        return bool(self.not_configured or self.failed or self.late or self.interrupted)

    def reasons(self) -> list[str]:
        def messages(count: int) -> str:
            return f"{count} message{'s' if count != 1 else ''}"

        def they(count: int, singular: str, plural: str) -> str:
            return singular if count == 1 else plural

        reasons = []
        if self.not_configured:
            count = self.not_configured
            reasons.append(
                f"{messages(count)} not sent: no mail server is configured (set SMTP_HOST; "
                f"see the README). {they(count, 'It is', 'They are')} kept in the outbox, "
                "readable in full."
            )
        if self.interrupted:
            count = self.interrupted
            reasons.append(
                f"{messages(count)} interrupted while being sent: "
                f"{they(count, 'it', 'they')} may or may not have arrived. Check, then send "
                "again if needed."
            )
        if self.failed:
            count = self.failed
            reasons.append(
                f"{messages(count)} could not be sent: the mail server refused "
                f"{they(count, 'it', 'them')} or stopped answering too many times."
            )
        if self.late:
            count = self.late
            reasons.append(
                f"{messages(count)} waiting longer than {they(count, 'it', 'they')} should: "
                "the mail server cannot be reached, or no scheduler is running to send them."
            )
        return reasons


def mail_attention(study_ids: list[int] | None, now: dt.datetime | None = None) -> MailAttention:
    """One query: the messages of these studies (and of no study) that failed lately, are
    late, are interrupted, or wait for a mail server; `None` means every study."""
    from sqlalchemy import case, func

    now = now or now_utc()

    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    waiting = and_(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.due_at <= now)
    not_configured = and_(waiting, OutboxMessage.last_error == smtp.NOT_CONFIGURED)
    late = and_(
        OutboxMessage.state == OutboxState.PENDING,
        OutboxMessage.due_at < now - LATE_AFTER,
        OutboxMessage.last_error != smtp.NOT_CONFIGURED,
    )
    failed = and_(
        OutboxMessage.state == OutboxState.FAILED,
        or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at > now - FAILED_SHOWN_FOR),
    )
    statement = select(
        count(not_configured), count(failed), count(late), count(interrupted_clause(now))
    ).where(OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.SENDING, OutboxState.FAILED]))
    if study_ids is not None:
        statement = statement.where(
            or_(OutboxMessage.study_id.in_(study_ids), OutboxMessage.study_id.is_(None))
        )
    values = db.session.execute(statement).one()
    return MailAttention(*(int(value) for value in values))


def describe_queued(appointment_id: int, since: dt.datetime) -> str:
    """What became of the messages an action just queued for an appointment, in a sentence
    for the person who did it: queued for sending, or kept because no server is configured."""
    rows = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.appointment_id == appointment_id,
            OutboxMessage.created_at >= since,
            OutboxMessage.kind != OutboxKind.REMINDER,
        )
    ).all()
    addresses = sorted({address for row in rows for address in row.recipient_list})
    if not rows:
        return "No messages were written."
    noun = "message" if len(rows) == 1 else "messages"
    to = ", ".join(addresses)
    if not smtp.is_configured():
        return (
            f"{len(rows)} {noun} to {to} kept in the outbox, not sent: no mail server is "
            "configured."
        )
    return (
        f"{len(rows)} {noun} to {to} queued for sending; the outbox shows when "
        f"{'it has' if len(rows) == 1 else 'they have'} gone."
    )


OUTBOX_CSV_HEADER = [
    "created_at",
    "kind",
    "state",
    "subject",
    "recipients",
    "attempts",
    "last_error",
    "sent_at",
]


def message_rows(filters: OutboxFilters, study_id: int | None = None):
    """The filtered outbox as CSV rows (OUTBOX_CSV_HEADER), times ISO 8601 in UTC."""
    statement = message_query(filters, study_id).execution_options(yield_per=500)
    for row in db.session.scalars(statement):
        yield [
            row.created_at.isoformat(),
            row.kind.label,
            row.state.label,
            row.subject,
            ", ".join(row.recipient_list),
            row.attempts,
            row.last_error,
            row.sent_at.isoformat() if row.sent_at else "",
        ]
