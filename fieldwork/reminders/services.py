"""Reminders: planned with the booking, moved with it, cancelled with it; rendered from each
study's templates; handed to the outbox exactly once by the sweep (see jobs.py).

The rows are the truth. `plan_reminders`, `move_reminders` and `cancel_reminders` write in
the caller's session and never commit, so a booking, its invites and its reminders are saved
together or not at all.

A reminder's state follows its outbox message: pending until the SMTP server accepted it
(`sync_reminder_states` copies sent and failed across after each outbox sweep).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from zoneinfo import ZoneInfo

from flask import render_template
from sqlalchemy import Select, and_, delete, exists, func, select, update
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.core.pagination import Page, paginate
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxKind, OutboxMessage, OutboxState
from fieldwork.reminders import templating
from fieldwork.reminders.models import (
    DEFAULT_OFFSETS,
    Reminder,
    ReminderRecipient,
    ReminderSettings,
    ReminderState,
    SchedulerHeartbeat,
)
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.models import Appointment, AppointmentMode, AppointmentStatus

log = logging.getLogger(__name__)

#: Offsets a study may set: at least 5 minutes, at most 30 days before; at most 5 of them.
MIN_OFFSET_MINUTES = 5
MAX_OFFSET_MINUTES = 30 * 24 * 60
MAX_OFFSETS = 5
#: A message or reminder this late counts as overdue on /healthz.
OVERDUE_AFTER = dt.timedelta(minutes=5)
HEARTBEAT_ID = 1


class ReminderError(ValueError):
    """A request the reminders cannot carry out; the message is for the user."""


# --- settings --------------------------------------------------------------------------------


def default_settings(study_id: int) -> ReminderSettings:
    """The settings a study has until a coordinator saves some (not added to the session)."""
    return ReminderSettings(
        study_id=study_id,
        offsets=list(DEFAULT_OFFSETS),
        is_for_interviewer=True,
        is_for_participant=True,
        **templating.DEFAULTS,
    )


def settings_for(study_id: int) -> ReminderSettings:
    """The study's saved settings, or the defaults."""
    saved = db.session.scalar(select(ReminderSettings).where(ReminderSettings.study_id == study_id))
    return saved or default_settings(study_id)


def _settings_by_study(study_ids: set[int]) -> dict[int, ReminderSettings]:
    if not study_ids:
        return {}
    rows = db.session.scalars(
        select(ReminderSettings).where(ReminderSettings.study_id.in_(study_ids))
    )
    found = {row.study_id: row for row in rows}
    return {study_id: found.get(study_id) or default_settings(study_id) for study_id in study_ids}


@dataclass(frozen=True)
class SettingsInput:
    """What the settings form (or a test) gives to save."""

    offsets: list[int]
    is_for_interviewer: bool
    is_for_participant: bool
    interviewer_subject: str
    interviewer_body: str
    participant_subject: str
    participant_body: str


def parse_offsets(raw: str) -> list[int]:
    """'2880, 120' → [2880, 120] (largest first); ReminderError says what is wrong."""
    parts = [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]
    if not parts:
        raise ReminderError("Give at least one number of minutes, e.g. 2880, 120.")
    values: list[int] = []
    for part in parts:
        if not part.isascii() or not part.isdigit():
            raise ReminderError(f"“{part[:20]}” is not a whole number of minutes.")
        value = int(part)
        if not MIN_OFFSET_MINUTES <= value <= MAX_OFFSET_MINUTES:
            raise ReminderError(
                f"Each offset must be between {MIN_OFFSET_MINUTES} and {MAX_OFFSET_MINUTES} "
                "minutes (30 days)."
            )
        values.append(value)
    if len(set(values)) != len(values):
        raise ReminderError("Give each offset once.")
    if len(values) > MAX_OFFSETS:
        raise ReminderError(f"Give at most {MAX_OFFSETS} offsets.")
    return sorted(values, reverse=True)


