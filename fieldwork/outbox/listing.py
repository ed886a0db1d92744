"""The outbox page: the messages newest first, filtered, one message in detail, and the CSV."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import SMTP
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import defer

from fieldwork.core.pagination import Page, paginate
from fieldwork.extensions import db
from fieldwork.outbox.models import OutboxKind, OutboxMessage, OutboxState

#: Lists leave out the stored email (kilobytes a row, read and thrown away fifty times a page).
_WITHOUT_EMAIL = defer(OutboxMessage.raw)


@dataclass(frozen=True)
class OutboxFilters:
    state: str = ""
    kind: str = ""


def message_query(filters: OutboxFilters, study_id: int | None = None) -> Select:
    """Messages newest first, optionally of one state and kind and one study (plus messages
    tied to no study); without their stored email, which a list never shows."""
    statement = (
        select(OutboxMessage)
        .options(_WITHOUT_EMAIL)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
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
    return paginate(message_query(filters, study_id), page, per_page, bounded=True)


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


def api_message_query(study_id: int | None, filters: Mapping[str, Any]) -> Select:
    """The API's list, newest first: one study's messages (None: every study's, for the
    deprecated path). Filters, as parsed API arguments: `state`, `kind`, `appointment` (id)."""
    statement = (
        select(OutboxMessage)
        .options(_WITHOUT_EMAIL)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    )
    if filters.get("state") is not None:
        statement = statement.where(OutboxMessage.state == filters["state"])
    if filters.get("kind") is not None:
        statement = statement.where(OutboxMessage.kind == filters["kind"])
    if filters.get("appointment") is not None:
        statement = statement.where(OutboxMessage.appointment_id == filters["appointment"])
    if study_id is not None:
        statement = statement.where(OutboxMessage.study_id == study_id)
    return statement
