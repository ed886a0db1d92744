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
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from fieldwork.accounts.models import User, UserRole
from fieldwork.audit import services as audit
from fieldwork.core.time import now_utc
from fieldwork.core.tokens import hash_token, new_token
from fieldwork.extensions import db
from fieldwork.sampling import assignment
from fieldwork.sampling.models import Participant, Role, Study
from fieldwork.scheduling import availability
from fieldwork.scheduling.models import (
    OCCUPYING_STATUSES,
    OUTCOME_STATUSES,
    Appointment,
    AppointmentChange,
    AppointmentMode,
    AppointmentStatus,
    AvailabilityWindow,
    BookingLink,
    CalendarFeed,
    ChangeAction,
    TopicGuide,
)
from fieldwork.scheduling.timeutil import format_span

#: Longest interview the forms and API accept, and longest travel each way.
MAX_MINUTES = 8 * 60
MAX_TRAVEL_MINUTES = 4 * 60
#: How long a booking link works unless the coordinator says otherwise.
BOOKING_LINK_DAYS = 14


class SchedulingError(ValueError):
    """A change that cannot be made; the message is for the user."""


class ClashError(SchedulingError):
    """The interviewer or the participant is already booked at that time."""


class ConsentMissing(SchedulingError):
    """An interview cannot be recorded as held without consent to take part."""


class PastTimeError(SchedulingError):
    """A booking for a time already gone, not declared as an interview that took place."""


PAST_MESSAGE = (
    "That time is in the past. To record an interview that already took place, "
    "tick “Record an interview that already took place” (no invitations are sent)."
)


def check_timing(starts_at: dt.datetime, *, already_took_place: bool) -> None:
    """A new booking starts in the future; a recorded past interview started in the past."""
    if already_took_place and starts_at > now_utc():
        raise SchedulingError(
            "An interview that already took place needs a start time in the past."
        )
    if not already_took_place and starts_at <= now_utc():
        raise PastTimeError(PAST_MESSAGE)


class NeedsConfirmation(SchedulingError):
    """The booking is allowed but unusual (outside windows, on a busy block): confirm it."""

    def __init__(self, warnings: list[str]):
        super().__init__(" ".join(warnings))
        self.warnings = warnings


@dataclass(frozen=True)
class BookingRequest:
    """What a booking or a move asks for; times aware."""

    starts_at: dt.datetime
    minutes: int
    mode: AppointmentMode
    location: str = ""
    video_link: str = ""
    notes: str = ""
    travel_minutes_before: int = 0
    travel_minutes_after: int = 0
    #: The zone the participant reads times in, when known (empty: their stored one).
    participant_timezone: str = ""

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.minutes)

    @property
    def travel_before(self) -> int:
        return self.travel_minutes_before if self.mode == AppointmentMode.IN_PERSON else 0

    @property
    def travel_after(self) -> int:
        return self.travel_minutes_after if self.mode == AppointmentMode.IN_PERSON else 0

    @property
    def busy_from(self) -> dt.datetime:
        return self.starts_at - dt.timedelta(minutes=self.travel_before)

    @property
    def busy_until(self) -> dt.datetime:
        return self.ends_at + dt.timedelta(minutes=self.travel_after)


# --- Who sees what ---------------------------------------------------------------------------


def _visible(statement: Select, viewer: User | None) -> Select:
    """Interviewers see their own appointments only; coordinators all of the studies they
    coordinate (a membership as coordinator there says so)."""
    if viewer is not None:
        statement = statement.where(
            or_(
                Appointment.study_id.in_(viewer.coordinated_study_ids),
                Appointment.interviewer_id == viewer.id,
            )
        )
    return statement


def _with_people(statement: Select) -> Select:
    return statement.options(
        joinedload(Appointment.participant).joinedload(Participant.role),
        joinedload(Appointment.participant).joinedload(Participant.organisation),
        joinedload(Appointment.interviewer),
        joinedload(Appointment.study),
    )


def get_appointment(appointment_id: int, viewer: User | None = None) -> Appointment | None:
    """One appointment with its people, or None when missing or not the viewer's."""
    statement = _with_people(select(Appointment).where(Appointment.id == appointment_id))
    return db.session.scalars(_visible(statement, viewer)).unique().one_or_none()


def get_appointment_with_history(
    appointment_id: int, viewer: User | None = None
) -> Appointment | None:
    statement = _with_people(select(Appointment).where(Appointment.id == appointment_id)).options(
        selectinload(Appointment.changes).joinedload(AppointmentChange.changed_by),
        joinedload(Appointment.outcome_recorded_by),
    )
    return db.session.scalars(_visible(statement, viewer)).unique().one_or_none()


