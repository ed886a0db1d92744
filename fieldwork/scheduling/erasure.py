"""Erasure in scheduling: an erased participant's appointments and booking links lose their
place, link, notes and cancellation reason (the times, interviewer, status and outcome stay,
so coverage and the interviewer's calendar stay true), and their booking links stop working.

Subscribed to `participant_erased`, so it runs in the erasure's transaction. The erased
places and notes are also removed from stored messages through the outbox's `scrub_text`.
"""

from __future__ import annotations

from sqlalchemy import select

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import erasure as outbox_erasure
from fieldwork.scheduling.models import Appointment, AppointmentChange, BookingLink


def erase_participant_details(participant_id: int, study_id: int, values: tuple[str, ...]) -> int:
    """Blank the free text of the participant's appointments and booking links. No commit.
    Returns how many rows changed."""
    removed: set[str] = set()
    changed = 0
    appointments = list(
        db.session.scalars(select(Appointment).where(Appointment.participant_id == participant_id))
    )
    for appointment in appointments:
        removed.update(
            (
                appointment.location,
                appointment.video_link,
                appointment.notes,
                appointment.cancel_reason,
            )
        )
        appointment.location = ""
        appointment.video_link = ""
        appointment.notes = ""
        appointment.cancel_reason = ""
        changed += 1
    if appointments:
        for change in db.session.scalars(
            select(AppointmentChange).where(
                AppointmentChange.appointment_id.in_([a.id for a in appointments])
            )
        ):
            if change.detail:
                removed.add(change.detail)
                change.detail = ""
    now = now_utc()
    for link in db.session.scalars(
        select(BookingLink).where(BookingLink.participant_id == participant_id)
    ):
        removed.update((link.location, link.video_link))
        link.location = ""
        link.video_link = ""
        if link.revoked_at is None:
            link.revoked_at = now
        changed += 1
    db.session.flush()
    outbox_erasure.scrub_text(study_id=study_id, values=[v.strip() for v in removed if v])
    return changed


def on_participant_erased(sender, person, **_) -> None:
    """`participant_erased` receiver."""
    erase_participant_details(person.participant_id, person.study_id, person.values)
