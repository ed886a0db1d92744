"""Recording calendar replies: each mail once, each answer checked against its appointment.

Exactly-once comes from the database: a message's key (its Message-ID) is unique in
`mailbox_message`, and the row is inserted in the same transaction as the answer it carried.
Two runs reading the same message race on that insert; the loser's transaction fails on the
unique key, writes nothing, and treats the message as handled.

A participant's decline is never a cancellation: it puts the appointment on the "to rebook"
list (a query here, and the `participant_declined` signal for other domains) until the
coordinator moves or cancels it, or the participant accepts after all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.replies import parsing
from fieldwork.replies.models import CalendarReply, MailboxMessage, MailOutcome, ReplyAnswer
from fieldwork.replies.signals import participant_declined
from fieldwork.sampling.models import Study
from fieldwork.scheduling.booking import reschedule_appointment
from fieldwork.scheduling.checks import MAX_MINUTES
from fieldwork.scheduling.models import Appointment, AppointmentStatus

log = logging.getLogger(__name__)


class ReplyError(ValueError):
    """An action on a reply that cannot be taken; the message is for the user."""


@dataclass(frozen=True)
class Processed:
    """What handling one message decided."""

    key: str
    outcome: MailOutcome
    reason: str
    #: Whether the mail had a calendar part (an ordinary email is left where it is).
    has_calendar: bool
    #: Where the message belongs ("" to leave it where it is).
    folder: str = ""
    reply_id: int | None = None


# --- Reading mail ----------------------------------------------------------------------------


def known_messages(keys: list[str]) -> dict[str, MailboxMessage]:
    """The messages among `keys` that were handled before, by key (one query)."""
    if not keys:
        return {}
    rows = db.session.scalars(select(MailboxMessage).where(MailboxMessage.message_key.in_(keys)))
    return {row.message_key: row for row in rows}


def _appointment_by_uid(uid: str) -> Appointment | None:
    return (
        db.session.scalars(
            select(Appointment)
            .options(joinedload(Appointment.participant), joinedload(Appointment.interviewer))
            .where(Appointment.ical_uid == uid)
        )
        .unique()
        .one_or_none()
    )


def _check(answer: parsing.CalendarAnswer, appointment: Appointment) -> tuple[bool, str]:
    """(is_participant, "") when the answer may be recorded, else (False, the reason)."""
    participant_email = (appointment.participant.email or "").strip().lower()
    interviewer_email = (appointment.interviewer.email or "").strip().lower()
    if answer.attendee_email and answer.attendee_email == participant_email:
        is_participant = True
    elif answer.attendee_email and answer.attendee_email == interviewer_email:
        is_participant = False
    else:
        return False, (
            f"{answer.attendee_email or 'The attendee'} is neither the participant nor the "
            f"interviewer of the interview with {appointment.participant.reference}."
        )
    if answer.sequence < appointment.sequence:
        return False, (
            f"It answers version {answer.sequence} of the invitation to "
            f"{appointment.participant.reference}'s interview; the current version is "
            f"{appointment.sequence} (the interview changed since)."
        )
    if answer.method == "REPLY" and answer.partstat not in parsing.ANSWERS:
        return False, (
            f"The answer {answer.partstat or '(none)'} is not accepted, tentative or declined."
        )
    return is_participant, ""


def _read(raw: bytes, sender_email: str) -> tuple[parsing.CalendarAnswer | None, str, bool]:
    """(answer, reason, has_calendar): the first calendar part that reads, or why none does."""
    parts = parsing.calendar_parts(raw)
    if not parts:
        return None, "No calendar part: this is not a reply from a calendar.", False
    reason = ""

    def zone_for_uid(uid: str) -> str:
        appointment = _appointment_by_uid(uid)
        return appointment.timezone if appointment else "UTC"

    for text in parts:
        try:
            return parsing.read_answer(text, sender_email, zone_for_uid), "", True
        except parsing.Unreadable as error:
            reason = reason or str(error)
    return None, reason, True


def _decide(
    facts: parsing.MailFacts, raw: bytes | None, size: int, limit: int
) -> tuple[MailboxMessage, CalendarReply | None, bool]:
    """The rows to write for one message (not yet added), and whether it had a calendar part."""
    row = MailboxMessage(
        message_key=facts.key,
        sender=facts.sender,
        subject=facts.subject,
        sent_at=facts.sent_at,
        processed_at=now_utc(),
        outcome=MailOutcome.MALFORMED,
    )
    if raw is None:
        row.reason = f"Too large to read ({size:,} bytes; the limit is {limit:,})."
        return row, None, False
    try:
        answer, reason, has_calendar = _read(raw, facts.sender_email)
    except parsing.Unreadable as error:
        row.reason = str(error)
        return row, None, False
    if answer is None:
        row.outcome = MailOutcome.UNMATCHED if not has_calendar else MailOutcome.MALFORMED
        row.reason = reason
        return row, None, has_calendar
    row.outcome = MailOutcome.UNMATCHED
    appointment = _appointment_by_uid(answer.uid)
    if appointment is None:
        row.reason = f"No appointment has the calendar UID {parsing.one_line(answer.uid, 120)}."
        return row, None, True
    row.study_id = appointment.study_id
    is_participant, reason = _check(answer, appointment)
    if reason:
        row.reason = reason
        return row, None, True
    row.outcome = MailOutcome.RECORDED
    received = now_utc()
    reply = CalendarReply(
        appointment_id=appointment.id,
        study_id=appointment.study_id,
        attendee_email=answer.attendee_email,
        attendee_name=answer.attendee_name,
        is_participant=is_participant,
        answer=ReplyAnswer.COUNTER
        if answer.method == "COUNTER"
        else ReplyAnswer(parsing.ANSWERS[answer.partstat]),
        comment=answer.comment,
        sequence=answer.sequence,
        replied_at=answer.stamp or facts.sent_at or received,
        received_at=received,
        sender_email=facts.sender_email or parsing.one_line(facts.sender, 320),
        is_sender_attendee=facts.sender_email == answer.attendee_email,
        proposed_starts_at=answer.proposed_start,
        proposed_ends_at=answer.proposed_end,
    )
    return row, reply, True


def _audit(reply: CalendarReply) -> None:
    """The answer as an event of the trail (no comment or address: those are shown on the
    appointment, and erased with the person)."""
    from fieldwork.audit.services import record_event

    appointment = db.session.get(Appointment, reply.appointment_id)
    record_event(
        "calendar_reply.recorded",
        # The interviewer answered themselves; a participant is no user (shown as such).
        actor=None
        if reply.is_participant or appointment is None
        else db.session.get(User, appointment.interviewer_id),
        study_id=reply.study_id,
        subject_type="appointment",
        subject_id=reply.appointment_id,
        participant_id=appointment.participant_id if appointment else None,
        after={
            "who": "The participant" if reply.is_participant else "The interviewer",
            "answer": reply.answer.label.lower(),
            "proposed_starts_at": reply.proposed_starts_at,
        },
    )


def process_message(
    header: bytes,
    raw: bytes | None,
    size: int,
    limit: int,
    folder_for: Callable[[MailOutcome, bool], str] = lambda outcome, has_calendar: "",
) -> Processed | None:
    """Handle one message: check it and record its answer, or record why not; commit.

    `raw` is None for a message larger than `limit` (not downloaded). `folder_for(outcome,
    has_calendar)` names the folder the message belongs in, stored with it. Returns None when
    the message was handled already (by an earlier or a concurrent run).
    """
    facts = parsing.mail_facts(header)
    try:
        row, reply, has_calendar = _decide(facts, raw, size, limit)
        row.folder = folder_for(row.outcome, has_calendar)[:200]
        db.session.add(row)
        db.session.flush()
        if reply is not None:
            reply.mailbox_message_id = row.id
            db.session.add(reply)
            db.session.flush()
            _audit(reply)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    except BaseException:
        db.session.rollback()
        raise
    if reply is not None and reply.answer == ReplyAnswer.DECLINED and reply.is_participant:
        appointment = db.session.get(Appointment, reply.appointment_id)
        if appointment is not None and appointment.is_open:
            participant_declined.send(appointment, reply=reply)
    return Processed(
        key=facts.key,
        outcome=row.outcome,
        reason=row.reason,
        has_calendar=has_calendar,
        folder=row.folder,
        reply_id=reply.id if reply is not None else None,
    )


# --- What the pages show ---------------------------------------------------------------------


def _is_latest_of_attendee():
    """A condition true for the newest reply of each attendee on each appointment."""
    newer = aliased(CalendarReply)
    return ~exists().where(
        newer.appointment_id == CalendarReply.appointment_id,
        newer.attendee_email == CalendarReply.attendee_email,
        or_(
            newer.replied_at > CalendarReply.replied_at,
            and_(newer.replied_at == CalendarReply.replied_at, newer.id > CalendarReply.id),
        ),
    )


def _with_appointment(statement: Select) -> Select:
    return statement.options(
        joinedload(CalendarReply.appointment).joinedload(Appointment.participant),
        joinedload(CalendarReply.appointment).joinedload(Appointment.interviewer),
        joinedload(CalendarReply.moved_by),
    )


def answers_for_appointment(appointment_id: int, limit: int = 50) -> list[CalendarReply]:
    """An appointment's answers, newest first (bounded; one query)."""
    return list(
        db.session.scalars(
            select(CalendarReply)
            .options(joinedload(CalendarReply.moved_by))
            .where(CalendarReply.appointment_id == appointment_id)
            .order_by(CalendarReply.replied_at.desc(), CalendarReply.id.desc())
            .limit(limit)
        ).unique()
    )


