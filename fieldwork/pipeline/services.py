"""The after-interview pipeline: steps, due dates, the board, and what consent asks to undo.

Each held interview goes through the study's steps in order. A step done is a `PipelineEntry`;
the step an interview waits on is the first one without an entry. Due dates are working days
after the interview's date in the study's zone (`fieldwork.pipeline.workdays`).

Views call these; they never touch `request`. Counts for reports and the export are grouped SQL
(`step_counts`); the board arranges a study's held interviews in Python because a due date in
working days (bank holidays) is calendar arithmetic that SQL cannot do portably.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, Integer, Select, and_, case, cast, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.pipeline import workdays
from fieldwork.pipeline.models import (
    DEFAULT_ANONYMISED_STEP,
    DEFAULT_STEPS,
    PipelineEntry,
    PipelineSetting,
    PipelineStep,
)
from fieldwork.recruitment.models import Consent, DataHandling
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.models import Appointment, AppointmentStatus

MAX_STEPS = 20
MAX_DUE_DAYS = 260  # a year of working days
SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: How many interviews a board column shows before "show all".
COLUMN_LIMIT = 20


class PipelineError(ValueError):
    """A request the pipeline refuses; the message is for the user."""


# --- Steps and settings ----------------------------------------------------------------------


def steps_of(study: Study, create: bool = True) -> list[PipelineStep]:
    """The study's steps in order; a study without any gets the default list (commits then).
    With `create` False nothing is written: a study without steps gets unsaved defaults."""
    steps = list(
        db.session.scalars(
            select(PipelineStep)
            .where(PipelineStep.study_id == study.id)
            .order_by(PipelineStep.position, PipelineStep.id)
        )
    )
    if steps:
        return steps
    if not create:
        return [
            PipelineStep(study_id=study.id, position=position, name=name, due_working_days=days)
            for position, (name, days) in enumerate(DEFAULT_STEPS, start=1)
        ]
    try:
        for position, (name, days) in enumerate(DEFAULT_STEPS, start=1):
            db.session.add(
                PipelineStep(study_id=study.id, position=position, name=name, due_working_days=days)
            )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another request made them at the same moment
    return list(
        db.session.scalars(
            select(PipelineStep)
            .where(PipelineStep.study_id == study.id)
            .order_by(PipelineStep.position, PipelineStep.id)
        )
    )


def setting_of(study: Study) -> PipelineSetting:
    """The study's pipeline settings; made on first use (anonymised = the default step)."""
    setting = db.session.get(PipelineSetting, study.id)
    if setting is not None:
        return setting
    steps = steps_of(study)
    anonymised = next((s for s in steps if s.name == DEFAULT_ANONYMISED_STEP), None)
    setting = PipelineSetting(
        study_id=study.id, anonymised_step_id=anonymised.id if anonymised else None
    )
    db.session.add(setting)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        setting = db.session.get(PipelineSetting, study.id)
    return setting


@dataclass
class StepSpec:
    """One row of the step editor: an existing step (id) or a new one (id None)."""

    id: int | None
    name: str
    due_working_days: int | None
    position: int
    remove: bool = False


