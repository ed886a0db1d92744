"""Erasure in reminders: the errors recorded for an erased participant's reminders (an SMTP
server's answer often quotes the address) lose the erased values, the emails written ahead for
their reminders are dropped, and pending reminders to them are cancelled. Subscribed to
`participant_erased`, in the erasure's transaction."""

from __future__ import annotations

from sqlalchemy import select

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.reminders.models import Reminder, ReminderRecipient, ReminderState
from fieldwork.scheduling.models import Appointment


def erase_participant_details(participant_id: int, values: tuple[str, ...]) -> int:
    """Scrub the participant's reminders. No commit. Returns how many changed."""
    changed = 0
    now = now_utc()
    reminders = db.session.scalars(
        select(Reminder)
        .join(Appointment, Appointment.id == Reminder.appointment_id)
        .where(Appointment.participant_id == participant_id)
    )
    for reminder in reminders:
        before = (reminder.last_error, reminder.state)
        # The email written ahead names the participant; it is written again if still needed.
        reminder.prepared_email = None
        error = reminder.last_error or ""
        if any(value.lower() in error.lower() for value in values):
            reminder.last_error = "[removed: the participant's personal data was erased]"
        if (
            reminder.recipient == ReminderRecipient.PARTICIPANT
            and reminder.state == ReminderState.PENDING
        ):
            reminder.state = ReminderState.CANCELLED
            reminder.settled_at = now
        changed += before != (reminder.last_error, reminder.state)
    db.session.flush()
    return changed


def on_participant_erased(sender, person, **_) -> None:
    """`participant_erased` receiver."""
    erase_participant_details(person.participant_id, person.values)