def current_answers(appointment_ids: list[int]) -> dict[int, list[CalendarReply]]:
    """Each person's latest answer, by appointment (one query), for calendars and panels."""
    if not appointment_ids:
        return {}
    rows = db.session.scalars(
        select(CalendarReply)
        .where(CalendarReply.appointment_id.in_(appointment_ids), _is_latest_of_attendee())
        .order_by(CalendarReply.is_participant.desc(), CalendarReply.replied_at)
    )
    answers: dict[int, list[CalendarReply]] = {}
    for row in rows:
        answers.setdefault(row.appointment_id, []).append(row)
    return answers


def to_rebook_query(study: Study) -> Select:
    """Open appointments whose participant's latest answer is a decline of the current version,
    oldest first: the coordinator's "to rebook" list. Moving or cancelling takes them off."""
    return _with_appointment(
        select(CalendarReply)
        .join(Appointment, Appointment.id == CalendarReply.appointment_id)
        .where(
            CalendarReply.study_id == study.id,
            CalendarReply.is_participant.is_(True),
            CalendarReply.answer == ReplyAnswer.DECLINED,
            CalendarReply.sequence >= Appointment.sequence,
            Appointment.status == AppointmentStatus.BOOKED,
            _is_latest_of_attendee(),
        )
        .order_by(CalendarReply.replied_at, CalendarReply.id)
    )