def save_steps(
    study: Study,
    specs: list[StepSpec],
    achieved_step: str | None,
    anonymised_step: str | None,
    actor: User,
) -> list[PipelineStep]:
    """Replace the study's step list (names, due days, order; removals) and the settings, in one
    transaction. `achieved_step`/`anonymised_step` name a step by its (new) name, or None.
    A step some interview has done cannot be removed. Commits."""
    from fieldwork.audit import services as audit

    existing = {step.id: step for step in steps_of(study)}
    kept = [spec for spec in specs if not spec.remove]
    if not kept:
        raise PipelineError("Keep at least one step.")
    if len(kept) > MAX_STEPS:
        raise PipelineError(f"A pipeline has at most {MAX_STEPS} steps.")
    names = [spec.name.strip() for spec in kept]
    if any(not name for name in names):
        raise PipelineError("Give every step a name.")
    if len({name.casefold() for name in names}) != len(names):
        raise PipelineError("Two steps have the same name; give each step its own name.")
    for spec in kept:
        if spec.due_working_days is not None and not 0 <= spec.due_working_days <= MAX_DUE_DAYS:
            raise PipelineError(f"Due days must be between 0 and {MAX_DUE_DAYS}.")
    for spec in specs:
        if spec.id is not None and spec.id not in existing:
            raise PipelineError("That step is not in this study.")
    removed = [existing[spec.id] for spec in specs if spec.remove and spec.id is not None]
    if removed:
        used = db.session.scalar(
            select(func.count(PipelineEntry.id)).where(
                PipelineEntry.step_id.in_([step.id for step in removed])
            )
        )
        if used:
            raise PipelineError(
                "A step that interviews have done cannot be removed "
                f"({', '.join(step.name for step in removed)})."
            )
    before = [(s.position, s.name, s.due_working_days) for s in existing.values()]
    try:
        for step in removed:
            db.session.delete(step)
        ordered = sorted(kept, key=lambda spec: (spec.position, spec.id or 10**9))
        by_name: dict[str, PipelineStep] = {}
        for position, spec in enumerate(ordered, start=1):
            step = existing[spec.id] if spec.id is not None else PipelineStep(study_id=study.id)
            step.position = position
            step.name = spec.name.strip()[:120]
            step.due_working_days = spec.due_working_days
            db.session.add(step)
            by_name[step.name.casefold()] = step
        db.session.flush()
        setting = setting_of(study)
        for attribute, chosen in (
            ("achieved_step_id", achieved_step),
            ("anonymised_step_id", anonymised_step),
        ):
            if chosen:
                step = by_name.get(chosen.strip().casefold())
                if step is None:
                    raise PipelineError("Choose a step of the list for each setting.")
                setattr(setting, attribute, step.id)
            else:
                setattr(setting, attribute, None)
        audit.record_event(
            "pipeline.steps_changed",
            actor=actor,
            study_id=study.id,
            subject_type="study",
            subject_id=study.id,
            before={"steps": before},
            after={"steps": [(s.position, s.name, s.due_working_days) for s in by_name.values()]},
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return steps_of(study)


# --- Due dates -------------------------------------------------------------------------------


def interview_day(appointment: Appointment) -> dt.date:
    """The interview's date where it was booked (its zone)."""
    return appointment.starts_at.astimezone(ZoneInfo(appointment.timezone)).date()


def due_on(held_on: dt.date, step: PipelineStep) -> dt.date | None:
    """When a step is due: `due_working_days` working days after the interview's date."""
    if step.due_working_days is None:
        return None
    return workdays.add_working_days(held_on, step.due_working_days)


def today_in(study: Study, now: dt.datetime | None = None) -> dt.date:
    return (now or now_utc()).astimezone(ZoneInfo(study.timezone)).date()


# --- One interview's progress ----------------------------------------------------------------


@dataclass
class StepState:
    """A step of one interview: done (its entry), or waiting with its due date."""

    step: PipelineStep
    entry: PipelineEntry | None
    due_on: dt.date | None
    is_overdue: bool

    @property
    def is_done(self) -> bool:
        return self.entry is not None and self.entry.is_done


@dataclass
class InterviewProgress:
    """Where one held interview is in the pipeline."""

    appointment: Appointment
    held_on: dt.date
    steps: list[StepState]
    #: The participant withdrew asking for their data to be destroyed.
    must_destroy: bool = False

    @property
    def current(self) -> StepState | None:
        """The first step not done (None when every step is done)."""
        return next((state for state in self.steps if not state.is_done), None)

    @property
    def is_complete(self) -> bool:
        return self.current is None

    @property
    def is_overdue(self) -> bool:
        current = self.current
        return bool(current and current.is_overdue and not self.must_destroy)

    @property
    def to_undo(self) -> list[PipelineEntry]:
        """Steps done that consent asks to undo and nobody has undone yet."""
        return [s.entry for s in self.steps if s.entry is not None and s.entry.is_waiting_undo]

    @property
    def undone(self) -> list[PipelineEntry]:
        return [s.entry for s in self.steps if s.entry is not None and s.entry.undone_at]

    @property
    def reference(self) -> str:
        return self.appointment.participant.reference


def _held(study: Study, viewer: User | None) -> Select:
    statement = (
        select(Appointment)
        .where(Appointment.study_id == study.id, Appointment.status == AppointmentStatus.HELD)
        .options(
            joinedload(Appointment.participant).joinedload(Participant.role),
            joinedload(Appointment.interviewer),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if viewer is not None and not viewer.is_coordinator:
        statement = statement.where(Appointment.interviewer_id == viewer.id)
    return statement


def _destroy_requested(participant_ids: Iterable[int]) -> set[int]:
    """Participants with a consent withdrawn asking for their data to be destroyed."""
    ids = list(set(participant_ids))
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(Consent.participant_id).where(
                Consent.participant_id.in_(ids),
                Consent.withdrawn_at.is_not(None),
                Consent.data_handling == DataHandling.DESTROY,
            )
        )
    )


def _progress(
    appointments: list[Appointment], steps: list[PipelineStep], today: dt.date
) -> list[InterviewProgress]:
    """Three queries whatever the number: entries, destroy requests (appointments given)."""
    ids = [a.id for a in appointments]
    entries: dict[tuple[int, int], PipelineEntry] = {}
    if ids:
        for entry in db.session.scalars(
            select(PipelineEntry)
            .where(PipelineEntry.appointment_id.in_(ids))
            .options(joinedload(PipelineEntry.done_by), joinedload(PipelineEntry.undone_by))
        ):
            entries[(entry.appointment_id, entry.step_id)] = entry
    destroy = _destroy_requested(a.participant_id for a in appointments)
    result = []
    for appointment in appointments:
        held_on = interview_day(appointment)
        states = []
        for step in steps:
            entry = entries.get((appointment.id, step.id))
            due = due_on(held_on, step)
            done = entry is not None and entry.is_done
            states.append(StepState(step, entry, due, bool(due and not done and due < today)))
        result.append(
            InterviewProgress(
                appointment, held_on, states, must_destroy=appointment.participant_id in destroy
            )
        )
    return result


def interview_progress(
    appointment: Appointment, study: Study, now: dt.datetime | None = None
) -> InterviewProgress:
    """One held interview's steps with their entries and due dates."""
    return _progress([appointment], steps_of(study), today_in(study, now))[0]


# --- The board -------------------------------------------------------------------------------


@dataclass
class Column:
    """The interviews waiting on one step (or complete), overdue first."""

    key: str
    label: str
    step: PipelineStep | None
    interviews: list[InterviewProgress] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.interviews if item.is_overdue)

    @property
    def shown(self) -> list[InterviewProgress]:
        return self.interviews[:COLUMN_LIMIT]


