"""Erasure in the pipeline: an erased participant's steps keep their dates and checksums (the
record that the work was done) but lose their notes, any personal value in a file's name or
place, and the uploaded copy.

Subscribed to `participant_erased`, so it runs in the erasure's transaction.
"""

from __future__ import annotations

import os

from sqlalchemy import select

from fieldwork.extensions import db
from fieldwork.pipeline.models import PipelineEntry
from fieldwork.pipeline.recording import stored_path
from fieldwork.scheduling.models import Appointment

REMOVED = "[removed]"


def _without(text: str, values: tuple[str, ...]) -> str:
    for value in values:  # longest first, as the signal gives them
        if value and value.strip():
            text = text.replace(value, REMOVED)
    return text


def erase_participant_steps(participant_id: int, values: tuple[str, ...]) -> int:
    """Blank the notes of the participant's steps, remove personal values from file names and
    places, and delete uploaded copies. No commit. Returns how many entries changed."""
    entries = list(
        db.session.scalars(
            select(PipelineEntry).where(
                PipelineEntry.appointment_id.in_(
                    select(Appointment.id).where(Appointment.participant_id == participant_id)
                )
            )
        )
    )
    for entry in entries:
        path = stored_path(entry)
        if path:
            os.remove(path)
        entry.stored_name = ""
        entry.note = ""
        entry.undo_note = ""
        entry.file_name = _without(entry.file_name, values)
        entry.location = _without(entry.location, values)
    db.session.flush()
    return len(entries)


def on_participant_erased(sender, person, **_) -> None:
    """`participant_erased` receiver."""
    erase_participant_steps(person.participant_id, person.values)