@dataclass
class AppointmentFilters:
    interviewer_id: int | None = None
    status: AppointmentStatus | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None
    participant_id: int | None = None


def appointment_query(
    study: Study | None, filters: AppointmentFilters, viewer: User | None, zone_name: str
) -> Select:
    """Appointments of a study (or all studies), filtered, soonest first; dates are read in
    `zone_name`."""
    from fieldwork.scheduling.timeutil import to_utc

    statement = _with_people(select(Appointment))
    if study is not None:
        statement = statement.where(Appointment.study_id == study.id)
    if filters.interviewer_id:
        statement = statement.where(Appointment.interviewer_id == filters.interviewer_id)
    if filters.participant_id:
        statement = statement.where(Appointment.participant_id == filters.participant_id)
    if filters.status:
        statement = statement.where(Appointment.status == filters.status)
    if filters.from_date:
        statement = statement.where(
            Appointment.starts_at >= to_utc(filters.from_date, dt.time(), zone_name)
        )
    if filters.to_date:
        day_after = filters.to_date + dt.timedelta(days=1)
        statement = statement.where(Appointment.starts_at < to_utc(day_after, dt.time(), zone_name))
    return _visible(statement, viewer).order_by(Appointment.starts_at, Appointment.id)


APPOINTMENT_CSV_HEADER = [
    "starts_at",
    "ends_at",
    "timezone",
    "participant_reference",
    "participant_name",
    "role",
    "organisation",
    "interviewer",
    "mode",
    "place_or_link",
    "status",
    "actual_minutes",
]


def appointment_rows(study: Study, filters: AppointmentFilters, viewer: User | None):
    """The filtered appointments as CSV rows; times ISO 8601 in the study's zone."""
    from fieldwork.scheduling.timeutil import local

    statement = appointment_query(study, filters, viewer, study.timezone)
    for item in db.session.scalars(statement.execution_options(yield_per=500)):
        yield [
            local(item.starts_at, item.timezone).isoformat(),
            local(item.ends_at, item.timezone).isoformat(),
            item.timezone,
            item.participant.reference,
            item.participant.name,
            item.participant.role.name,
            item.participant.organisation.name,
            item.interviewer.name,
            item.mode.label,
            item.video_link if item.mode == AppointmentMode.VIDEO else item.location,
            item.status.label,
            item.actual_minutes,
        ]


def appointment_query_all(
    study: Study | None, filters: AppointmentFilters, viewer: User | None
) -> Select:
    """For the API: dates in UTC, all studies unless one is given."""
    return appointment_query(study, filters, viewer, study.timezone if study else "UTC")


def appointments_of_participant(participant_id: int) -> list[Appointment]:
    """A participant's appointments, newest first, interviewers loaded (one query)."""
    return list(
        db.session.scalars(
            select(Appointment)
            .options(joinedload(Appointment.interviewer))
            .where(Appointment.participant_id == participant_id)
            .order_by(Appointment.starts_at.desc())
        ).unique()
    )


def list_interviewers() -> list[User]:
    """Enabled interviewers of the study being worked on (all of them outside a request)."""
    from fieldwork.accounts.services import list_interviewers as interviewers_of_study

    return interviewers_of_study()


def bookable_people() -> list[User]:
    """Everyone who can hold an interview in the study being worked on: its interviewers, and
    coordinators who interview too."""
    from fieldwork.accounts.services import list_users

    people = [user for user in list_users() if user.is_enabled]
    return sorted(people, key=lambda user: (user.role != UserRole.INTERVIEWER, user.name))


# --- Locks and clashes -----------------------------------------------------------------------