@dataclass
class Board:
    """Every held interview of the study by the step it waits on."""

    study: Study
    today: dt.date
    steps: list[PipelineStep]
    columns: list[Column]
    #: Interviews whose participant asked for their data to be destroyed, with steps to undo.
    to_undo: list[InterviewProgress]

    @property
    def total(self) -> int:
        return sum(len(column.interviews) for column in self.columns)

    @property
    def overdue(self) -> int:
        return sum(column.overdue for column in self.columns)


def _sort_key(item: InterviewProgress):
    current = item.current
    due = current.due_on if current else None
    return (not item.is_overdue, due or dt.date.max, item.held_on, item.appointment.id)


def board(study: Study, viewer: User | None = None, now: dt.datetime | None = None) -> Board:
    """The board: a column per step plus "Complete", overdue interviews first, then by due date.
    Interviewers see their own interviews. A fixed number of queries."""
    today = today_in(study, now)
    # Reading writes nothing (the home page renders panels after the board is made, so a
    # commit here would expire what other panels loaded): unsaved defaults if none are stored.
    steps = steps_of(study, create=False)
    items = _progress(list(db.session.scalars(_held(study, viewer)).unique()), steps, today)
    columns = {step.position: Column(f"step-{step.position}", step.name, step) for step in steps}
    complete = Column("complete", "Complete", None)
    to_undo = []
    for item in items:
        if item.must_destroy:
            if item.to_undo:
                to_undo.append(item)
            continue
        current = item.current
        (columns[current.step.position] if current else complete).interviews.append(item)
    ordered = [*columns.values(), complete]
    for column in ordered:
        column.interviews.sort(key=_sort_key)
    return Board(study, today, steps, ordered, to_undo)


@dataclass(frozen=True)
class DueItem:
    """A step due soon or overdue, for the home page."""

    appointment_id: int
    reference: str
    step_name: str
    due_on: dt.date
    is_overdue: bool


def due_items(current: Board, days: int = 5) -> list[DueItem]:
    """The steps the board's interviews wait on that are overdue or due within `days` working
    days, soonest first."""
    horizon = workdays.add_working_days(current.today, days)
    found = []
    for column in current.columns:
        for item in column.interviews:
            state = item.current
            if state and state.due_on and state.due_on <= horizon:
                found.append(
                    DueItem(
                        item.appointment.id,
                        item.reference,
                        state.step.name,
                        state.due_on,
                        state.is_overdue,
                    )
                )
    return sorted(found, key=lambda d: (d.due_on, d.reference))