def template_problems(values: SettingsInput, study: Study) -> dict[str, str]:
    """Field name → message for each template that does not parse or render against the
    sample appointment (a misspelt variable shows here, not in a participant's inbox)."""
    problems: dict[str, str] = {}
    for name in templating.DEFAULTS:
        message = templating.check_syntax(getattr(values, name))
        if message:
            problems[name] = message
    for recipient in ReminderRecipient:
        subject_field, body_field = f"{recipient.value}_subject", f"{recipient.value}_body"
        if subject_field in problems or body_field in problems:
            continue
        try:
            templating.render(getattr(values, subject_field), "", sample_context(study, recipient))
        except templating.TemplateProblem as error:
            problems[subject_field] = str(error)
        try:
            templating.render("x", getattr(values, body_field), sample_context(study, recipient))
        except templating.TemplateProblem as error:
            problems[body_field] = str(error)
    return problems


def save_settings(study: Study, values: SettingsInput, actor: User | None) -> ReminderSettings:
    """Save a study's settings (commits). Pending reminders keep the offsets they were planned
    with; the texts apply to every reminder not yet handed to the outbox."""
    problems = template_problems(values, study)
    if problems:
        raise ReminderError("; ".join(problems.values()))
    row = db.session.scalar(select(ReminderSettings).where(ReminderSettings.study_id == study.id))
    if row is None:
        row = ReminderSettings(study_id=study.id)
        db.session.add(row)
    row.offsets = list(values.offsets)
    row.is_for_interviewer = values.is_for_interviewer
    row.is_for_participant = values.is_for_participant
    row.interviewer_subject = values.interviewer_subject
    row.interviewer_body = values.interviewer_body
    row.participant_subject = values.participant_subject
    row.participant_body = values.participant_body
    row.updated_by_id = actor.id if actor else None
    row.updated_at = now_utc()
    db.session.commit()
    return row


# --- what a reminder says --------------------------------------------------------------------