def _lock(interviewer_id: int, participant_id: int) -> None:
    """Serialise bookings for this interviewer and participant until the transaction ends.

    Always interviewer first, then participant, so two bookings never wait on each other in a
    cycle.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(User.id).where(User.id == interviewer_id).with_for_update())
        db.session.execute(
            select(Participant.id).where(Participant.id == participant_id).with_for_update()
        )
    else:
        # SQLite locks the whole database for writing; a no-op UPDATE first takes that lock,
        # so the following check and insert cannot interleave with another booking's.
        db.session.execute(
            update(User).where(User.id == interviewer_id).values(id=User.id),
            execution_options={"synchronize_session": False},
        )


def find_clash(
    interviewer: User,
    participant: Participant,
    request: BookingRequest,
    zone_name: str,
    exclude_appointment_id: int | None = None,
) -> str | None:
    """The message naming the first clash, or None when the time is free."""
    statement = (
        select(Appointment)
        .options(joinedload(Appointment.participant), joinedload(Appointment.interviewer))
        .where(
            Appointment.status.in_(OCCUPYING_STATUSES),
            or_(
                and_(
                    Appointment.interviewer_id == interviewer.id,
                    Appointment.busy_from < request.busy_until,
                    Appointment.busy_until > request.busy_from,
                ),
                and_(
                    Appointment.participant_id == participant.id,
                    Appointment.starts_at < request.ends_at,
                    Appointment.ends_at > request.starts_at,
                ),
            ),
        )
        .order_by(Appointment.starts_at)
    )
    if exclude_appointment_id is not None:
        statement = statement.where(Appointment.id != exclude_appointment_id)
    for other in db.session.scalars(statement).unique():
        span = format_span(other.starts_at, other.ends_at, zone_name)
        if other.interviewer_id == interviewer.id and (
            other.busy_from < request.busy_until and other.busy_until > request.busy_from
        ):
            message = f"{interviewer.name} already has {other.participant.reference} {span}"
            if (other.busy_from, other.busy_until) != (other.starts_at, other.ends_at) or (
                request.busy_from,
                request.busy_until,
            ) != (request.starts_at, request.ends_at):
                message += " (counting travel time)"
            return message + "."
        return (
            f"{participant.reference} already has an interview with "
            f"{other.interviewer.name} {span}."
        )
    return None


def booking_warnings(interviewer: User, request: BookingRequest, zone_name: str) -> list[str]:
    """Reasons to think twice: outside the interviewer's windows, or on a busy block."""
    warnings = []
    windows = availability.windows_of(interviewer.id)
    if not availability.is_within_windows(windows, request.starts_at, request.ends_at):
        warnings.append(
            f"This is outside {interviewer.name}'s available times "
            f"({format_span(request.starts_at, request.ends_at, zone_name)})."
        )
    blocks = availability.busy_blocks_between(interviewer.id, request.busy_from, request.busy_until)
    if blocks:
        first = blocks[0]
        warnings.append(
            f"{interviewer.name}'s own calendar shows them busy "
            f"{format_span(first.starts_at, first.ends_at, zone_name)}."
        )
    return warnings


def _check_request(request: BookingRequest) -> None:
    if request.starts_at.tzinfo is None:
        raise SchedulingError("The start time needs a time zone.")
    if not 5 <= request.minutes <= MAX_MINUTES:
        raise SchedulingError(f"The length must be between 5 and {MAX_MINUTES} minutes.")
    for value in (request.travel_minutes_before, request.travel_minutes_after):
        if not 0 <= value <= MAX_TRAVEL_MINUTES:
            raise SchedulingError(
                f"Travel time must be between 0 and {MAX_TRAVEL_MINUTES} minutes."
            )


# --- Booking, moving, cancelling -------------------------------------------------------------


def _recruitment():
    """The recruitment domain's services (consent and status), imported when first needed."""
    from fieldwork.recruitment import services as recruitment

    return recruitment


def _reminders():
    """The reminders domain's services: reminders are rows planned in the booking's
    transaction (DESIGN.md), moved and cancelled with it."""
    from fieldwork.reminders import services as reminders

    return reminders


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
    """
    from fieldwork.scheduling import messages

    _check_request(request)
    check_timing(request.starts_at, already_took_place=already_took_place)
    if participant.study_id != study.id:
        raise SchedulingError("That participant is not in this study.")
    participant_id, interviewer_id = participant.id, interviewer.id
    try:
        _lock(interviewer_id, participant_id)
        clash = find_clash(interviewer, participant, request, study.timezone)
        if clash:
            raise ClashError(clash)
        if not confirmed:
            warnings = booking_warnings(interviewer, request, study.timezone)
            if warnings:
                raise NeedsConfirmation(warnings)
        appointment = Appointment(
            study_id=study.id,
            participant_id=participant_id,
            interviewer_id=interviewer_id,
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
        _history(
            appointment,
            ChangeAction.BOOKED,
            actor,
            new_starts_at=request.starts_at,
            detail="recorded after it took place; no invitations sent"
            if already_took_place
            else "",
            audited=not audit_action,
        )
        recruitment = _recruitment()
        try:
            recruitment.mark_scheduled(participant, actor)
        except recruitment.RecruitmentError as error:
            raise SchedulingError(str(error)) from error
        # Whoever interviews them works on them: the interviewer can open their page.
        assignment.set_interviewer(participant, interviewer, actor)
        if not already_took_place:
            messages.queue_appointment_messages(appointment.id, "invite")
            _reminders().plan_reminders(appointment)
        if audit_action:
            _audit(audit_action, appointment, new_starts_at=request.starts_at)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return appointment


def _history(
    appointment: Appointment,
    action: ChangeAction,
    actor: User | None,
    *,
    old_starts_at: dt.datetime | None = None,
    new_starts_at: dt.datetime | None = None,
    detail: str = "",
    audited: bool = True,
) -> None:
    """A line of the appointment's history and, unless the caller writes its own (a
    participant's change through their link), the audit event."""
    db.session.add(
        AppointmentChange(
            appointment_id=appointment.id,
            changed_at=now_utc(),
            changed_by_id=actor.id if actor else None,
            action=action,
            old_starts_at=old_starts_at,
            new_starts_at=new_starts_at,
            detail=detail,
        )
    )
    if audited:
        _audit_change(appointment, action, actor, old_starts_at=old_starts_at, detail=detail)