# --- Recording a step ------------------------------------------------------------------------


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

    if appointment.status != AppointmentStatus.HELD:
        raise PipelineError("The pipeline starts once the interview is marked held.")
    study = db.session.get(Study, appointment.study_id)
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
    checksum = checksum.strip().lower()
    if checksum and not SHA256.match(checksum):
        raise PipelineError("A SHA-256 checksum is 64 hexadecimal digits (0-9, a-f).")
    file_name, location, note = file_name.strip(), location.strip(), note.strip()
    if len(file_name) > 255 or len(location) > 500 or len(note) > 5000:
        raise PipelineError("File name, location or note is too long.")
    stored_name, stored_bytes = "", None
    if upload is not None:
        enabled, limit, folder = upload_settings()
        if not enabled:
            raise PipelineError("The upload store is off: record where the file is instead.")
        stored_name, stored_bytes, digest = _store(upload, limit, folder)
        if checksum and checksum != digest:
            os.remove(os.path.join(folder, stored_name))
            raise PipelineError(
                "The uploaded file's SHA-256 does not match the checksum given: "
                "check that it is the right file."
            )
        checksum = digest
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
        stored_name=stored_name,
        stored_bytes=stored_bytes,
    )
    try:
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
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if stored_name:
            os.remove(os.path.join(upload_settings()[2], stored_name))
        raise PipelineError(f"“{state.step.name}” was recorded a moment ago.") from error
    except BaseException:
        db.session.rollback()
        if stored_name:
            os.remove(os.path.join(upload_settings()[2], stored_name))
        raise
    return entry


def undo_step(
    appointment: Appointment, entry_id: int, actor: User, note: str, now: dt.datetime | None = None
) -> PipelineEntry:
    """Record that a step consent asked to undo was undone (the file deleted where it is kept;
    an uploaded copy is deleted here). Commits."""
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
    db.session.commit()
    if path:
        os.remove(path)
    return entry


def on_participant_withdrawn(participant: Participant, **_: object) -> None:
    """Receives recruitment's `participant_withdrawn` (same transaction, no commit): when the
    participant asked for their data to be destroyed, every step done for their interviews is
    marked to undo, so the board lists it until someone records that it was."""
    if participant.id not in _destroy_requested([participant.id]):
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


# --- Figures for coverage, reports and the export --------------------------------------------


def achieved_step(study: Study) -> PipelineStep | None:
    """The step coverage waits for, if the study chose one."""
    setting = db.session.get(PipelineSetting, study.id)
    if setting is None or setting.achieved_step_id is None:
        return None
    return db.session.get(PipelineStep, setting.achieved_step_id)


@dataclass(frozen=True)
class StepCount:
    """How many held interviews have done a step (and not undone it), by a moment."""

    step_id: int
    position: int
    name: str
    due_working_days: int | None
    done: int
    undone: int
    first_done_on: dt.date | None
    last_done_on: dt.date | None


def _as_date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def step_counts(study: Study, until: dt.datetime | None = None) -> tuple[int, list[StepCount]]:
    """(held interviews, per step: done, undone, first and last UTC day done), in two grouped
    queries. `until` counts only what was held and done before that moment. Writes nothing."""
    steps = steps_of(study, create=False)
    held_filter = [Appointment.study_id == study.id, Appointment.status == AppointmentStatus.HELD]
    if until is not None:
        held_filter.append(Appointment.starts_at < until)
    held = db.session.scalar(select(func.count(Appointment.id)).where(*held_filter)) or 0
    entry_filter = [PipelineEntry.step_id == PipelineStep.id]
    if until is not None:
        entry_filter.append(PipelineEntry.done_at < until)
    is_undone = PipelineEntry.undone_at.is_not(None)
    if until is not None:
        is_undone = and_(is_undone, PipelineEntry.undone_at < until)
    rows = db.session.execute(
        select(
            PipelineStep.id,
            cast(func.count(PipelineEntry.id), Integer).label("entries"),
            cast(func.coalesce(func.sum(case((is_undone, 1), else_=0)), 0), Integer).label(
                "undone"
            ),
            func.min(PipelineEntry.done_at).label("first_done"),
            func.max(PipelineEntry.done_at).label("last_done"),
        )
        .select_from(PipelineStep)
        .outerjoin(
            PipelineEntry,
            and_(
                *entry_filter,
                PipelineEntry.appointment_id.in_(select(Appointment.id).where(*held_filter)),
            ),
        )
        .where(PipelineStep.study_id == study.id)
        .group_by(PipelineStep.id)
    ).all()
    by_id = {row[0]: row for row in rows}
    counts = []
    for step in steps:
        row = by_id.get(step.id)
        entries, undone = (row.entries, row.undone) if row else (0, 0)
        counts.append(
            StepCount(
                step.id,
                step.position,
                step.name,
                step.due_working_days,
                entries - undone,
                undone,
                _as_date(row.first_done) if row else None,
                _as_date(row.last_done) if row else None,
            )
        )
    return held, counts


