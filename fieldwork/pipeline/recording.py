"""Recording a step done (with the optional upload store), undoing one that consent asks to
undo, and marking steps to undo when a participant withdraws asking for their data destroyed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from typing import IO

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.core.transactions import after_commit, transaction
from fieldwork.extensions import db
from fieldwork.pipeline.board import StepState, destroy_requested, interview_progress
from fieldwork.pipeline.models import (
    PipelineEntry,
    PipelineStep,
)
from fieldwork.pipeline.steps import PipelineError
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.models import Appointment, AppointmentStatus

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def get_held_interview(appointment_id: int, viewer: User) -> Appointment | None:
    """An appointment the viewer may work on (coordinators: any; interviewers: theirs)."""
    from fieldwork.scheduling.appointments import get_appointment

    return get_appointment(appointment_id, viewer)


def upload_settings() -> tuple[bool, int, str]:
    """(is the upload store on, its size limit in bytes, its folder under instance/).

    The limit is PIPELINE_UPLOAD_MAX_BYTES, never above MAX_CONTENT_LENGTH (the request
    limit every form shares); raise both to keep audio."""
    config = current_app.config
    folder = os.path.join(current_app.instance_path, "pipeline-files")
    limit = int(config["PIPELINE_UPLOAD_MAX_BYTES"])
    request_limit = config.get("MAX_CONTENT_LENGTH")
    if request_limit:
        limit = min(limit, int(request_limit))
    return bool(config["PIPELINE_UPLOADS_ENABLED"]), limit, folder


def _store(stream: IO[bytes], limit: int, folder: str) -> tuple[str, int, str]:
    """Copy an upload into the store while hashing it; refuse past `limit` bytes (nothing
    kept). Returns (stored name, size, sha256)."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    name = secrets.token_hex(16)
    path = os.path.join(folder, name)
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "xb") as out:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise PipelineError(
                        f"The file is larger than the upload limit ({limit // (1024 * 1024)} MB)."
                    )
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        if os.path.exists(path):
            os.remove(path)
        raise
    return name, size, digest.hexdigest()


def entry_for(appointment: Appointment, step_id: int) -> PipelineEntry | None:
    """The entry of one step of one interview, if recorded."""
    return db.session.scalar(
        select(PipelineEntry).where(
            PipelineEntry.appointment_id == appointment.id, PipelineEntry.step_id == step_id
        )
    )


def stored_path(entry: PipelineEntry) -> str | None:
    """The uploaded copy's path, or None when there is none."""
    if not entry.stored_name or not re.fullmatch(r"[0-9a-f]{32}", entry.stored_name):
        return None
    path = os.path.join(upload_settings()[2], entry.stored_name)
    return path if os.path.isfile(path) else None


# Long mostly in its signature: every field a recorded step may carry is a keyword
# argument, checked once here.
def record_step(
    appointment: Appointment,
    step_id: int,
    actor: User,
    *,
    note: str = "",
    file_name: str = "",
    location: str = "",
    checksum: str = "",
    upload: IO[bytes] | None = None,
    upload_name: str = "",
    now: dt.datetime | None = None,
) -> PipelineEntry:
    """Record a step done for a held interview: who, when, a note and the file's reference.
    Steps are done in order; a participant who asked for their data to be destroyed gets no
    new step. With the upload store on, a file may be kept too (its checksum computed).
    Commits; on refusal nothing is saved."""
    from fieldwork.audit import services as audit

    state = _next_step(appointment, step_id, now)
    checksum = checksum.strip().lower()
    if checksum and not SHA256.match(checksum):
        raise PipelineError("A SHA-256 checksum is 64 hexadecimal digits (0-9, a-f).")
    file_name, location, note = file_name.strip(), location.strip(), note.strip()
    if len(file_name) > 255 or len(location) > 500 or len(note) > 5000:
        raise PipelineError("File name, location or note is too long.")
    stored = _keep_upload(upload, checksum) if upload is not None else None
    if stored is not None:
        checksum = stored.checksum
        file_name = file_name or os.path.basename(upload_name)[:255]
        location = location or "Fieldwork upload store"
    entry = PipelineEntry(
        appointment_id=appointment.id,
        step_id=step_id,
        done_at=now or now_utc(),
        done_by_id=actor.id,
        note=note,
        file_name=file_name,
        location=location,
        checksum=checksum,
        stored_name=stored.name if stored else "",
        stored_bytes=stored.size if stored else None,
    )
    try:
        with transaction():
            db.session.add(entry)
            db.session.flush()
            audit.record_event(
                "pipeline.step_done",
                actor=actor,
                study_id=appointment.study_id,
                subject_type="appointment",
                subject_id=appointment.id,
                participant_id=appointment.participant_id,
                after={"step": state.step.name, "file_name": file_name, "checksum": checksum},
            )
    except BaseException as error:
        if stored is not None:
            os.remove(stored.path)
        if isinstance(error, IntegrityError):
            raise PipelineError(f"“{state.step.name}” was recorded a moment ago.") from error
        raise
    return entry