#: The audit trail's name for each line of an appointment's history.
AUDIT_ACTIONS = {
    ChangeAction.BOOKED: "appointment.booked",
    ChangeAction.MOVED: "appointment.moved",
    ChangeAction.CANCELLED: "appointment.cancelled",
    ChangeAction.OUTCOME: "appointment.outcome_recorded",
}


def _audit_change(
    appointment: Appointment,
    action: ChangeAction,
    actor: User | None,
    *,
    old_starts_at: dt.datetime | None,
    detail: str,
) -> None:
    """Every booking, move, cancellation and outcome by a user (or the system) is also an
    audit event, no commit; a participant's own changes are written by `_audit` instead."""
    interviewer = db.session.get(User, appointment.interviewer_id)
    after: dict = {
        "starts_at": appointment.starts_at,
        "interviewer": interviewer.name if interviewer else None,
        "mode": appointment.mode.value,
    }
    before = None
    if action == ChangeAction.MOVED:
        before = {"starts_at": old_starts_at}
    elif action == ChangeAction.CANCELLED:
        after["reason"] = detail
    elif action == ChangeAction.OUTCOME:
        after["outcome"] = appointment.status.value
        after["detail"] = detail
    audit.record_event(
        AUDIT_ACTIONS[action],
        actor=actor,
        study_id=appointment.study_id,
        subject_type="appointment",
        subject_id=appointment.id,
        participant_id=appointment.participant_id,
        before=before,
        after=after,
    )


def _audit(action: str, appointment: Appointment, **after) -> None:
    """An audit event for a participant's own change (there is no user as actor)."""
    from fieldwork.audit.services import record_event

    record_event(
        action,
        actor=None,
        study_id=appointment.study_id,
        subject_type="appointment",
        subject_id=appointment.id,
        participant_id=appointment.participant_id,
        after={"by": "participant", **after},
    )


