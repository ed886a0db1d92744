"""What a reminder says: the template variables of an appointment (or of a sample one, for the
preview) and the reminder as an email."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from email.headerregistry import Address
from zoneinfo import ZoneInfo

from flask import render_template

from fieldwork.core.time import now_utc
from fieldwork.messaging import templating
from fieldwork.outbox.composing import PreparedMessage, compose_alternative, restamp
from fieldwork.reminders.models import (
    DEFAULT_OFFSETS,
    Reminder,
    ReminderRecipient,
    ReminderSettings,
)
from fieldwork.sampling.models import Study
from fieldwork.scheduling.models import Appointment, AppointmentMode


def describe_offset(minutes: int) -> str:
    """2880 → '2 days', 120 → '2 hours', 90 → '1 hour 30 minutes'."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    for amount, unit in ((days, "day"), (hours, "hour"), (mins, "minute")):
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    return " ".join(parts) or "0 minutes"


def where_text(mode: AppointmentMode, location: str, video_link: str) -> str:
    """Where the interview happens, in words (the link for a video call)."""
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
        where=where_text(appointment.mode, appointment.location, appointment.video_link),
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


def message_domain(study: Study) -> str:
    """The domain of the Message-IDs a study's reminders carry (its organiser's)."""
    return (study.organiser_email or "fieldwork@localhost").rpartition("@")[2] or "localhost"


@functools.lru_cache(maxsize=4096)
def _mailbox(name: str, email: str) -> Address:
    """fieldwork.invites.mail.mailbox, remembered: a sweep writes to the same organisers and
    interviewers again and again, and checking an address is the slow part."""
    from fieldwork.invites.mail import mailbox

    return mailbox(name, email)


def build_reminder_email(
    reminder: Reminder, appointment: Appointment, settings: ReminderSettings
) -> PreparedMessage:
    """The reminder as an email ready for the outbox: From the study's organiser, To the one
    recipient, with the reminder's own Message-ID. Raises TemplateProblem or ValueError
    (unusable address). Written straight to bytes (fieldwork.outbox.composing)."""
    return _build(reminder, appointment, settings, reminder_context(reminder, appointment))


def _build(
    reminder: Reminder, appointment: Appointment, settings: ReminderSettings, context: dict
) -> PreparedMessage:
    from fieldwork.invites.bodies import inline_css
    from fieldwork.invites.mail import header_text

    study = appointment.study
    rendered = templating.render(
        settings.subject_template(reminder.recipient),
        settings.body_template(reminder.recipient),
        context,
    )
    html = render_template(
        "emails/reminder.html",
        subject=rendered.subject,
        body=rendered.html_fragment,
        study_name=study.name,
        organiser_name=study.organiser_name,
        organiser_email=study.organiser_email,
    )
    name, address = _recipient(reminder, appointment)
    return compose_alternative(
        sender=_mailbox(*_sender(study)),
        to=[_mailbox(name, address)],
        subject=header_text(rendered.subject),
        text=rendered.text,
        html=inline_css(html),
        message_id=reminder.message_id,
        # RFC 3834: an automatic message; well-behaved autoresponders do not answer it.
        headers=[("Auto-Submitted", "auto-generated")],
    )


def _recipient(reminder: Reminder, appointment: Appointment) -> tuple[str, str]:
    if reminder.recipient == ReminderRecipient.INTERVIEWER:
        return appointment.interviewer.name, appointment.interviewer.email
    return appointment.participant.name, appointment.participant.email


def _sender(study: Study) -> tuple[str, str]:
    return study.organiser_name or study.name, study.organiser_email or "fieldwork@localhost"


def _written_from(
    reminder: Reminder, appointment: Appointment, settings: ReminderSettings, context: dict
) -> str:
    """A digest of everything the email is written from: the texts, the variables, the
    addresses and the Message-ID. Equal digests give equal emails (but for the Date)."""
    inputs = [
        settings.subject_template(reminder.recipient),
        settings.body_template(reminder.recipient),
        sorted((key, str(value)) for key, value in context.items()),
        _recipient(reminder, appointment),
        _sender(appointment.study),
        reminder.message_id,
    ]
    return hashlib.sha256(json.dumps(inputs).encode("utf-8")).hexdigest()


def prepare_reminder_email(
    reminder: Reminder, appointment: Appointment, settings: ReminderSettings
) -> None:
    """Write the reminder's email now (when it is planned, in the booking's transaction) and
    keep it on the reminder, so the sweep that sends thousands at their time only checks and
    queues them. A reminder whose email cannot be written yet keeps none; the sweep writes
    it at its time, and says why if it still cannot."""
    context = reminder_context(reminder, appointment)
    try:
        message = _build(reminder, appointment, settings, context)
    except (templating.TemplateProblem, ValueError):
        reminder.prepared_email = None
        return
    head = {
        "written_from": _written_from(reminder, appointment, settings, context),
        "sender": message.sender,
        "recipients": list(message.recipients),
        "subject": message.subject,
        "message_id": message.message_id,
        "has_secrets": message.has_secrets,
    }
    reminder.prepared_email = json.dumps(head).encode("utf-8") + b"\n" + message.raw


def read_prepared_email(stored: bytes) -> tuple[str, PreparedMessage]:
    """What prepare_reminder_email stored: the digest of what the email was written from, and
    the email as it was written (not yet dated for sending)."""
    head_line, _, raw = stored.partition(b"\n")
    head = json.loads(head_line)
    return head["written_from"], PreparedMessage(
        sender=head["sender"],
        recipients=tuple(head["recipients"]),
        subject=head["subject"],
        message_id=head["message_id"],
        raw=raw,
        has_secrets=head["has_secrets"],
    )


def reminder_email(
    reminder: Reminder, appointment: Appointment, settings: ReminderSettings
) -> PreparedMessage:
    """The email to queue for a due reminder: the one written when it was planned if what it
    says would be the same now (texts, time, place, names and addresses unchanged), dated
    now; otherwise written afresh. Raises as build_reminder_email does."""
    context = reminder_context(reminder, appointment)
    if reminder.prepared_email:
        written_from, message = read_prepared_email(reminder.prepared_email)
        if written_from == _written_from(reminder, appointment, settings, context):
            return restamp(message)
    return _build(reminder, appointment, settings, context)
