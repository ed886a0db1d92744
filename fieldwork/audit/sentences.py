"""Audit events read as sentences, in the viewer's time zone.

"Sandra booked P1-017 with Kathryn for Tue 3 Dec 10:00 GMT" up front; the changed values follow
as plain label/value pairs for a <details> element: no dotted codes, JSON or microseconds.
Pure functions of an event (with `actor` and `participant` loaded) and a zone name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from fieldwork.audit.models import AuditEvent
from fieldwork.core.time import now_utc

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: Participant statuses, appointment outcomes, modes, methods and dispositions as words.
VALUE_WORDS = {
    "identified": "identified",
    "approached": "approached",
    "agreed": "agreed",
    "scheduled": "scheduled",
    "interviewed": "interviewed",
    "declined": "declined",
    "unreachable": "unreachable",
    "ineligible": "ineligible",
    "withdrawn": "withdrawn",
    "held": "held",
    "no_show": "a no-show",
    "cancelled_late": "cancelled late",
    "in_person": "in person",
    "telephone": "by telephone",
    "video": "by video",
    "written": "written",
    "verbal": "verbal",
    "online": "online",
    "call_back": "call back",
    "no_answer": "no answer",
    "left_message": "left a message",
    "refused": "refused",
    "gatekeeper_refused": "refused by a gatekeeper",
    "not_eligible": "not eligible",
    "moved_on": "moved on",
    "not_reachable": "not reachable",
    "keep_anonymised": "keep what was gathered, anonymised",
    "destroy": "destroy what was gathered",
    "coordinator": "coordinator",
    "interviewer": "interviewer",
}


def short_time(value: dt.datetime, zone_name: str, with_date: bool = True) -> str:
    """'Tue 3 Dec 10:00 GMT' in `zone_name` (the year added when it is not this year), or
    '10:00 GMT' without the date."""
    local = value.astimezone(ZoneInfo(zone_name))
    if not with_date:
        return f"{local:%H:%M} {local.tzname() or zone_name}"
    this_year = now_utc().astimezone(ZoneInfo(zone_name)).year
    day = local.strftime("%a %-d %b") + ("" if local.year == this_year else local.strftime(" %Y"))
    return f"{day} {local:%H:%M} {local.tzname() or zone_name}"


def _parse_time(value: Any) -> dt.datetime | None:
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def plain_value(value: Any, zone_name: str) -> str:
    """A stored value as a person reads it: times in the zone, codes as words, lists joined."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    moment = _parse_time(value)
    if moment is not None:
        return short_time(moment, zone_name)
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value).strftime("%a %-d %b %Y")
        except ValueError:
            return value  # shaped like a date but not one (2026-02-31): shown as typed
    if isinstance(value, str):
        return VALUE_WORDS.get(value, value)
    if isinstance(value, list):
        return ", ".join(plain_value(item, zone_name) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(
            f"{_label(key)}: {plain_value(item, zone_name)}" for key, item in value.items()
        )
    return str(value)


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def details(event: AuditEvent, zone_name: str) -> list[tuple[str, str, str | None]]:
    """(label, value now, value before or None) for each field the event kept."""
    before, after = event.before or {}, event.after or {}
    rows = []
    for key in dict.fromkeys([*after.keys(), *before.keys()]):
        old = plain_value(before[key], zone_name) if key in before else None
        rows.append((_label(key), plain_value(after.get(key), zone_name), old))
    return rows


def actor_name(event: AuditEvent) -> str:
    """Who did it, by first name; the participant for their own online actions."""
    if event.actor is not None:
        return (event.actor.name or "").split(" ")[0] or event.actor.name
    if event.participant_id is not None:
        return "The participant"
    return "The system"


def _subject(event: AuditEvent) -> str:
    return event.participant.reference if event.participant is not None else "someone"


def _when(event: AuditEvent, key: str, zone: str, source: str = "after") -> str:
    moment = _parse_time((getattr(event, source) or {}).get(key))
    return short_time(moment, zone) if moment else "a time not recorded"


def _get(event: AuditEvent, key: str, source: str = "after") -> Any:
    return (getattr(event, source) or {}).get(key)


def _word(value: Any) -> str:
    return VALUE_WORDS.get(value, str(value)) if value is not None else "—"


def _booked(e: AuditEvent, z: str) -> str:
    who = actor_name(e)
    with_whom = (_get(e, "interviewer") or "someone").split(" ")[0]
    start = _when(e, "starts_at", z)
    if e.actor is None and e.participant_id is not None:
        return f"{_subject(e)} booked themselves with {with_whom} for {start}"
    return f"{who} booked {_subject(e)} with {with_whom} for {start}"


def _moved(e: AuditEvent, z: str) -> str:
    return (
        f"{actor_name(e)} moved {_subject(e)}'s interview from "
        f"{_when(e, 'starts_at', z, 'before')} to {_when(e, 'starts_at', z)}"
    )


def _cancelled(e: AuditEvent, z: str) -> str:
    start = _when(e, "starts_at", z)
    if e.actor is None and e.participant_id is not None:
        return f"{_subject(e)} cancelled their interview of {start}"
    return f"{actor_name(e)} cancelled {_subject(e)}'s interview of {start}"


def _self_booked(e: AuditEvent, z: str) -> str:
    return f"{_subject(e)} booked themselves for {_when(e, 'new_starts_at', z)}"


def _self_moved(e: AuditEvent, z: str) -> str:
    return (
        f"{_subject(e)} moved their interview from {_when(e, 'old_starts_at', z)} "
        f"to {_when(e, 'new_starts_at', z)}"
    )


def _self_cancelled(e: AuditEvent, z: str) -> str:
    return f"{_subject(e)} cancelled their interview of {_when(e, 'old_starts_at', z)}"


def _outcome(e: AuditEvent, z: str) -> str:
    return (
        f"{actor_name(e)} recorded {_subject(e)}'s interview of {_when(e, 'starts_at', z)} "
        f"as {_word(_get(e, 'outcome'))}"
    )


def _status(e: AuditEvent, z: str) -> str:
    reason = _get(e, "reason")
    text = (
        f"{_subject(e)} went from {_word(_get(e, 'status', 'before'))} to "
        f"{_word(_get(e, 'status'))}"
    )
    return text + (f" ({reason})" if reason else "")


def _consent(e: AuditEvent, z: str) -> str:
    method = _word(_get(e, "method"))
    if _get(e, "method") == "online":
        return f"{_subject(e)} gave consent online"
    return f"{actor_name(e)} recorded {method} consent for {_subject(e)}"


def _assigned(e: AuditEvent, z: str) -> str:
    to = _get(e, "interviewer")
    if not to:
        return f"{actor_name(e)} took {_subject(e)} off {_get(e, 'interviewer', 'before')}'s list"
    return f"{actor_name(e)} assigned {_subject(e)} to {to}"


def _contact(e: AuditEvent, z: str) -> str:
    text = f"{actor_name(e)} logged a contact with {_subject(e)}: {_word(_get(e, 'disposition'))}"
    follow = _get(e, "next_action_on")
    return text + (f", next action {plain_value(follow, z)}" if follow else "")


def _simple(template: str) -> Callable[[AuditEvent, str], str]:
    def build(e: AuditEvent, z: str) -> str:
        values = {**(e.before or {}), **(e.after or {})}
        words = {key: plain_value(value, z) for key, value in values.items()}
        # An event's own "subject" or "actor" value (an email's subject, say) never clashes
        # with the sentence's: the sentence's win.
        return template.format_map(
            _Missing({**words, "actor": actor_name(e), "subject": _subject(e)})
        )

    return build


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "—"


SENTENCES: dict[str, Callable[[AuditEvent, str], str]] = {
    "appointment.booked": _booked,
    "appointment.moved": _moved,
    "appointment.cancelled": _cancelled,
    "appointment.outcome_recorded": _outcome,
    "appointment.self_booked": _self_booked,
    "appointment.self_moved": _self_moved,
    "appointment.self_cancelled": _self_cancelled,
    "participant.status_changed": _status,
    "participant.assigned": _assigned,
    "participant.withdrawn": _simple("{actor} recorded that {subject} withdrew"),
    "participant.erased": _simple("{actor} erased {subject}'s personal details"),
    "participant.created": _simple("{actor} added {subject} to the sample"),
    "participant.updated": _simple("{actor} changed {subject}'s details"),
    "participant.deleted": _simple("{actor} deleted participant {reference}"),
    "consent.recorded": _consent,
    "consent.withdrawn": _simple("{subject}'s consent was withdrawn ({data_handling})"),
    "consent_link.created": _simple("{actor} made a consent link for {subject}"),
    "consent_link.revoked": _simple("{actor} revoked {subject}'s consent link"),
    "consent_form.created": _simple("{actor} created the consent form “{title}”"),
    "consent_form.version_published": _simple(
        "{actor} published version {version} of a consent form"
    ),
    "contact_attempt.logged": _contact,
    "referral.recorded": _simple("{actor} recorded a referral of {subject}"),
    "organisation_access.changed": _simple("{actor} changed an organisation's access agreement"),
    "study.deleted": _simple("{actor} deleted the study {name}"),
    "booking_link.created": _simple("{actor} made a booking link for {subject}"),
    "booking_link.sent": _simple("{actor} emailed {subject} a booking link"),
    "booking_link.revoked": _simple("{actor} revoked {subject}'s booking link"),
    "import.completed": _simple(
        "{actor} imported the sample frame: {created} new participants, {updated} updated"
    ),
    "export.downloaded": _simple("{actor} downloaded {what}"),
    "user.created": _simple("{actor} added the user {name} ({role})"),
    "user.updated": _simple("{actor} changed the user {name}"),
    "user.password_changed": _simple("{actor} changed the password of {name}"),
    "token.created": _simple("{actor} made an API token “{label}” ({prefix}…)"),
    "token.revoked": _simple("{actor} revoked the API token “{label}” ({prefix}…)"),
    "message_template.saved": _simple("{actor} changed the study's text of the {kind} message"),
    "message_template.reset": _simple(
        "{actor} put the study's {kind} message back to the default text"
    ),
    "calendar_reply.recorded": _simple(
        "{who} answered the invitation to {subject}'s interview from their calendar: {answer}"
    ),
}


def sentence(event: AuditEvent, zone_name: str) -> str:
    """The event as one sentence in `zone_name`; unknown actions still read as words."""
    build = SENTENCES.get(event.action)
    if build is not None:
        return build(event, zone_name)
    subject, _, verb = event.action.partition(".")
    words = f"{verb.replace('_', ' ')} {subject.replace('_', ' ')}".strip()
    about = f" for {_subject(event)}" if event.participant is not None else ""
    return f"{actor_name(event)}: {words}{about}"


ACTION_LABELS = {
    "appointment.booked": "Interview booked",
    "appointment.moved": "Interview moved",
    "appointment.cancelled": "Interview cancelled",
    "appointment.outcome_recorded": "Interview outcome recorded",
    "appointment.self_booked": "Participant booked themselves",
    "appointment.self_moved": "Participant moved their interview",
    "appointment.self_cancelled": "Participant cancelled their interview",
    "participant.status_changed": "Recruitment status changed",
    "participant.assigned": "Participant assigned",
    "participant.withdrawn": "Participant withdrew",
    "participant.erased": "Personal details erased",
    "consent.recorded": "Consent recorded",
    "consent.withdrawn": "Consent withdrawn",
    "contact_attempt.logged": "Contact attempt logged",
    "import.completed": "Sample frame imported",
    "export.downloaded": "Export downloaded",
    "user.created": "User added",
    "user.updated": "User changed",
    "user.password_changed": "Password changed",
    "token.created": "API token made",
    "token.revoked": "API token revoked",
}


def action_label(action: str) -> str:
    """A filter choice for an action: 'Interview booked' rather than 'appointment.booked'."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    subject, _, verb = action.partition(".")
    return f"{subject.replace('_', ' ').capitalize()}: {verb.replace('_', ' ')}".strip(": ")