def _reread(appointment: Appointment) -> None:
    """Read the appointment's columns again after taking the locks (its loaded participant and
    interviewer stay, which the pages need)."""
    from sqlalchemy import inspect as inspect_model

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
    """
    from fieldwork.scheduling import messages

    _require_open(appointment)
    request = BookingRequest(
        starts_at=starts_at,
        minutes=minutes,
        mode=appointment.mode,
        travel_minutes_before=appointment.travel_minutes_before,
        travel_minutes_after=appointment.travel_minutes_after,
    )
    _check_request(request)
    check_timing(request.starts_at, already_took_place=False)
    interviewer = db.session.get(User, appointment.interviewer_id)
    participant = db.session.get(Participant, appointment.participant_id)
    zone = appointment.timezone
    try:
        _lock(interviewer.id, participant.id)
        _reread(appointment)
        _require_open(appointment)
        clash = find_clash(interviewer, participant, request, zone, appointment.id)
        if clash:
            raise ClashError(clash)
        if not confirmed:
            warnings = booking_warnings(interviewer, request, zone)
            if warnings:
                raise NeedsConfirmation(warnings)
        old_start = appointment.starts_at
        appointment.starts_at = request.starts_at
        appointment.ends_at = request.ends_at
        appointment.busy_from = request.busy_from
        appointment.busy_until = request.busy_until
        appointment.sequence += 1
        if participant_timezone:
            appointment.participant_timezone = participant_timezone
        _history(
            appointment,
            ChangeAction.MOVED,
            actor,
            old_starts_at=old_start,
            new_starts_at=request.starts_at,
            audited=not audit_action,
        )
        db.session.flush()
        messages.queue_appointment_messages(appointment.id, "update", old_start)
        _reminders().move_reminders(appointment)
        if audit_action:
            _audit(
                audit_action,
                appointment,
                old_starts_at=old_start,
                new_starts_at=request.starts_at,
            )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return appointment


def cancel_appointment(
    appointment: Appointment,
    reason: str,
    actor: User | None,
    *,
    commit: bool = True,
    audit_action: str = "",
) -> Appointment:
    """Cancel: METHOD:CANCEL with STATUS:CANCELLED and SEQUENCE + 1 to everyone; history kept."""
    from fieldwork.scheduling import messages

    if commit:
        # Standalone: lock in the documented order and look again. Inside a withdrawal
        # (commit=False) the participant row is already locked by recruitment.
        try:
            _lock(appointment.interviewer_id, appointment.participant_id)
            _reread(appointment)
        except BaseException:
            db.session.rollback()
            raise
    _require_open(appointment)  # the locks stay until the request ends its transaction
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now_utc()
    appointment.cancel_reason = reason.strip()
    appointment.sequence += 1
    _history(
        appointment,
        ChangeAction.CANCELLED,
        actor,
        old_starts_at=appointment.starts_at,
        detail=appointment.cancel_reason,
        audited=not audit_action,
    )
    db.session.flush()
    messages.queue_appointment_messages(appointment.id, "cancellation")
    _reminders().cancel_reminders(appointment)
    if audit_action:
        _audit(audit_action, appointment, old_starts_at=appointment.starts_at)
    if not _has_booking(appointment.participant_id):
        participant = db.session.get(Participant, appointment.participant_id)
        _recruitment().mark_unscheduled(participant, actor)
    if commit:
        try:
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
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


def record_outcome(
    appointment: Appointment,
    status: AppointmentStatus,
    actual_minutes: int | None,
    is_recorded: bool | None,
    actor: User,
) -> Appointment:
    """Record what happened. Held needs consent to take part on record; it marks the
    participant interviewed."""
    if status not in OUTCOME_STATUSES:
        raise SchedulingError("Choose held, no-show or cancelled late.")
    try:
        _lock(appointment.interviewer_id, appointment.participant_id)
        _reread(appointment)
    except BaseException:
        db.session.rollback()
        raise
    minutes = actual_minutes if status == AppointmentStatus.HELD else None
    recorded = is_recorded if status == AppointmentStatus.HELD else None
    if (appointment.status, appointment.actual_minutes, appointment.is_recorded) == (
        status,
        minutes,
        recorded,
    ):
        db.session.rollback()  # the same outcome again (a double submission): nothing to do
        return appointment
    if appointment.status not in (AppointmentStatus.BOOKED, *OUTCOME_STATUSES):
        raise SchedulingError("A cancelled appointment has no outcome.")
    if appointment.starts_at > now_utc():
        raise SchedulingError("The outcome can be recorded once the interview's time has come.")
    if actual_minutes is not None and not 1 <= actual_minutes <= MAX_MINUTES:
        raise SchedulingError(f"The length must be between 1 and {MAX_MINUTES} minutes.")
    participant = db.session.get(Participant, appointment.participant_id)
    recruitment = _recruitment()
    if status == AppointmentStatus.HELD and not recruitment.has_consent_to_take_part(participant):
        raise ConsentMissing(
            f"{participant.reference} has no consent to take part on record. "
            "Record their consent before marking the interview as held."
        )
    try:
        appointment.status = status
        appointment.actual_minutes = actual_minutes if status == AppointmentStatus.HELD else None
        appointment.is_recorded = is_recorded if status == AppointmentStatus.HELD else None
        appointment.outcome_recorded_at = now_utc()
        appointment.outcome_recorded_by_id = actor.id
        if status == AppointmentStatus.CANCELLED_LATE:
            appointment.cancelled_at = appointment.cancelled_at or now_utc()
        detail = status.label
        if status == AppointmentStatus.HELD:
            detail += f", {actual_minutes} minutes" if actual_minutes else ""
            detail += ", recorded" if is_recorded else ", not recorded"
        _history(appointment, ChangeAction.OUTCOME, actor, detail=detail)
        if status == AppointmentStatus.HELD:
            try:
                recruitment.mark_interviewed(participant, actor)
            except recruitment.RecruitmentError as error:
                raise ConsentMissing(str(error)) from error
        elif not _has_booking(participant.id):
            # A no-show or late cancellation: back to Agreed, and on the "to rebook" list.
            recruitment.mark_unscheduled(participant, actor)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return appointment


def cancel_future_appointments(participant: Participant, reason: str = "") -> int:
    """Cancel a withdrawn participant's future bookings, cancellations queued; no commit.

    Registered in recruitment's `on_withdrawal`, so it joins that transaction; the withdrawal
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


def on_participant_withdrawn(participant: Participant) -> None:
    """The callback recruitment calls when a participant withdraws."""
    cancel_future_appointments(participant)


# --- Availability windows --------------------------------------------------------------------


