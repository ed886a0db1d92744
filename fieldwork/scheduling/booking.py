"""Booking rules: no clashes (also under concurrent requests), history, invites via the outbox.

Every change that people must hear about is written together with its outbox messages in one
transaction; the commit wakes the scheduler's sender (fieldwork/outbox/wakeup.py), so no
request waits on the mail server.

Clash checks are serialised per interviewer: before checking, a booking takes a write lock on
the interviewer's user row (and the participant's row) — `SELECT ... FOR UPDATE` on PostgreSQL,
and on SQLite an UPDATE that starts the transaction with a write, which takes the database's
write lock. Two requests for one interviewer therefore check-and-insert one after the other,
and the second sees the first's booking.

Every change to a booking (book, move, cancel, outcome, the participant's own link) takes the
same locks in the same order — interviewer, then participant — and only then re-reads the
appointment and checks its state, so racing requests run one after the other, the later ones
see what the first did (and are told), and none waits on another in a cycle. The order is
written down in docs/concurrency.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from contextlib import nullcontext

from blinker import NamedSignal
from sqlalchemy import func, select
from sqlalchemy import inspect as inspect_model
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.recruitment.status import has_consent_to_take_part
from fieldwork.sampling import assignment
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling import messages
from fieldwork.scheduling.checks import (
    MAX_MINUTES,
    BookingRequest,
    booking_warnings,
    check_request,
    check_timing,
    find_clash,
    lock_booking,
)
from fieldwork.scheduling.errors import (
    ClashError,
    ConsentMissing,
    NeedsConfirmation,
    SchedulingError,
)
from fieldwork.scheduling.history import audit_participant_change, record_change
from fieldwork.scheduling.models import (
    OUTCOME_STATUSES,
    Appointment,
    AppointmentStatus,
    ChangeAction,
)
from fieldwork.scheduling.signals import (
    appointment_booked,
    appointment_cancelled,
    appointment_moved,
    appointment_outcome_recorded,
)


def _announce(
    signal: NamedSignal,
    appointment: Appointment,
    refusal: type[SchedulingError] = SchedulingError,
    **kwargs,
) -> None:
    """Send one of scheduling's signals inside the change's transaction. A receiver refuses
    the change with a ValueError whose message is for the user (e.g. recruitment: the
    participant has withdrawn); it reaches the caller as `refusal`."""
    try:
        signal.send(appointment, **kwargs)
    except SchedulingError:
        raise
    except ValueError as error:
        raise refusal(str(error)) from error


def _check_booking(
    zone_name: str,
    participant: Participant,
    interviewer: User,
    request: BookingRequest,
    *,
    confirmed: bool,
    exclude_appointment_id: int | None = None,
) -> None:
    """Refuse a clash; unless `confirmed`, ask to confirm a time outside windows or busy."""
    clash = find_clash(interviewer, participant, request, zone_name, exclude_appointment_id)
    if clash:
        raise ClashError(clash)
    if not confirmed:
        warnings = booking_warnings(interviewer, request, zone_name)
        if warnings:
            raise NeedsConfirmation(warnings)


def _new_appointment(
    study: Study,
    participant: Participant,
    interviewer: User,
    request: BookingRequest,
    actor: User | None,
) -> Appointment:
    """The appointment a booking request makes, added and flushed (it has its id)."""
    appointment = Appointment(
        study_id=study.id,
        participant_id=participant.id,
        interviewer_id=interviewer.id,
        starts_at=request.starts_at,
        ends_at=request.ends_at,
        timezone=study.timezone,
        participant_timezone=request.participant_timezone or participant.timezone,
        mode=request.mode,
        location=request.location.strip(),
        video_link=request.video_link.strip(),
        notes=request.notes.strip(),
        travel_minutes_before=request.travel_before,
        travel_minutes_after=request.travel_after,
        busy_from=request.busy_from,
        busy_until=request.busy_until,
        status=AppointmentStatus.BOOKED,
        ical_uid=f"{uuid.uuid4()}@fieldwork",
        sequence=0,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(appointment)
    db.session.flush()
    return appointment


def book_appointment(
    study: Study,
    participant: Participant,
    interviewer: User,
    request: BookingRequest,
    actor: User | None,
    *,
    confirmed: bool = False,
    already_took_place: bool = False,
    audit_action: str = "",
) -> Appointment:
    """Book an interview, record it, queue the invites; commit (which wakes the sender).

    A time in the past is refused (PastTimeError) unless `already_took_place`: then the
    interview is recorded as it happened, with no invitations and no reminders, so that its
    outcome can be recorded.
    Raises ClashError naming the clash, NeedsConfirmation with warnings unless `confirmed`.
    `audit_action` names the audit event to write with it (a participant's own booking).
    Sends `appointment_booked` before the commit.
    """
    check_request(request)
    check_timing(request.starts_at, already_took_place=already_took_place)
    if participant.study_id != study.id:
        raise SchedulingError("That participant is not in this study.")
    with transaction():
        lock_booking(interviewer.id, participant.id)
        _check_booking(study.timezone, participant, interviewer, request, confirmed=confirmed)
        appointment = _new_appointment(study, participant, interviewer, request, actor)
        record_change(
            appointment,
            ChangeAction.BOOKED,
            actor,
            new_starts_at=request.starts_at,
            detail="recorded after it took place; no invitations sent"
            if already_took_place
            else "",
            audited=not audit_action,
        )
        _announce(
            appointment_booked, appointment, actor=actor, already_took_place=already_took_place
        )
        # Whoever interviews them works on them: the interviewer can open their page.
        assignment.set_interviewer(participant, interviewer, actor)
        if not already_took_place:
            messages.queue_appointment_messages(appointment.id, "invite")
        if audit_action:
            audit_participant_change(audit_action, appointment, new_starts_at=request.starts_at)
    return appointment


def _reread(appointment: Appointment) -> None:
    """Read the appointment's columns again after taking the locks (its loaded participant and
    interviewer stay, which the pages need)."""
    names = [attribute.key for attribute in inspect_model(Appointment).column_attrs]
    db.session.refresh(appointment, attribute_names=names)


def _require_open(appointment: Appointment) -> None:
    if not appointment.is_open:
        raise SchedulingError(
            f"This appointment is {appointment.status.label.lower()}; it cannot be changed."
        )


def reschedule_appointment(
    appointment: Appointment,
    starts_at: dt.datetime,
    minutes: int,
    actor: User | None,
    *,
    confirmed: bool = False,
    participant_timezone: str = "",
    audit_action: str = "",
) -> Appointment:
    """Move an interview: same UID, SEQUENCE + 1, an updated REQUEST to everyone.

    `participant_timezone`, when given, becomes the zone the participant is written to in.
    Sends `appointment_moved` (with `previous_starts_at`) before the commit.
    """
    _require_open(appointment)
    request = BookingRequest(
        starts_at=starts_at,
        minutes=minutes,
        mode=appointment.mode,
        travel_minutes_before=appointment.travel_minutes_before,
        travel_minutes_after=appointment.travel_minutes_after,
    )
    check_request(request)
    check_timing(request.starts_at, already_took_place=False)
    interviewer = db.session.get_one(User, appointment.interviewer_id)
    participant = db.session.get_one(Participant, appointment.participant_id)
    with transaction():
        lock_booking(interviewer.id, participant.id)
        _reread(appointment)
        _require_open(appointment)
        _check_booking(
            appointment.timezone,
            participant,
            interviewer,
            request,
            confirmed=confirmed,
            exclude_appointment_id=appointment.id,
        )
        old_start = _move(appointment, request, participant_timezone)
        record_change(
            appointment,
            ChangeAction.MOVED,
            actor,
            old_starts_at=old_start,
            new_starts_at=request.starts_at,
            audited=not audit_action,
        )
        db.session.flush()
        messages.queue_appointment_messages(appointment.id, "update", old_start)
        _announce(appointment_moved, appointment, actor=actor, previous_starts_at=old_start)
        if audit_action:
            audit_participant_change(
                audit_action, appointment, old_starts_at=old_start, new_starts_at=starts_at
            )
    return appointment


def _move(
    appointment: Appointment, request: BookingRequest, participant_timezone: str
) -> dt.datetime:
    """Set the new times (SEQUENCE + 1) and return the previous start."""
    old_start = appointment.starts_at
    appointment.starts_at = request.starts_at
    appointment.ends_at = request.ends_at
    appointment.busy_from = request.busy_from
    appointment.busy_until = request.busy_until
    appointment.sequence += 1
    if participant_timezone:
        appointment.participant_timezone = participant_timezone
    return old_start


def cancel_appointment(
    appointment: Appointment,
    reason: str,
    actor: User | None,
    *,
    commit: bool = True,
    audit_action: str = "",
) -> Appointment:
    """Cancel: METHOD:CANCEL with STATUS:CANCELLED and SEQUENCE + 1 to everyone; history kept.

    Sends `appointment_cancelled` (with `is_participant_still_booked`) before the commit."""
    if commit:
        # Standalone: lock in the documented order and look again. Inside a withdrawal
        # (commit=False) the participant row is already locked by recruitment.
        try:
            lock_booking(appointment.interviewer_id, appointment.participant_id)
            _reread(appointment)
        except BaseException:
            db.session.rollback()
            raise
    _require_open(appointment)  # the locks stay until the request ends its transaction
    # Inside a withdrawal (commit=False) the withdrawal's code owns the transaction.
    with transaction() if commit else nullcontext():
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at = now_utc()
        appointment.cancel_reason = reason.strip()
        appointment.sequence += 1
        record_change(
            appointment,
            ChangeAction.CANCELLED,
            actor,
            old_starts_at=appointment.starts_at,
            detail=appointment.cancel_reason,
            audited=not audit_action,
        )
        db.session.flush()
        messages.queue_appointment_messages(appointment.id, "cancellation")
        if audit_action:
            audit_participant_change(audit_action, appointment, old_starts_at=appointment.starts_at)
        _announce(
            appointment_cancelled,
            appointment,
            actor=actor,
            is_participant_still_booked=_has_booking(appointment.participant_id),
        )
    return appointment


def _has_booking(participant_id: int) -> bool:
    """Whether the participant still has an interview booked (after pending changes)."""
    db.session.flush()
    return bool(
        db.session.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.participant_id == participant_id,
                Appointment.status == AppointmentStatus.BOOKED,
            )
        )
    )


def _check_outcome(
    appointment: Appointment, status: AppointmentStatus, actual_minutes: int | None
) -> None:
    """Refuse an outcome the appointment cannot have (yet), or held without consent."""
    if appointment.status not in (AppointmentStatus.BOOKED, *OUTCOME_STATUSES):
        raise SchedulingError("A cancelled appointment has no outcome.")
    if appointment.starts_at > now_utc():
        raise SchedulingError("The outcome can be recorded once the interview's time has come.")
    if actual_minutes is not None and not 1 <= actual_minutes <= MAX_MINUTES:
        raise SchedulingError(f"The length must be between 1 and {MAX_MINUTES} minutes.")
    participant = db.session.get_one(Participant, appointment.participant_id)
    if status == AppointmentStatus.HELD and not has_consent_to_take_part(participant):
        raise ConsentMissing(
            f"{participant.reference} has no consent to take part on record. "
            "Record their consent before marking the interview as held."
        )


def _outcome_detail(status: AppointmentStatus, actual_minutes: int | None, is_recorded) -> str:
    """The history line's words, e.g. 'Held, 55 minutes, recorded'."""
    detail = status.label
    if status == AppointmentStatus.HELD:
        detail += f", {actual_minutes} minutes" if actual_minutes else ""
        detail += ", recorded" if is_recorded else ", not recorded"
    return detail