@dataclass(frozen=True)
class ArchivableTranscript:
    """An anonymised transcript whose participant's consent allows it to be archived."""

    reference: str
    interview_on: dt.date
    anonymised_on: dt.date
    archived_on: dt.date | None


def archivable_transcripts(study: Study, archivable_participants: Select) -> list:
    """Held interviews whose anonymised step is done (not undone) and whose participant is in
    `archivable_participants` (the export's consent rule), with the anonymised and last steps'
    dates; one query (two when the study never saved its settings). Writes nothing."""
    steps = steps_of(study, create=False)
    if steps[0].id is None:
        return []  # no step stored: nothing was ever recorded
    setting = db.session.get(PipelineSetting, study.id)
    if setting is not None:
        anonymised_id = setting.anonymised_step_id
    else:
        anonymised_id = next((s.id for s in steps if s.name == DEFAULT_ANONYMISED_STEP), None)
    if anonymised_id is None:
        return []
    last_step = steps[-1]
    anonymised = (
        select(PipelineEntry.appointment_id, PipelineEntry.done_at)
        .where(PipelineEntry.step_id == anonymised_id, PipelineEntry.undone_at.is_(None))
        .subquery("anonymised")
    )
    archived = (
        select(PipelineEntry.appointment_id, PipelineEntry.done_at)
        .where(PipelineEntry.step_id == last_step.id, PipelineEntry.undone_at.is_(None))
        .subquery("archived")
    )
    rows = db.session.execute(
        select(
            Participant.reference,
            Appointment.starts_at,
            Appointment.timezone,
            anonymised.c.done_at,
            archived.c.done_at,
        )
        .join(Participant, Participant.id == Appointment.participant_id)
        .join(anonymised, anonymised.c.appointment_id == Appointment.id)
        .outerjoin(archived, archived.c.appointment_id == Appointment.id)
        .where(
            Appointment.study_id == study.id,
            Appointment.status == AppointmentStatus.HELD,
            Participant.id.in_(archivable_participants),
            ~exists().where(
                Consent.participant_id == Participant.id,
                Consent.withdrawn_at.is_not(None),
                Consent.data_handling == DataHandling.DESTROY,
            ),
        )
        .order_by(Participant.reference, Appointment.starts_at, Appointment.id)
    ).all()
    zone = ZoneInfo(study.timezone)
    return [
        ArchivableTranscript(
            reference,
            starts_at.astimezone(ZoneInfo(timezone)).date(),
            anonymised_at.astimezone(zone).date(),
            archived_at.astimezone(zone).date() if archived_at else None,
        )
        for reference, starts_at, timezone, anonymised_at, archived_at in rows
    ]


def reached_step_condition(study_id: int, participant_id: ColumnElement) -> ColumnElement[bool]:
    """SQL that is true for a participant who counts under the study's coverage step: the
    study chose no step (held is enough), or one of their held interviews has that step done
    and not undone. Pure SQL, so coverage adds no query for it."""
    has_step = exists().where(
        PipelineSetting.study_id == study_id, PipelineSetting.achieved_step_id.is_not(None)
    )
    reached = (
        select(Appointment.participant_id)
        .join(PipelineEntry, PipelineEntry.appointment_id == Appointment.id)
        .join(PipelineSetting, PipelineSetting.study_id == Appointment.study_id)
        .where(
            Appointment.study_id == study_id,
            Appointment.status == AppointmentStatus.HELD,
            PipelineEntry.step_id == PipelineSetting.achieved_step_id,
            PipelineEntry.undone_at.is_(None),
        )
    )
    return or_(~has_step, participant_id.in_(reached))