def add_window(
    interviewer: User,
    weekday: int,
    starts_time: dt.time,
    ends_time: dt.time,
    zone_name: str,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> AvailabilityWindow:
    if not 0 <= weekday <= 6:
        raise SchedulingError("Choose a day of the week.")
    if ends_time <= starts_time:
        raise SchedulingError("The end must be after the start.")
    if valid_from and valid_until and valid_until < valid_from:
        raise SchedulingError("The last date must not be before the first.")
    window = AvailabilityWindow(
        interviewer_id=interviewer.id,
        weekday=weekday,
        starts_time=starts_time,
        ends_time=ends_time,
        timezone=zone_name,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    db.session.add(window)
    db.session.commit()
    return window


def windows_for_viewer(viewer: User, interviewer_id: int | None = None) -> list[AvailabilityWindow]:
    statement = select(AvailabilityWindow).options(joinedload(AvailabilityWindow.interviewer))
    if not viewer.is_coordinator:
        statement = statement.where(AvailabilityWindow.interviewer_id == viewer.id)
    elif interviewer_id:
        statement = statement.where(AvailabilityWindow.interviewer_id == interviewer_id)
    statement = statement.join(User, AvailabilityWindow.interviewer_id == User.id).order_by(
        User.name, AvailabilityWindow.weekday, AvailabilityWindow.starts_time
    )
    return list(db.session.scalars(statement).unique())


def delete_window(window_id: int, viewer: User) -> bool:
    window = db.session.get(AvailabilityWindow, window_id)
    if window is None or (not viewer.is_coordinator and window.interviewer_id != viewer.id):
        return False
    db.session.delete(window)
    db.session.commit()
    return True


@dataclass
class WeekDay:
    date: dt.date
    windows: list[tuple[dt.datetime, dt.datetime]]
    appointments: list[Appointment]
    busy: list[tuple[dt.datetime, dt.datetime]]


def week_view(interviewer: User, monday: dt.date, zone_name: str) -> list[WeekDay]:
    """Seven days from `monday` in `zone_name`: windows, bookings and busy blocks of each."""
    from fieldwork.scheduling.timeutil import local, to_utc

    starts_at = to_utc(monday, dt.time(), zone_name)
    ends_at = to_utc(monday + dt.timedelta(days=7), dt.time(), zone_name)
    occurrences = availability.expand_windows(
        availability.windows_of(interviewer.id), starts_at, ends_at
    )
    appointments = list(
        db.session.scalars(
            select(Appointment)
            .options(joinedload(Appointment.participant))
            .where(
                Appointment.interviewer_id == interviewer.id,
                Appointment.starts_at < ends_at,
                Appointment.ends_at > starts_at,
            )
            .order_by(Appointment.starts_at)
        ).unique()
    )
    blocks = availability.busy_blocks_between(interviewer.id, starts_at, ends_at)
    days = [WeekDay(monday + dt.timedelta(days=n), [], [], []) for n in range(7)]

    def day_of(moment: dt.datetime) -> WeekDay | None:
        index = (local(moment, zone_name).date() - monday).days
        return days[index] if 0 <= index < 7 else None

    for occurrence in occurrences:
        if day := day_of(occurrence.starts_at):
            day.windows.append((occurrence.starts_at, occurrence.ends_at))
    for appointment in appointments:
        if day := day_of(appointment.starts_at):
            day.appointments.append(appointment)
    for block in blocks:
        if day := day_of(max(block.starts_at, starts_at)):
            day.busy.append((block.starts_at, block.ends_at))
    return days


# --- Topic guides ----------------------------------------------------------------------------


def topic_guide_for_role(role_id: int) -> TopicGuide | None:
    return db.session.scalar(select(TopicGuide).where(TopicGuide.role_id == role_id))


def save_topic_guide(role: Role, title: str, url: str) -> TopicGuide | None:
    """Attach (or replace) the role's topic guide; an empty URL removes it."""
    guide = topic_guide_for_role(role.id)
    if not url.strip():
        if guide is not None:
            db.session.delete(guide)
        db.session.commit()
        return None
    if guide is None:
        guide = TopicGuide(role_id=role.id, title=title.strip(), url=url.strip())
        db.session.add(guide)
    else:
        guide.title = title.strip()
        guide.url = url.strip()
    db.session.commit()
    return guide


# --- Tokens: calendar feeds and booking links ------------------------------------------------


def feed_of(interviewer: User) -> CalendarFeed | None:
    return db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.interviewer_id == interviewer.id)
    )


def regenerate_feed_token(interviewer: User) -> str:
    """A new feed token for the interviewer; the previous URL stops working at once."""
    token = new_token()
    feed = feed_of(interviewer)
    if feed is None:
        db.session.add(CalendarFeed(interviewer_id=interviewer.id, token_hash=hash_token(token)))
    else:
        feed.token_hash = hash_token(token)
        feed.created_at = now_utc()
        feed.last_used_at = None
    db.session.commit()
    return token