def record_outcome(
    appointment: Appointment,
    status: AppointmentStatus,
    actual_minutes: int | None,
    is_recorded: bool | None,
    actor: User,
) -> Appointment:
    """Record what happened. Held needs consent to take part on record. Sends
    `appointment_outcome_recorded` (recruitment marks the participant interviewed, or back to
    agreed when nothing else is booked) before the commit."""
    if status not in OUTCOME_STATUSES:
        raise SchedulingError("Choose held, no-show or cancelled late.")
    try:
        lock_booking(appointment.interviewer_id, appointment.participant_id)
        _reread(appointment)
    except BaseException:
        db.session.rollback()
        raise
    is_held = status == AppointmentStatus.HELD
    minutes = actual_minutes if is_held else None
    recorded = is_recorded if is_held else None
    if (appointment.status, appointment.actual_minutes, appointment.is_recorded) == (
        status,
        minutes,
        recorded,
    ):
        db.session.rollback()  # the same outcome again (a double submission): nothing to do
        return appointment
    # Refused here without a rollback: the page shows the appointment as it loaded it.
    _check_outcome(appointment, status, actual_minutes)
    with transaction():
        appointment.status = status
        appointment.actual_minutes = minutes
        appointment.is_recorded = recorded
        appointment.outcome_recorded_at = now_utc()
        appointment.outcome_recorded_by_id = actor.id
        if status == AppointmentStatus.CANCELLED_LATE:
            appointment.cancelled_at = appointment.cancelled_at or now_utc()
        detail = _outcome_detail(status, actual_minutes, is_recorded)
        record_change(appointment, ChangeAction.OUTCOME, actor, detail=detail)
        _announce(
            appointment_outcome_recorded,
            appointment,
            refusal=ConsentMissing,
            actor=actor,
            is_participant_still_booked=_has_booking(appointment.participant_id),
        )
    return appointment


def cancel_future_appointments(participant: Participant, reason: str = "") -> int:
    """Cancel a withdrawn participant's future bookings, cancellations queued; no commit.

    Called on recruitment's `participant_withdrawn`, so it joins that transaction; the withdrawal
    code commits, and its commit wakes the outbox's sender.
    """
    upcoming = db.session.scalars(
        select(Appointment)
        .options(joinedload(Appointment.participant), joinedload(Appointment.interviewer))
        .where(
            Appointment.participant_id == participant.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at > now_utc(),
        )
    ).unique()
    count = 0
    for appointment in list(upcoming):
        cancel_appointment(
            appointment, reason or "The participant withdrew from the study.", None, commit=False
        )
        count += 1
    return count


def on_participant_withdrawn(participant: Participant, **_: object) -> None:
    """Receives recruitment's `participant_withdrawn`, inside the withdrawal's transaction."""
    cancel_future_appointments(participant)