def describe_offset(minutes: int) -> str:
    """2880 → '2 days', 120 → '2 hours', 90 → '1 hour 30 minutes'."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    for amount, unit in ((days, "day"), (hours, "hour"), (mins, "minute")):
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts) or "0 minutes"


def _where(mode: AppointmentMode, location: str, video_link: str) -> str:
    if mode == AppointmentMode.VIDEO:
        return video_link or "Video call (link to follow)"
    if mode == AppointmentMode.TELEPHONE:
        return location or "By telephone"
    return location


def _context(
    *,
    study: Study,
    recipient_name: str,
    recipient_zone: str | None,
    zone: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    offset_minutes: int,
    mode: AppointmentMode,
    where: str,
    interviewer_name: str,
    participant_name: str,
    participant_reference: str,
    reads_study_zone: bool = True,
) -> dict:
    from fieldwork.invites.bodies import describe_for_reader
    from fieldwork.invites.mail import describe_clock, describe_time

    when = describe_time(starts_at, zone)
    return {
        "recipient_name": recipient_name,
        "study_name": study.name,
        "when": when,
        "when_recipient": (
            describe_for_reader(starts_at, recipient_zone, zone)
            if recipient_zone and recipient_zone != zone
            else when
        ),
        # The participant's text reads entirely in their zone; the interviewer's "until"
        # follows "when", in the study's.
        "until": describe_clock(ends_at, zone if reads_study_zone else recipient_zone or zone),
        "time_left": describe_offset(offset_minutes),
        "mode": mode.label.lower(),
        "where": where,
        "interviewer_name": interviewer_name,
        "participant_name": participant_name,
        "participant_reference": participant_reference,
        "organiser_name": study.organiser_name or study.name,
        "organiser_email": study.organiser_email,
    }


def reminder_context(reminder: Reminder, appointment: Appointment) -> dict:
    """The template variables of a real reminder (appointment with participant, interviewer
    and study loaded)."""
    participant, interviewer = appointment.participant, appointment.interviewer
    is_interviewer = reminder.recipient == ReminderRecipient.INTERVIEWER
    return _context(
        study=appointment.study,
        recipient_name=interviewer.name if is_interviewer else participant.name,
        recipient_zone=(
            interviewer.timezone
            if is_interviewer
            else appointment.participant_timezone or participant.timezone or None
        ),
        reads_study_zone=is_interviewer,
        zone=appointment.timezone,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        offset_minutes=reminder.offset_minutes,
        mode=appointment.mode,
        where=_where(appointment.mode, appointment.location, appointment.video_link),
        interviewer_name=interviewer.name,
        participant_name=participant.name,
        participant_reference=participant.reference,
    )


def sample_context(study: Study, recipient: ReminderRecipient) -> dict:
    """The variables of a made-up appointment next Monday at 10:00 in the study's zone, for
    the preview and for checking a template before it is saved."""
    zone = ZoneInfo(study.timezone)
    today = now_utc().astimezone(zone).date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    starts_at = dt.datetime.combine(monday, dt.time(10), tzinfo=zone).astimezone(dt.UTC)
    is_interviewer = recipient == ReminderRecipient.INTERVIEWER
    return _context(
        study=study,
        recipient_name="Kathryn Example" if is_interviewer else "Alex Example",
        recipient_zone="America/New_York" if is_interviewer else None,
        zone=study.timezone,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=study.interview_minutes or 60),
        offset_minutes=DEFAULT_OFFSETS[0],
        mode=AppointmentMode.TELEPHONE,
        where="By telephone",
        interviewer_name="Kathryn Example",
        participant_name="Alex Example",
        participant_reference="P1-001",
    )


@dataclass(frozen=True)
class Preview:
    recipient: ReminderRecipient
    subject: str
    text: str
    html: str
    problem: str


def preview(study: Study, values: SettingsInput) -> list[Preview]:
    """Each recipient's reminder rendered against the sample appointment (a problem is shown
    instead of raised)."""
    previews = []
    for recipient in ReminderRecipient:
        subject = getattr(values, f"{recipient.value}_subject")
        body = getattr(values, f"{recipient.value}_body")
        try:
            rendered = templating.render(subject, body, sample_context(study, recipient))
        except templating.TemplateProblem as error:
            previews.append(Preview(recipient, "", "", "", str(error)))
        else:
            previews.append(
                Preview(recipient, rendered.subject, rendered.text, rendered.html_fragment, "")
            )
    return previews


def _domain(study: Study) -> str:
    return (study.organiser_email or "fieldwork@localhost").rpartition("@")[2] or "localhost"


def build_reminder_email(
    reminder: Reminder, appointment: Appointment, settings: ReminderSettings
) -> EmailMessage:
    """The reminder as an email: From the study's organiser, To the one recipient, with the
    reminder's own Message-ID. Raises TemplateProblem or ValueError (unusable address)."""
    from fieldwork.invites.bodies import inline_css
    from fieldwork.invites.headers import address_message
    from fieldwork.invites.mail import header_text, mailbox

    study = appointment.study
    if reminder.recipient == ReminderRecipient.INTERVIEWER:
        name, address = appointment.interviewer.name, appointment.interviewer.email
    else:
        name, address = appointment.participant.name, appointment.participant.email
    rendered = templating.render(
        settings.subject_template(reminder.recipient),
        settings.body_template(reminder.recipient),
        reminder_context(reminder, appointment),
    )
    message = EmailMessage(policy=SMTP)
    address_message(
        message,
        sender=mailbox(
            study.organiser_name or study.name, study.organiser_email or "fieldwork@localhost"
        ),
        to=[mailbox(name, address)],
        message_id=reminder.message_id,
    )
    message["Subject"] = header_text(rendered.subject)
    message["MIME-Version"] = "1.0"
    # RFC 3834: an automatic message; well-behaved autoresponders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(
        inline_css(
            render_template(
                "emails/reminder.html",
                subject=rendered.subject,
                body=rendered.html_fragment,
                study_name=study.name,
                organiser_name=study.organiser_name,
                organiser_email=study.organiser_email,
            )
        ),
        subtype="html",
        charset="utf-8",
    )
    return message


# --- planning with the booking ---------------------------------------------------------------


