"""A message ready to queue: its bytes as they go over SMTP and what the outbox row records.

The email package (`EmailMessage`, policy SMTP) parses every header it is given back into
objects and folds them again on output; for the one message a web request queues that is
nothing, but the reminders' sweep queues thousands at once and spent most of its time there.
`compose_alternative` writes the common shape (plain text and HTML alternatives, UTF-8) with
the same address headers (fieldwork.invites.headers.format_addresses: no display name can
become another address) straight to bytes; `prepare` turns any EmailMessage into the same
record. `fieldwork.outbox.services.enqueue_many` inserts such records in one statement.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid

from fieldwork.core.time import now_utc
from fieldwork.invites.headers import clean_name, format_addresses
from fieldwork.outbox.redaction import secrets_in, secrets_in_text

#: Longest line a 7bit body may have (RFC 5321 allows 998 octets; we stay well inside).
_MAX_7BIT_LINE = 900


@dataclass(frozen=True)
class PreparedMessage:
    """A whole message and the envelope the outbox sends it with."""

    sender: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    raw: bytes
    #: Whether a body holds a private link or token (redacted from the stored copy once sent).
    has_secrets: bool


def message_addresses(message: EmailMessage, *names: str) -> list[tuple[str, str]]:
    """(name, address) of every mailbox in these headers, empty addresses left out."""
    fields = [str(value) for name in names for value in message.get_all(name, [])]
    return [(name, address) for name, address in getaddresses(fields) if address]


def prepare(message: EmailMessage) -> PreparedMessage:
    """Check a message the outbox can send safely (To/Cc recipients only, one From) and give
    it a Message-ID if it has none. Raises ValueError otherwise."""
    if message.get_all("Bcc"):
        raise ValueError("the outbox sends to To and Cc only; a Bcc header is refused")
    recipients = tuple(address for _, address in message_addresses(message, "To", "Cc"))
    if not recipients:
        raise ValueError("a message needs at least one To or Cc address")
    senders = message_addresses(message, "From")
    if len(senders) != 1:
        raise ValueError("a message needs exactly one From address")
    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(domain=senders[0][1].rpartition("@")[2] or None)
    raw = message.as_bytes(policy=SMTP)
    return PreparedMessage(
        sender=senders[0][1],
        recipients=recipients,
        subject=str(message["Subject"] or "")[:998],
        message_id=str(message["Message-ID"]),
        raw=raw,
        has_secrets=bool(secrets_in(raw)),
    )


def _subject_header(subject: str) -> str:
    """The Subject value, folded: printable ASCII at its spaces, anything else as RFC 2047
    base64 encoded-words of at most 45 bytes, cut between characters (email.header.Header
    does the same, at many times the cost)."""
    if subject.isascii() and "=?" not in subject:
        words, lines, line = subject.split(" "), [], "Subject:"
        for word in words:
            if len(line) + 1 + len(word) > 76 and line != "Subject:":
                lines.append(line)
                line = ""
            line = f"{line} {word}"
        lines.append(line)
        return "\r\n".join(lines).removeprefix("Subject: ")
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for character in subject:
        width = len(character.encode("utf-8"))
        if size + width > 45:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(character)
        size += width
    chunks.append("".join(current))
    words = [f"=?utf-8?b?{base64.b64encode(c.encode('utf-8')).decode('ascii')}?=" for c in chunks]
    return "\r\n ".join(words)


def _body_part(content: str, subtype: str) -> bytes:
    """One text part: 7bit when it is short-lined ASCII, else base64 (any generator and any
    client read both; the outbox's rewriting keeps whichever a part has)."""
    lines = content.replace("\r\n", "\n").split("\n")
    if content.isascii() and max(len(line) for line in lines) <= _MAX_7BIT_LINE:
        encoding, payload = "7bit", "\r\n".join(lines)
    else:
        encoding = "base64"
        payload = base64.encodebytes(content.encode("utf-8")).decode("ascii")
        payload = payload.replace("\n", "\r\n").rstrip("\r\n")
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    return (head + payload + "\r\n").encode("ascii")


def _date_line() -> str:
    return f"Date: {format_datetime(now_utc())}"


def restamp(message: PreparedMessage) -> PreparedMessage:
    """The same composed message dated now (its Date header is its first line): for a message
    written ahead of time and sent later."""
    rest = message.raw[message.raw.index(b"\r\n") :]
    return replace(message, raw=_date_line().encode("ascii") + rest)


def compose_alternative(
    *,
    sender: Address,
    to: Sequence[Address],
    subject: str,
    text: str,
    html: str,
    message_id: str,
    headers: Sequence[tuple[str, str]] = (),
) -> PreparedMessage:
    """A multipart/alternative message (text, then HTML) as bytes. `subject` and the extra
    `headers` must be one line each (fieldwork.invites.mail.header_text makes them so)."""
    if not to:
        raise ValueError("a message needs at least one To address")
    message_id = clean_name(message_id)
    boundary = f"=_fieldwork_{uuid.uuid4().hex}"
    lines = [
        _date_line(),
        f"From: {format_addresses([sender])}",
        f"To: {format_addresses(list(to))}",
        f"Message-ID: {message_id}",
        f"Subject: {_subject_header(subject)}",
        "MIME-Version: 1.0",
        *(f"{name}: {value}" for name, value in headers),
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    delimiter = f"--{boundary}\r\n".encode("ascii")
    raw = b"".join(
        [
            ("\r\n".join(lines) + "\r\n\r\n").encode("ascii"),
            delimiter,
            _body_part(text, "plain"),
            delimiter,
            _body_part(html, "html"),
            f"--{boundary}--\r\n".encode("ascii"),
        ]
    )
    return PreparedMessage(
        sender=sender.addr_spec,
        recipients=tuple(mailbox.addr_spec for mailbox in to),
        subject=subject[:998],
        message_id=message_id,
        raw=raw,
        has_secrets=bool(secrets_in_text(text) or secrets_in_text(html)),
    )
