"""The calendar objects and emails of appointments, queued in the outbox.

Calendar objects and MIME come from the invites package (pure functions); this module only
decides what each recipient is told. Every message is enqueued in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from fieldwork.accounts.models import User
from fieldwork.core.time import format_moment, now_utc
from fieldwork.extensions import db
from fieldwork.invites.ical import Attendee, CalendarEvent, build_calendar
from fieldwork.sampling.models import Participant
from fieldwork.scheduling.models import (
    Appointment,
    AppointmentMode,
    AppointmentStatus,
    BookingLink,
    TopicGuide,
)

#: The kind of message (outbox `kind`) for each change, and the iTIP method it carries.
METHODS = {"invite": "REQUEST", "update": "REQUEST", "cancellation": "CANCEL"}


def _load(appointment_id: int) -> Appointment:
    return (
        db.session.scalars(
            select(Appointment)
            .options(
                joinedload(Appointment.participant).joinedload(Participant.organisation),
                joinedload(Appointment.participant).joinedload(Participant.role),
                joinedload(Appointment.interviewer),
                joinedload(Appointment.study),
            )
            .where(Appointment.id == appointment_id)
        )
        .unique()
        .one()
    )


def _topic_guide(appointment: Appointment) -> TopicGuide | None:
    return db.session.scalar(
        select(TopicGuide).where(TopicGuide.role_id == appointment.participant.role_id)
    )


def where_text(appointment: Appointment) -> str:
    """The place or link, as a person reads it."""
    if appointment.mode == AppointmentMode.VIDEO:
        return appointment.video_link or "Video call (link to follow)"
    if appointment.mode == AppointmentMode.TELEPHONE:
        return appointment.location or "By telephone"
    return appointment.location


def participant_zone(appointment: Appointment) -> str:
    """The zone the participant reads this appointment in (theirs, else the study's)."""
    return (
        appointment.participant_timezone or appointment.participant.timezone or appointment.timezone
    )


def call_line(appointment: Appointment, *, for_interviewer: bool) -> str:
    """Who calls whom, on which number, for a telephone interview ("" for other modes)."""
    if appointment.mode != AppointmentMode.TELEPHONE:
        return ""
    participant, interviewer = appointment.participant, appointment.interviewer
    if participant.phone:
        if for_interviewer:
            return f"You call {participant.name} on {participant.phone}."
        return f"{interviewer.name} will call you on {participant.phone}."
    if appointment.location:
        return f"Dial in: {appointment.location}"
    if for_interviewer:
        return f"You call {participant.name}; no number is on record yet, so ask for one."
    return f"{interviewer.name} will call you. Please reply with the best number to reach you."


def _attendees(appointment: Appointment) -> tuple[Attendee, ...]:
    people = [Attendee(appointment.interviewer.name, appointment.interviewer.email)]
    if appointment.participant.email:
        people.append(Attendee(appointment.participant.name, appointment.participant.email))
    return tuple(people)


_UNSET = object()


def _interviewer_lines(
    appointment: Appointment, guide: TopicGuide | None | object
) -> tuple[list[str], tuple[tuple[str, str], ...]]:
    """What only the interviewer's event says (who, how to reach them, the topic guide,
    travel, notes), and the guide as an attachment."""
    study = appointment.study
    participant = appointment.participant
    lines = [
        f"Interview for the study “{study.name}”.",
        f"Participant: {participant.reference} {participant.name}",
        f"Role: {participant.role.name}",
        f"Organisation: {participant.organisation.name}",
    ]
    if participant.phone:
        lines.append(f"Telephone: {participant.phone}")
    if participant.email:
        lines.append(f"Email: {participant.email}")
    if guide is _UNSET:
        guide = _topic_guide(appointment)
    attachments: tuple[tuple[str, str], ...] = ()
    if isinstance(guide, TopicGuide):
        lines.append(f"Topic guide: {guide.title} – {guide.url}")
        attachments = ((guide.title, guide.url),)
    if appointment.travel_minutes_before or appointment.travel_minutes_after:
        lines.append(
            f"Travel: {appointment.travel_minutes_before} minutes before, "
            f"{appointment.travel_minutes_after} minutes after."
        )
    if appointment.notes:
        lines.append(f"Notes: {appointment.notes}")
    return lines, attachments


def calendar_event(
    appointment: Appointment, *, for_interviewer: bool, guide: TopicGuide | None | object = _UNSET
) -> CalendarEvent:
    """The appointment as a calendar event for one side: the interviewer's version names the
    participant and carries the role's topic guide; the participant's names the interviewer."""
    from fieldwork.invites.bodies import describe_end, describe_for_reader

    study = appointment.study
    mode = appointment.mode.label
    zone = appointment.timezone if for_interviewer else participant_zone(appointment)
    when = (
        f"{describe_for_reader(appointment.starts_at, zone, appointment.timezone)}, "
        f"until {describe_end(appointment.ends_at, zone)}"
    )
    if for_interviewer:
        summary = f"Interview {appointment.participant.reference} – {study.name} ({mode})"
        lines, attachments = _interviewer_lines(appointment, guide)
    else:
        summary = f"{study.name}: research interview ({mode})"
        lines = [
            f"An interview for the research study “{study.name}”.",
            f"Your interviewer: {appointment.interviewer.name}",
        ]
        attachments = ()
    lines += [f"How: {mode}", f"When: {when}"]
    calling = call_line(appointment, for_interviewer=for_interviewer)
    if calling:
        lines.append(f"Telephone: {calling}")
    where = where_text(appointment)
    if where and not calling:
        lines.append(f"Where: {where}")
    if study.organiser_email:
        lines.append(f"Questions or changes: {study.organiser_name} <{study.organiser_email}>")
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    return CalendarEvent(
        uid=appointment.ical_uid,
        sequence=appointment.sequence,
        start=appointment.starts_at,
        end=appointment.ends_at,
        timezone=appointment.timezone,
        summary=summary,
        description="\n".join(lines),
        organiser_name=study.organiser_name or study.name,
        organiser_email=study.organiser_email or "fieldwork@localhost",
        attendees=_attendees(appointment),
        location=appointment.location if appointment.mode != AppointmentMode.VIDEO else "",
        url=appointment.video_link if appointment.mode == AppointmentMode.VIDEO else "",
        status="CANCELLED" if cancelled else "CONFIRMED",
        stamp=appointment.updated_at or now_utc(),
        attachments=attachments,
    )


def appointment_calendar(
    appointment: Appointment, method: str | None = "PUBLISH", *, for_interviewer: bool = True
) -> bytes:
    """One appointment as an .ics file for a download (the interviewer's version unless
    `for_interviewer` is False). PUBLISH carries no ATTENDEE list (RFC 5546 3.2.1)."""
    return build_calendar([calendar_event(appointment, for_interviewer=for_interviewer)], method)


def feed_calendar(appointments: list[Appointment], name: str) -> bytes:
    """An interviewer's feed: every appointment, cancelled ones as STATUS:CANCELLED."""
    role_ids = {a.participant.role_id for a in appointments}
    guides = (
        {
            g.role_id: g
            for g in db.session.scalars(select(TopicGuide).where(TopicGuide.role_id.in_(role_ids)))
        }
        if role_ids
        else {}
    )
    return build_calendar(
        [
            calendar_event(a, for_interviewer=True, guide=guides.get(a.participant.role_id))
            for a in appointments
        ],
        None,
        name,
    )


def _context(
    appointment: Appointment,
    kind: str,
    recipient: Attendee,
    for_interviewer: bool,
    event: CalendarEvent,
    previous_start: dt.datetime | None,
) -> dict:
    """What the invites package's email templates read (see `render_invitation`)."""
    if kind == "cancellation":
        notes = f"Reason: {appointment.cancel_reason}" if appointment.cancel_reason else ""
    else:
        notes = appointment.notes if for_interviewer else ""
    context = {
        "event": event,
        "recipient": recipient,
        "study_name": appointment.study.name,
        "mode": appointment.mode.label.lower(),
        "notes": notes,
        "reader_zone": appointment.timezone if for_interviewer else participant_zone(appointment),
        "call_line": call_line(appointment, for_interviewer=for_interviewer),
        "with_name": (
            f"{appointment.participant.reference} {appointment.participant.name}"
            if for_interviewer
            else appointment.interviewer.name
        ),
    }
    if previous_start is not None:
        context["previous_start"] = previous_start
    return context


def _wording(
    appointment: Appointment,
    kind: str,
    recipient: Attendee,
    for_interviewer: bool,
    event: CalendarEvent,
    when: str,
    zone: str,
    previous_start: dt.datetime | None,
):
    """The subject and (when the study has its own) opening text of this kind of message,
    from the study's message texts; times in the reader's zone."""
    from fieldwork.invites.bodies import describe_end, describe_for_reader
    from fieldwork.messaging import services as messaging

    study = appointment.study
    previous_when = (
        describe_for_reader(previous_start, zone, appointment.timezone) if previous_start else ""
    )
    return messaging.render_message(
        study.id,
        kind,
        {
            "recipient_name": recipient.name,
            "study_name": study.name,
            "organiser_name": study.organiser_name,
            "organiser_email": study.organiser_email,
            "is_interviewer": for_interviewer,
            "summary": event.summary,
            "when": when,
            "until": describe_end(appointment.ends_at, zone),
            "previous_when": previous_when,
            "mode": appointment.mode.label.lower(),
            "where": where_text(appointment),
            "interviewer_name": appointment.interviewer.name,
            "participant_reference": appointment.participant.reference,
            "reason": appointment.cancel_reason or "",
        },
    )


def queue_appointment_messages(
    appointment_id: int, kind: str, previous_start: dt.datetime | None = None
) -> None:
    """Queue the invite, update or cancellation for the interviewer and the participant."""
    from fieldwork.invites.mail import build_invitation_email, render_invitation
    from fieldwork.outbox.services import enqueue

    appointment = _load(appointment_id)
    method = METHODS[kind]
    recipients = [(Attendee(appointment.interviewer.name, appointment.interviewer.email), True)]
    if appointment.participant.email:
        recipients.append(
            (Attendee(appointment.participant.name, appointment.participant.email), False)
        )
    from fieldwork.invites.bodies import describe_for_reader

    for recipient, for_interviewer in recipients:
        zone = appointment.timezone if for_interviewer else participant_zone(appointment)
        when = describe_for_reader(appointment.starts_at, zone, appointment.timezone)
        event = calendar_event(appointment, for_interviewer=for_interviewer)
        context = _context(appointment, kind, recipient, for_interviewer, event, previous_start)
        words = _wording(
            appointment, kind, recipient, for_interviewer, event, when, zone, previous_start
        )
        if words.is_custom:
            context["intro_text"] = words.text.strip()
            context["intro_html"] = words.html_fragment
        text_body, html_body = render_invitation(kind, context)
        subject = words.subject
        message = build_invitation_email(
            event=event,
            method=method,
            to=recipient,
            subject=subject,
            text_body=text_body,
            html_body=html_body,
            sender_name=appointment.study.name,
            sender_email=event.organiser_email,
        )
        enqueue(message, kind=kind, study_id=appointment.study_id, appointment_id=appointment.id)


def queue_booking_link_message(link: BookingLink, url: str) -> None:
    """The email that gives a participant their private booking link: the study's own
    "booking link" text when it has one, otherwise the shipped email."""
    from fieldwork.invites.bodies import render_email
    from fieldwork.messaging import services as messaging
    from fieldwork.outbox.services import enqueue

    participant = db.session.scalars(
        select(Participant)
        .options(joinedload(Participant.study))
        .where(Participant.id == link.participant_id)
    ).one()
    study = participant.study
    interviewer = db.session.get(User, link.interviewer_id)
    values = {
        "study_name": study.name,
        "url": url,
        "expires": format_moment(link.expires_at, participant.timezone or study.timezone),
        "minutes": study.interview_minutes,
        "mode": link.mode.label.lower(),
        "interviewer_name": interviewer.name if interviewer else "",
        "organiser_name": study.organiser_name,
        "organiser_email": study.organiser_email,
    }
    words = messaging.render_message(
        study.id, "booking_link", {**values, "recipient_name": participant.name}
    )
    if words.is_custom:
        message = messaging.words_email(study, participant.name, participant.email, words)
    else:
        text, html = render_email("booking_link", participant=participant, study=study, **values)
        message = messaging.build_email(
            messaging.sender_of(study),
            participant.name,
            participant.email,
            words.subject,
            text,
            html,
        )
    enqueue(message, kind="other", study_id=study.id)