#: How many declines and proposals the action lists show before their own pages would be due.
ACTION_LIMIT = 100


def first_rows(statement: Select, limit: int = ACTION_LIMIT) -> list[CalendarReply]:
    """The first rows of an action list (`to_rebook_query`, `proposals_query`)."""
    return list(db.session.scalars(statement.limit(limit)))


def declines_for(study: Study, viewer: User) -> Select:
    """The "to rebook" declines a viewer may see: all for coordinators, their own for
    interviewers."""
    statement = to_rebook_query(study)
    if not viewer.is_coordinator:
        statement = statement.where(Appointment.interviewer_id == viewer.id)
    return statement


def answers_to_interviewer(study: Study, interviewer: User) -> Select:
    """Each person's latest answer on the interviewer's interviews still ahead, newest first."""
    return _with_appointment(
        select(CalendarReply)
        .join(Appointment, Appointment.id == CalendarReply.appointment_id)
        .where(
            CalendarReply.study_id == study.id,
            Appointment.interviewer_id == interviewer.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.ends_at > now_utc(),
            _is_latest_of_attendee(),
        )
        .order_by(CalendarReply.replied_at.desc(), CalendarReply.id.desc())
    )


def proposals_query(study: Study) -> Select:
    """New times proposed (COUNTER) for open appointments, still current and not yet taken."""
    return _with_appointment(
        select(CalendarReply)
        .join(Appointment, Appointment.id == CalendarReply.appointment_id)
        .where(
            CalendarReply.study_id == study.id,
            CalendarReply.answer == ReplyAnswer.COUNTER,
            CalendarReply.moved_at.is_(None),
            CalendarReply.sequence >= Appointment.sequence,
            Appointment.status == AppointmentStatus.BOOKED,
            _is_latest_of_attendee(),
        )
        .order_by(CalendarReply.replied_at, CalendarReply.id)
    )


