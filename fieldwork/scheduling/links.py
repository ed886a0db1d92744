"""Private booking links: created and emailed by coordinators, used by participants to book,
move or cancel their own interview among the slots the study's rules offer."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.core.time import now_utc
from fieldwork.core.tokens import hash_token, new_token
from fieldwork.core.transactions import transaction
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.appointments import with_people
from fieldwork.scheduling.booking import (
    book_appointment,
    cancel_appointment,
    reschedule_appointment,
)
from fieldwork.scheduling.checks import MAX_TRAVEL_MINUTES, BookingRequest, lock_booking
from fieldwork.scheduling.errors import ClashError, SchedulingError
from fieldwork.scheduling.models import (
    Appointment,
    AppointmentMode,
    AppointmentStatus,
    BookingLink,
)

#: How long a booking link works unless the coordinator says otherwise.
BOOKING_LINK_DAYS = 14


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
    with transaction():
        link, token = create_booking_link(participant, interviewer, actor, **options)
        messages.queue_booking_link_message(link, link_url_for_token(token))
        link.sent_at = now_utc()
    return link, token


def revoke_booking_link(link_id: int, participant: Participant) -> BookingLink | None:
    link = db.session.get(BookingLink, link_id)
    if link is None or link.participant_id != participant.id:
        return None
    if link.revoked_at is None:
        with transaction():
            link.revoked_at = now_utc()
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
            with_people(select(Appointment))
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

    participant = db.session.get_one(Participant, link.participant_id)
    study = db.session.get_one(Study, participant.study_id)
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
    participant = db.session.get_one(Participant, link.participant_id)
    if zone_name and participant.timezone != zone_name:
        participant.timezone = zone_name


def store_participant_zone(link: BookingLink, zone_name: str) -> None:
    """The participant chose a zone: store it with them and their open booking (commits)."""
    with transaction():
        remember_participant_zone(link, zone_name)
        current = current_booking(link)
        if current is not None:
            current.participant_timezone = zone_name


def book_through_link(
    link: BookingLink, starts_at: dt.datetime, zone_name: str = ""
) -> tuple[Appointment, dt.datetime | None]:
    """The participant's own booking or move: the slot must be one the link offers.

    Returns the appointment and, for a move, its previous start. `zone_name` (the zone the
    page showed) is stored with the participant and the appointment.
    """
    # Lock first (interviewer, then participant), so that of two posts through one link the
    # second sees the first's booking and moves it rather than booking a second interview.
    lock_booking(link.interviewer_id, link.participant_id)
    participant = db.session.get_one(Participant, link.participant_id)
    study = db.session.get_one(Study, participant.study_id)
    interviewer = db.session.get_one(User, link.interviewer_id)
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