def plan_reminders(appointment: Appointment) -> list[Reminder]:
    """Create the reminders of a booked appointment in the caller's session (no commit).

    One per offset and recipient the study's settings name; none for a participant without
    an email address, and none whose time has already passed.
    """
    if appointment.status != AppointmentStatus.BOOKED:
        return []
    settings = settings_for(appointment.study_id)
    study = db.session.get(Study, appointment.study_id)
    participant = db.session.get(Participant, appointment.participant_id)
    now = now_utc()
    recipients = [
        recipient
        for recipient in ReminderRecipient
        if settings.is_for(recipient)
        and (recipient != ReminderRecipient.PARTICIPANT or (participant and participant.email))
    ]
    created: list[Reminder] = []
    for offset in sorted(set(settings.offsets or ()), reverse=True):
        due_at = appointment.starts_at - dt.timedelta(minutes=offset)
        if due_at <= now:
            continue
        for recipient in recipients:
            reminder = Reminder(
                appointment_id=appointment.id,
                recipient=recipient,
                offset_minutes=offset,
                due_at=due_at,
                state=ReminderState.PENDING,
                attempts=0,
                last_error="",
                message_id=f"<reminder-{uuid.uuid4().hex}@{_domain(study)}>",
                created_at=now,
            )
            db.session.add(reminder)
            created.append(reminder)
    db.session.flush()
    return created