def _next_step(appointment: Appointment, step_id: int, now: dt.datetime | None) -> StepState:
    """The interview's state of `step_id`, which must be the next step to record."""
    if appointment.status != AppointmentStatus.HELD:
        raise PipelineError("The pipeline starts once the interview is marked held.")
    study = db.session.get_one(Study, appointment.study_id)
    progress = interview_progress(appointment, study, now)
    if progress.must_destroy:
        raise PipelineError(
            f"{progress.reference} withdrew and asked for their data to be destroyed: "
            "no step can be added."
        )
    state = next((s for s in progress.steps if s.step.id == step_id), None)
    if state is None:
        raise PipelineError("That step is not in this study's pipeline.")
    if state.entry is not None:
        raise PipelineError(f"“{state.step.name}” is already recorded for this interview.")
    current = progress.current
    if current is None or current.step.id != step_id:
        raise PipelineError(
            f"Record “{current.step.name if current else ''}” first: steps are done in order."
        )
    return state


@dataclass(frozen=True)
class StoredUpload:
    """An uploaded file copied into the store."""

    name: str
    path: str
    size: int
    checksum: str


def _keep_upload(upload: IO[bytes], checksum: str) -> StoredUpload:
    """Copy an upload into the store; refused (nothing kept) when the store is off or the file
    does not match the checksum given."""
    enabled, limit, folder = upload_settings()
    if not enabled:
        raise PipelineError("The upload store is off: record where the file is instead.")
    name, size, digest = _store(upload, limit, folder)
    path = os.path.join(folder, name)
    if checksum and checksum != digest:
        os.remove(path)
        raise PipelineError(
            "The uploaded file's SHA-256 does not match the checksum given: "
            "check that it is the right file."
        )
    return StoredUpload(name, path, size, digest)


@transaction()
def undo_step(
    appointment: Appointment, entry_id: int, actor: User, note: str, now: dt.datetime | None = None
) -> PipelineEntry:
    """Record that a step consent asked to undo was undone (the file deleted where it is kept;
    an uploaded copy is deleted here, once the record is committed). Commits."""
    from fieldwork.audit import services as audit

    entry = db.session.get(PipelineEntry, entry_id)
    if entry is None or entry.appointment_id != appointment.id:
        raise PipelineError("That step is not recorded for this interview.")
    if entry.undone_at is not None:
        raise PipelineError("That step is already recorded as undone.")
    if entry.undo_required_at is None:
        raise PipelineError("Only steps that a withdrawal asks to undo can be undone.")
    note = note.strip()
    if not note:
        raise PipelineError("Say what was done, e.g. “audio deleted from the team drive”.")
    if len(note) > 5000:
        raise PipelineError("The note is too long.")
    path = stored_path(entry)
    entry.undone_at = now or now_utc()
    entry.undone_by_id = actor.id
    entry.undo_note = note
    step = db.session.get(PipelineStep, entry.step_id)
    audit.record_event(
        "pipeline.step_undone",
        actor=actor,
        study_id=appointment.study_id,
        subject_type="appointment",
        subject_id=appointment.id,
        participant_id=appointment.participant_id,
        after={"step": step.name if step else "", "note": note},
    )
    if path:
        entry.stored_name = ""
        after_commit(lambda: os.remove(path))
    return entry


def on_participant_withdrawn(participant: Participant, **_: object) -> None:
    """Receives recruitment's `participant_withdrawn` (same transaction, no commit): when the
    participant asked for their data to be destroyed, every step done for their interviews is
    marked to undo, so the board lists it until someone records that it was."""
    if participant.id not in destroy_requested([participant.id]):
        return
    appointment_ids = select(Appointment.id).where(Appointment.participant_id == participant.id)
    now = now_utc()
    for entry in db.session.scalars(
        select(PipelineEntry).where(
            PipelineEntry.appointment_id.in_(appointment_ids),
            PipelineEntry.undone_at.is_(None),
            PipelineEntry.undo_required_at.is_(None),
        )
    ):
        entry.undo_required_at = now