def revoke_feed(interviewer: User) -> None:
    feed = feed_of(interviewer)
    if feed is not None:
        db.session.delete(feed)
        db.session.commit()


def feed_appointments(token: str) -> tuple[User, list[Appointment]] | None:
    """The interviewer and all their appointments for a feed token, or None if unknown."""
    if not token or len(token) > 200:
        return None
    feed = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == hash_token(token))
    )
    if feed is None:
        return None
    interviewer = db.session.get(User, feed.interviewer_id)
    if interviewer is None or not interviewer.is_enabled:
        return None
    feed.last_used_at = now_utc()
    db.session.commit()
    appointments = list(
        db.session.scalars(
            _with_people(select(Appointment))
            .where(
                Appointment.interviewer_id == interviewer.id,
                # Studies are the unit of access: only the studies they still belong to.
                Appointment.study_id.in_(list(interviewer.study_roles)),
            )
            .order_by(Appointment.starts_at)
        ).unique()
    )
    return interviewer, appointments


def booking_links_of(participant: Participant) -> list[BookingLink]:
    return list(
        db.session.scalars(
            select(BookingLink)
            .options(joinedload(BookingLink.interviewer), joinedload(BookingLink.created_by))
            .where(BookingLink.participant_id == participant.id)
            .order_by(BookingLink.created_at.desc(), BookingLink.id.desc())
        ).unique()
    )


def create_booking_link(
    participant: Participant,
    interviewer: User,
    actor: User,
    *,
    mode: AppointmentMode,
    location: str = "",
    video_link: str = "",
    travel_minutes: int = 0,
    days: int = BOOKING_LINK_DAYS,
) -> tuple[BookingLink, str]:
    """A new private link (and its token, shown once); no commit."""
    if not 1 <= days <= 90:
        raise SchedulingError("A link can last from 1 to 90 days.")
    if not 0 <= travel_minutes <= MAX_TRAVEL_MINUTES:
        raise SchedulingError(f"Travel time must be between 0 and {MAX_TRAVEL_MINUTES} minutes.")
    token = new_token()
    link = BookingLink(
        participant_id=participant.id,
        interviewer_id=interviewer.id,
        mode=mode,
        location=location.strip(),
        video_link=video_link.strip(),
        travel_minutes=travel_minutes if mode == AppointmentMode.IN_PERSON else 0,
        token_hash=hash_token(token),
        expires_at=now_utc() + dt.timedelta(days=days),
        created_by_id=actor.id,
    )
    db.session.add(link)
    db.session.flush()
    return link, token


def send_booking_link(
    participant: Participant,
    interviewer: User,
    actor: User,
    link_url_for_token,
    **options,
) -> tuple[BookingLink, str]:
    """Create a link and queue the email that carries it, in one transaction; then send."""
    from fieldwork.scheduling import messages

    if not participant.email:
        raise SchedulingError(f"{participant.reference} has no email address to send a link to.")
    try:
        link, token = create_booking_link(participant, interviewer, actor, **options)
        messages.queue_booking_link_message(link, link_url_for_token(token))
        link.sent_at = now_utc()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return link, token


def revoke_booking_link(link_id: int, participant: Participant) -> BookingLink | None:
    link = db.session.get(BookingLink, link_id)
    if link is None or link.participant_id != participant.id:
        return None
    if link.revoked_at is None:
        link.revoked_at = now_utc()
        db.session.commit()
    return link


class LinkUnavailable(SchedulingError):
    """The booking link is unknown (404) or no longer works (410)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def booking_link_for_token(token: str) -> BookingLink:
    """The usable link for a token, with its participant, interviewer and study loaded."""
    link = None
    if token and len(token) <= 200:
        link = (
            db.session.scalars(
                select(BookingLink)
                .options(
                    joinedload(BookingLink.participant).joinedload(Participant.study),
                    joinedload(BookingLink.interviewer),
                )
                .where(BookingLink.token_hash == hash_token(token))
            )
            .unique()
            .one_or_none()
        )
    if link is None:
        raise LinkUnavailable("This booking link does not exist. Check the address.", 404)
    if link.revoked_at is not None:
        raise LinkUnavailable("This booking link has been withdrawn.", 410)
    if link.expires_at <= now_utc():
        raise LinkUnavailable("This booking link has expired.", 410)
    return link


def current_booking(link: BookingLink) -> Appointment | None:
    """The participant's next open appointment (whoever booked it), if any."""
    return (
        db.session.scalars(
            _with_people(select(Appointment))
            .where(
                Appointment.participant_id == link.participant_id,
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.ends_at > now_utc(),
            )
            .order_by(Appointment.starts_at)
            .limit(1)
        )
        .unique()
        .one_or_none()
    )