def cancel_reminders(
    appointment: Appointment, reason: str = "The appointment was cancelled."
) -> int:
    """Cancel the appointment's reminders not yet sent, and their queued outbox messages
    (no commit). Returns how many reminders were cancelled."""
    outbox.cancel_pending(appointment.id, ("reminder",))
    result = db.session.execute(
        update(Reminder)
        .where(Reminder.appointment_id == appointment.id, Reminder.state == ReminderState.PENDING)
        .values(state=ReminderState.CANCELLED, settled_at=now_utc(), last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def move_reminders(appointment: Appointment) -> list[Reminder]:
    """After a reschedule: cancel the pending reminders and plan them for the new time
    (no commit)."""
    cancel_reminders(appointment, "The appointment was moved; planned again for the new time.")
    return plan_reminders(appointment)


def reminders_of(appointment_id: int) -> list[Reminder]:
    return list(
        db.session.scalars(
            select(Reminder)
            .where(Reminder.appointment_id == appointment_id)
            .order_by(Reminder.due_at, Reminder.id)
        )
    )


# --- after the outbox ran --------------------------------------------------------------------


def sync_reminder_states(now: dt.datetime | None = None) -> None:
    """Copy the outcome of the outbox into the reminders (commits).

    Reads only pending and failed reminders (the partial index); a reminder message still
    waiting (SMTP down) when its interview starts is withdrawn and the reminder marked missed.
    """
    now = now or now_utc()
    started = select(Appointment.id).where(Appointment.starts_at <= now)
    stale = db.session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.kind == OutboxKind.REMINDER,
            OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.appointment_id.in_(started),
        )
        .values(state=OutboxState.CANCELLED)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    if stale:
        db.session.execute(
            update(Reminder)
            .where(Reminder.outbox_message_id.in_(stale), Reminder.state == ReminderState.PENDING)
            .values(
                state=ReminderState.MISSED,
                settled_at=now,
                last_error="The mail server did not accept it before the interview started.",
            )
            .execution_options(synchronize_session=False)
        )

    def outbox_in(*states: OutboxState):
        return exists().where(
            OutboxMessage.id == Reminder.outbox_message_id, OutboxMessage.state.in_(states)
        )

    for target, source in (
        (ReminderState.SENT, OutboxState.SENT),
        (ReminderState.FAILED, OutboxState.FAILED),
    ):
        db.session.execute(
            update(Reminder)
            .where(Reminder.state == ReminderState.PENDING, outbox_in(source))
            .values(state=target, settled_at=now)
            .execution_options(synchronize_session=False)
        )
    # Retried by hand on the outbox page: pending again.
    db.session.execute(
        update(Reminder)
        .where(
            Reminder.state == ReminderState.FAILED,
            outbox_in(OutboxState.PENDING, OutboxState.SENDING),
        )
        .values(state=ReminderState.PENDING, settled_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


# --- the reminders page ----------------------------------------------------------------------


#: The filter "interrupted": claimed by a sender that never confirmed (not a stored state).
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class ReminderFilters:
    state: str = ""


def _interrupted_clause(now: dt.datetime):
    return and_(
        Reminder.state == ReminderState.PENDING,
        exists().where(
            OutboxMessage.id == Reminder.outbox_message_id, outbox.interrupted_clause(now)
        ),
    )


def reminder_query(filters: ReminderFilters, study_id: int | None) -> Select:
    """Reminders with what the list shows loaded; the most urgent states first, then by time."""
    statement = (
        select(Reminder)
        .join(Appointment, Appointment.id == Reminder.appointment_id)
        .options(
            joinedload(Reminder.appointment).joinedload(Appointment.participant),
            joinedload(Reminder.appointment).joinedload(Appointment.interviewer),
            joinedload(Reminder.outbox_message),
        )
        .order_by(Reminder.due_at.desc(), Reminder.id.desc())
    )
    if study_id is not None:
        statement = statement.where(Appointment.study_id == study_id)
    if filters.state == INTERRUPTED:
        statement = statement.where(_interrupted_clause(now_utc()))
    elif filters.state:
        statement = statement.where(Reminder.state == ReminderState(filters.state))
    return statement


def list_reminders(
    filters: ReminderFilters, page: int, per_page: int, study_id: int | None
) -> Page[Reminder]:
    return paginate(reminder_query(filters, study_id), page, per_page)


@dataclass(frozen=True)
class Attention:
    """What the coordinator must look at: counts of missed, failed and interrupted."""

    missed: int
    failed: int
    interrupted: int

    @property
    def any(self) -> bool:
        return bool(self.missed or self.failed or self.interrupted)


def attention(study_id: int | None) -> Attention:
    """One grouped query: how many reminders of the study were missed, failed or interrupted."""
    now = now_utc()
    statement = select(
        func.coalesce(func.sum(_case(Reminder.state == ReminderState.MISSED)), 0),
        func.coalesce(func.sum(_case(Reminder.state == ReminderState.FAILED)), 0),
        func.coalesce(func.sum(_case(_interrupted_clause(now))), 0),
    ).join(Appointment, Appointment.id == Reminder.appointment_id)
    if study_id is not None:
        statement = statement.where(Appointment.study_id == study_id)
    missed, failed, interrupted = db.session.execute(statement).one()
    return Attention(int(missed), int(failed), int(interrupted))


def _case(condition):
    from sqlalchemy import case

    return case((condition, 1), else_=0)


def get_reminder(reminder_id: int) -> Reminder | None:
    return (
        db.session.scalars(
            select(Reminder)
            .options(
                joinedload(Reminder.appointment).joinedload(Appointment.participant),
                joinedload(Reminder.appointment).joinedload(Appointment.interviewer),
                joinedload(Reminder.outbox_message),
            )
            .where(Reminder.id == reminder_id)
            # Senders work in sessions of their own: read the rows as they are now.
            .execution_options(populate_existing=True)
        )
        .unique()
        .one_or_none()
    )


def is_resendable(reminder: Reminder, now: dt.datetime | None = None) -> bool:
    """Failed, or interrupted mid-send, and the interview still ahead."""
    now = now or now_utc()
    if reminder.appointment.starts_at <= now:
        return False
    if reminder.appointment.status != AppointmentStatus.BOOKED:
        return False
    message = reminder.outbox_message
    if reminder.state == ReminderState.FAILED:
        return message is None or outbox.is_retryable(message)
    return (
        reminder.state == ReminderState.PENDING
        and message is not None
        and outbox.is_interrupted(message, now)
    )


def resend(reminder_id: int) -> Reminder:
    """The coordinator's one-click resend of a failed or interrupted reminder (commits).

    The same outbox message goes again (the outbox's retry), with the same Message-ID, so a
    receiving server that already has it can drop the copy. A reminder that failed before it
    reached the outbox (e.g. an unusable address since corrected) is planned again for now.
    """
    reminder = get_reminder(reminder_id)
    if reminder is None:
        raise ReminderError("There is no such reminder.")
    if not is_resendable(reminder):
        raise ReminderError(
            f"A reminder that is {reminder.state.value} cannot be sent again"
            + (
                " now that the interview has started."
                if reminder.appointment.starts_at <= now_utc()
                else "."
            )
        )
    if reminder.outbox_message is not None:
        try:
            outbox.retry(reminder.outbox_message.id)
        except outbox.OutboxError as error:
            raise ReminderError(str(error)) from error
        reminder.state = ReminderState.PENDING
    else:
        reminder.state = ReminderState.PENDING
        reminder.due_at = now_utc()
        reminder.last_error = ""
    reminder.settled_at = None
    db.session.commit()
    return reminder


# --- scheduler health ------------------------------------------------------------------------


def beat(holder: str, host: str, pid: int, started_at: dt.datetime) -> None:
    """Record the running scheduler's heartbeat (commits)."""
    now = now_utc()
    row = db.session.get(SchedulerHeartbeat, HEARTBEAT_ID, populate_existing=True)
    if row is None:
        row = SchedulerHeartbeat(id=HEARTBEAT_ID)
        db.session.add(row)
    row.holder, row.host, row.pid = holder, host[:255], pid
    row.beat_at, row.started_at = now, started_at
    try:
        db.session.commit()
    except Exception:
        # Two first beats at once (a second scheduler that just took over): the other won.
        db.session.rollback()
        raise


def clear_heartbeat(holder: str) -> None:
    """A scheduler that stops cleanly removes its heartbeat: /healthz says "down" at once."""
    db.session.execute(
        delete(SchedulerHeartbeat).where(
            SchedulerHeartbeat.id == HEARTBEAT_ID, SchedulerHeartbeat.holder == holder
        )
    )
    db.session.commit()


def heartbeat_alive_seconds() -> float:
    """A heartbeat older than this means the scheduler stopped (it beats twice as often)."""
    from flask import current_app

    return float(current_app.config.get("SCHEDULER_HEARTBEAT_SECONDS", 15.0))


def scheduler_health() -> dict:
    """For /healthz: the last heartbeat, whether a scheduler is alive, and how many messages
    are overdue. Two queries."""
    now = now_utc()
    row = db.session.execute(
        select(
            SchedulerHeartbeat.holder,
            SchedulerHeartbeat.host,
            SchedulerHeartbeat.pid,
            SchedulerHeartbeat.beat_at,
            SchedulerHeartbeat.started_at,
        ).where(SchedulerHeartbeat.id == HEARTBEAT_ID)
    ).one_or_none()
    limit = now - OVERDUE_AFTER
    outbox_overdue = (
        select(func.count(OutboxMessage.id))
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at < limit)
        .scalar_subquery()
    )
    reminders_overdue = (
        select(func.count(Reminder.id))
        .where(
            Reminder.state == ReminderState.PENDING,
            Reminder.outbox_message_id.is_(None),
            Reminder.due_at < limit,
        )
        .scalar_subquery()
    )
    interrupted = (
        select(func.count(OutboxMessage.id)).where(outbox.interrupted_clause(now)).scalar_subquery()
    )
    overdue_messages, overdue_reminders, interrupted_messages = db.session.execute(
        select(outbox_overdue, reminders_overdue, interrupted)
    ).one()
    seconds = (now - row.beat_at).total_seconds() if row else None
    alive = seconds is not None and seconds <= heartbeat_alive_seconds()
    problems = []
    if not alive:
        problems.append("not running (no heartbeat)")
    if interrupted_messages:
        problems.append(
            f"{interrupted_messages} message(s) interrupted mid-send need attention "
            "(they may or may not have arrived)"
        )
    if overdue_messages or overdue_reminders:
        problems.append(f"{overdue_messages + overdue_reminders} message(s) overdue")
    return {
        "last_heartbeat": row.beat_at.isoformat() if row else None,
        "seconds_since_heartbeat": round(seconds, 1) if seconds is not None else None,
        "holder": f"{row.host}:{row.pid}" if row else None,
        "started_at": row.started_at.isoformat() if row else None,
        "alive": alive,
        "overdue_messages": int(overdue_messages) + int(overdue_reminders),
        "overdue_outbox_messages": int(overdue_messages),
        "overdue_reminders": int(overdue_reminders),
        "interrupted_messages": int(interrupted_messages),
        "problems": problems,
    }
