"""Erasure in calendar replies: an erased participant's answers keep what they were (accepted,
declined, when) but lose the address, name and comment; the mail read from them loses its
sender and subject. Subscribed to `participant_erased`, in the erasure's transaction."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select

from fieldwork.extensions import db
from fieldwork.replies.models import CalendarReply, MailboxMessage

#: What replaces an erased address in a reply (the column cannot be empty in meaning).
ERASED_ADDRESS = "erased@invalid"


def erase_participant_replies(participant_id: int, study_id: int, email: str, values) -> int:
    """Blank the personal details in the participant's answers and their mail. No commit."""
    from fieldwork.scheduling.models import Appointment

    changed = 0
    replies = db.session.scalars(
        select(CalendarReply)
        .join(Appointment, Appointment.id == CalendarReply.appointment_id)
        .where(Appointment.participant_id == participant_id, CalendarReply.is_participant)
    )
    message_ids = []
    for reply in replies:
        reply.attendee_email = ERASED_ADDRESS
        reply.attendee_name = ""
        reply.comment = ""
        reply.sender_email = ERASED_ADDRESS
        if reply.mailbox_message_id:
            message_ids.append(reply.mailbox_message_id)
        changed += 1
    conditions: list[ColumnElement[bool]] = (
        [MailboxMessage.id.in_(message_ids)] if message_ids else []
    )
    if email:
        conditions.append(func.lower(MailboxMessage.sender).contains(email, autoescape=True))
    if conditions:
        for row in db.session.scalars(
            select(MailboxMessage).where(
                or_(*conditions),
                or_(MailboxMessage.study_id == study_id, MailboxMessage.study_id.is_(None)),
            )
        ):
            row.sender = ""
            row.subject = ""
            row.reason = _without(row.reason, values)
            changed += 1
    db.session.flush()
    return changed


def _without(text: str, values) -> str:
    for value in values:
        if value:
            text = text.replace(value, "[erased]")
    return text


def on_participant_erased(sender, person, **_) -> None:
    """`participant_erased` receiver."""
    erase_participant_replies(person.participant_id, person.study_id, person.email, person.values)