def slots_for_link(
    link: BookingLink, exclude_appointment_id: int | None = None
) -> list[dt.datetime]:
    """Free slots the link offers under the study's booking rules, in the interview length."""
    from fieldwork.scheduling.slots import bookable_slots

    participant = db.session.get(Participant, link.participant_id)
    study = db.session.get(Study, participant.study_id)
    return bookable_slots(
        study,
        link.interviewer_id,
        link.participant_id,
        travel_minutes=link.travel_minutes,
        exclude_appointment_id=exclude_appointment_id,
    )


TAKEN_MESSAGE = "That time has just been taken. Please choose another."

#: Audit actions of the participant's own changes (the coordinator's home lists them).
SELF_BOOKED, SELF_MOVED, SELF_CANCELLED = (
    "appointment.self_booked",
    "appointment.self_moved",
    "appointment.self_cancelled",
)


def remember_participant_zone(link: BookingLink, zone_name: str) -> None:
    """Store the zone the participant chose (or their browser reported); no commit."""
    participant = db.session.get(Participant, link.participant_id)
    if zone_name and participant.timezone != zone_name:
        participant.timezone = zone_name


def store_participant_zone(link: BookingLink, zone_name: str) -> None:
    """The participant chose a zone: store it with them and their open booking (commits)."""
    remember_participant_zone(link, zone_name)
    current = current_booking(link)
    if current is not None:
        current.participant_timezone = zone_name
    db.session.commit()


def book_through_link(
    link: BookingLink, starts_at: dt.datetime, zone_name: str = ""
) -> tuple[Appointment, dt.datetime | None]:
    """The participant's own booking or move: the slot must be one the link offers.

    Returns the appointment and, for a move, its previous start. `zone_name` (the zone the
    page showed) is stored with the participant and the appointment.
    """
    # Lock first (interviewer, then participant), so that of two posts through one link the
    # second sees the first's booking and moves it rather than booking a second interview.
    _lock(link.interviewer_id, link.participant_id)
    participant = db.session.get(Participant, link.participant_id)
    study = db.session.get(Study, participant.study_id)
    interviewer = db.session.get(User, link.interviewer_id)
    current = current_booking(link)
    if current is not None and current.starts_at == starts_at:
        db.session.rollback()  # that very time is already booked (a repeated post)
        return current, None
    if current is not None:
        if starts_at not in slots_for_link(link, current.id):
            raise ClashError(TAKEN_MESSAGE)
        remember_participant_zone(link, zone_name)
        previous = current.starts_at
        try:
            moved = reschedule_appointment(
                current,
                starts_at,
                current.minutes,
                None,
                confirmed=True,
                participant_timezone=zone_name or participant.timezone,
                audit_action=SELF_MOVED,
            )
        except ClashError as error:
            raise ClashError(TAKEN_MESSAGE) from error
        return moved, previous
    if starts_at not in slots_for_link(link):
        raise ClashError(TAKEN_MESSAGE)
    remember_participant_zone(link, zone_name)
    request = BookingRequest(
        starts_at=starts_at,
        minutes=study.interview_minutes,
        mode=link.mode,
        location=link.location,
        video_link=link.video_link,
        travel_minutes_before=link.travel_minutes,
        travel_minutes_after=link.travel_minutes,
        participant_timezone=zone_name or participant.timezone,
    )
    try:
        booked = book_appointment(
            study, participant, interviewer, request, None, confirmed=True, audit_action=SELF_BOOKED
        )
    except ClashError as error:
        raise ClashError(TAKEN_MESSAGE) from error
    return booked, None


def cancel_through_link(
    link: BookingLink, reason: str = "", zone_name: str = ""
) -> Appointment | None:
    current = current_booking(link)
    if current is None:
        return None
    remember_participant_zone(link, zone_name)
    if zone_name:
        current.participant_timezone = zone_name
    return cancel_appointment(
        current, reason or "Cancelled by the participant.", None, audit_action=SELF_CANCELLED
    )


# --- Counts for lists ------------------------------------------------------------------------


def upcoming_count(study: Study, viewer: User) -> int:
    statement = select(func.count(Appointment.id)).where(
        Appointment.study_id == study.id,
        Appointment.status == AppointmentStatus.BOOKED,
        Appointment.starts_at > now_utc(),
    )
    return db.session.scalar(_visible(statement, viewer)) or 0


def interviewers_by_id(ids: Sequence[int]) -> dict[int, User]:
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