def replies_query(study: Study) -> Select:
    """Every recorded answer of the study, newest first."""
    return _with_appointment(
        select(CalendarReply)
        .where(CalendarReply.study_id == study.id)
        .order_by(CalendarReply.received_at.desc(), CalendarReply.id.desc())
    )


def unmatched_query(study: Study) -> Select:
    """Mail read but not recorded: this study's, and mail that named no study; newest first."""
    return (
        select(MailboxMessage)
        .where(
            MailboxMessage.outcome != MailOutcome.RECORDED,
            or_(MailboxMessage.study_id == study.id, MailboxMessage.study_id.is_(None)),
        )
        .order_by(MailboxMessage.processed_at.desc(), MailboxMessage.id.desc())
    )


def can_move_to(reply: CalendarReply, appointment: Appointment) -> bool:
    """Whether "move to this time" applies: a current, untaken proposal for an open booking."""
    return (
        reply.answer == ReplyAnswer.COUNTER
        and reply.moved_at is None
        and reply.proposed_starts_at is not None
        and appointment.is_open
        and reply.sequence >= appointment.sequence
    )


# --- Acting on a proposal --------------------------------------------------------------------


def get_reply(reply_id: int, study: Study) -> CalendarReply | None:
    return (
        db.session.scalars(
            _with_appointment(select(CalendarReply)).where(
                CalendarReply.id == reply_id, CalendarReply.study_id == study.id
            )
        )
        .unique()
        .one_or_none()
    )


def move_to_proposed_time(reply: CalendarReply, actor: User, *, confirmed: bool = False) -> None:
    """Move the appointment to the time a COUNTER proposed, through scheduling's reschedule
    (same UID, SEQUENCE + 1, updates to everyone), then mark the proposal taken.

    Raises ReplyError when the proposal no longer applies, and scheduling's errors
    (ClashError, NeedsConfirmation, SchedulingError) as they are.
    """
    appointment = db.session.get(Appointment, reply.appointment_id)
    if appointment is None or not can_move_to(reply, appointment):
        raise ReplyError(
            "This proposal no longer applies: the interview was changed, cancelled or already "
            "moved since it was made."
        )
    proposed = reply.proposed_starts_at
    if proposed is None:
        raise ReplyError("This reply proposes no new time.")
    if proposed <= now_utc():
        raise ReplyError("The proposed time has passed.")
    minutes = reply.proposed_minutes
    if minutes is None or not 5 <= minutes <= MAX_MINUTES:
        minutes = appointment.minutes
    reply_id = reply.id
    reschedule_appointment(appointment, proposed, minutes, actor, confirmed=confirmed)
    taken = db.session.get(CalendarReply, reply_id)
    if taken is not None:  # None only if erased while the move was being made
        taken.moved_at = now_utc()
        taken.moved_by_id = actor.id
    db.session.commit()
