"""The demo study as test data for walks over the URL map, shared by the page walk
(tests/browser/test_pages.py) and the security suite (tests/security/).

A rule's URL arguments are filled by name (ARGUMENT_SOURCES) or, where the name means different
things on different routes, by endpoint and name (ENDPOINT_ARGUMENTS), from the rows a viewer may
use: a coordinator's are any rows, an interviewer's are those assigned to them. Filling them as
"other" (the demo's second interviewer) gives the rows that are NOT the first interviewer's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from werkzeug.routing import Rule

from fieldwork.accounts.models import User
from fieldwork.demo import DEMO_LOGINS, load_demo_study
from fieldwork.extensions import db
from fieldwork.sampling.models import District, Organisation, Participant, Phase, Role, Study

COORDINATOR = next(login for login in DEMO_LOGINS if login.role == "coordinator")
INTERVIEWER, OTHER_INTERVIEWER = [login for login in DEMO_LOGINS if login.role == "interviewer"][:2]
VIEWERS = {"coordinator": COORDINATOR, "interviewer": INTERVIEWER}
#: Everyone with rows of their own: the viewers, and "other", the interviewer whose rows the
#: first interviewer must not reach.
PEOPLE = {**VIEWERS, "other": OTHER_INTERVIEWER}

#: A small calendar for the busy-calendar rows the demo is given.
BUSY_CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
    "UID:busy-1@example.org\r\nDTSTAMP:20300101T000000Z\r\nDTSTART:20300107T090000Z\r\n"
    "DTEND:20300107T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@dataclass
class Demo:
    """The demo study, and the viewer-specific rows that fill URL arguments."""

    study: Study
    users: dict[str, User]
    #: Tokens of the private links, made for the walk (tokens are stored only as hashes).
    tokens: dict[str, str] = field(default_factory=dict)
    #: Each person's API token (bearer), by the keys of `users`.
    api_tokens: dict[str, str] = field(default_factory=dict)


def _first(model, *conditions) -> Any:
    return db.session.scalar(select(model).where(*conditions).order_by(model.id).limit(1))


def _id(row: Any) -> Any:
    return None if row is None else row.id


def participant_for(demo: Demo, viewer: str) -> Participant | None:
    """The first participant of the demo study the viewer may work on."""
    user = demo.users[viewer]
    conditions = [Participant.study_id == demo.study.id]
    if not user.is_coordinator:
        conditions.append(Participant.interviewer_id == user.id)
    return _first(Participant, *conditions)


def appointment_for(demo: Demo, viewer: str) -> Any:
    """The first booked appointment of the demo study the viewer may work on."""
    from fieldwork.scheduling.models import Appointment, AppointmentStatus

    user = demo.users[viewer]
    conditions = [
        Appointment.study_id == demo.study.id,
        Appointment.status == AppointmentStatus.BOOKED,
    ]
    if not user.is_coordinator:
        conditions.append(Appointment.interviewer_id == user.id)
    return _first(Appointment, *conditions)


def held_interview_for(demo: Demo, viewer: str) -> Any:
    """The viewer's first held interview (the pipeline's pages), else their first booking."""
    from fieldwork.scheduling.models import Appointment, AppointmentStatus

    user = demo.users[viewer]
    conditions = [
        Appointment.study_id == demo.study.id,
        Appointment.status == AppointmentStatus.HELD,
    ]
    if not user.is_coordinator:
        conditions.append(Appointment.interviewer_id == user.id)
    return _id(_first(Appointment, *conditions)) or _id(appointment_for(demo, viewer))


def _model(dotted: str) -> Any:
    module, _, name = dotted.partition(":")
    return getattr(__import__(module, fromlist=[name]), name)


def _first_of(dotted: str) -> Callable[[Demo, str], Any]:
    """A source that gives the first row's id of a model named 'module:Class'."""

    def source(demo: Demo, viewer: str) -> Any:
        return _id(_first(_model(dotted)))

    return source


def _owned_by_viewer(dotted: str, owner_column: str) -> Callable[[Demo, str], Any]:
    """A source that gives the first row the viewer owns (any row for a coordinator)."""

    def source(demo: Demo, viewer: str) -> Any:
        model = _model(dotted)
        user = demo.users[viewer]
        conditions = [] if user.is_coordinator else [getattr(model, owner_column) == user.id]
        return _id(_first(model, *conditions))

    return source


def _booking_link_for(demo: Demo, viewer: str) -> Any:
    from fieldwork.scheduling.models import BookingLink

    person = participant_for(demo, viewer)
    return _id(person and _first(BookingLink, BookingLink.participant_id == person.id))


#: Arguments whose value depends on the endpoint (the tokens of different private links).
ENDPOINT_ARGUMENTS: dict[tuple[str, str], Callable[[Demo, str], Any]] = {
    ("static", "filename"): lambda demo, viewer: "css/fieldwork.css",
    ("feeds.self_booking", "token"): lambda demo, viewer: demo.tokens["booking"],
    ("feeds.book_slot", "token"): lambda demo, viewer: demo.tokens["booking"],
    ("feeds.cancel_booking", "token"): lambda demo, viewer: demo.tokens["booking"],
    ("feeds.booking_zone", "token"): lambda demo, viewer: demo.tokens["booking"],
    ("feeds.booking_ics", "token"): lambda demo, viewer: demo.tokens["booking"],
    ("feeds.interviewer_feed", "token"): lambda demo, viewer: demo.tokens["feed"],
    ("recruitment.online_consent", "token"): lambda demo, viewer: demo.tokens["consent"],
    ("recruitment.online_withdraw", "token"): lambda demo, viewer: demo.tokens["consent"],
    ("accounts.set_password", "token"): lambda demo, viewer: demo.tokens["password"],
    ("scheduling.revoke_booking_link", "link_id"): _booking_link_for,
    ("pipeline.interview", "appointment_id"): held_interview_for,
    ("pipeline.download", "appointment_id"): held_interview_for,
    ("recruitment.revoke_consent_link", "link_id"): _first_of(
        "fieldwork.recruitment.models:ConsentLink"
    ),
    ("messaging.edit", "kind"): lambda demo, viewer: "booking_link",
    ("messaging.reset", "kind"): lambda demo, viewer: "booking_link",
}

#: How each URL argument (by its name in the rule) is filled from the demo study, for a viewer.
ARGUMENT_SOURCES: dict[str, Callable[[Demo, str], Any]] = {
    "appointment_id": lambda demo, viewer: _id(appointment_for(demo, viewer)),
    "form_id": _first_of("fieldwork.recruitment.models:ConsentForm"),
    "closed_id": _first_of("fieldwork.scheduling.models:ClosedDate"),
    "version_id": _first_of("fieldwork.recruitment.models:ConsentFormVersion"),
    "message_id": _first_of("fieldwork.outbox.models:OutboxMessage"),
    "reminder_id": _first_of("fieldwork.reminders.models:Reminder"),
    "quota_id": _first_of("fieldwork.coverage.models:Quota"),
    "reply_id": _first_of("fieldwork.replies.models:CalendarReply"),
    "step_id": _first_of("fieldwork.pipeline.models:PipelineStep"),
    "participant_id": lambda demo, viewer: _id(participant_for(demo, viewer)),
    "district_id": lambda demo, viewer: _id(_first(District, District.study_id == demo.study.id)),
    "organisation_id": lambda demo, viewer: _id(
        _first(Organisation, Organisation.study_id == demo.study.id)
    ),
    "role_id": lambda demo, viewer: _id(_first(Role, Role.study_id == demo.study.id)),
    "phase_id": lambda demo, viewer: _id(_first(Phase, Phase.study_id == demo.study.id)),
    "study_id": lambda demo, viewer: demo.study.id,
    "slug": lambda demo, viewer: demo.study.slug,
    "study_slug": lambda demo, viewer: demo.study.slug,
    "user_id": lambda demo, viewer: demo.users["interviewer"].id,
    "window_id": _owned_by_viewer(
        "fieldwork.scheduling.models:AvailabilityWindow", "interviewer_id"
    ),
    "calendar_id": _owned_by_viewer("fieldwork.scheduling.models:BusyCalendar", "interviewer_id"),
    "token_id": _owned_by_viewer("fieldwork.accounts.models:ApiToken", "user_id"),
}


def unknown_arguments(rule: Rule) -> list[str]:
    """The rule's arguments that neither table knows how to fill."""
    return sorted(
        name
        for name in rule.arguments
        if name not in ARGUMENT_SOURCES and (rule.endpoint, name) not in ENDPOINT_ARGUMENTS
    )


def argument_values(rule: Rule, demo: Demo, viewer: str) -> dict[str, Any]:
    """The rule's arguments filled for `viewer` (a value is None where the demo has no row)."""
    return {
        name: ENDPOINT_ARGUMENTS.get((rule.endpoint, name), ARGUMENT_SOURCES.get(name))(
            demo, viewer
        )
        for name in rule.arguments
    }


def build_url(rule: Rule, values: dict[str, Any]) -> str:
    built = rule.build(values, append_unknown=False)
    assert built is not None, f"{rule.rule} could not be built from {values}"
    return built[1]


def make_demo() -> Demo:
    """Load the demo study and give it what the walks need beyond it: private links (consent,
    booking, calendar feed), an API token and a busy calendar for each person, a booking
    link for each person's first participant, and a quota if the demo sets none."""
    from fieldwork.accounts import services as accounts
    from fieldwork.recruitment.links import create_consent_link
    from fieldwork.recruitment.models import ConsentFormVersion
    from fieldwork.scheduling import busy
    from fieldwork.scheduling.feed_tokens import regenerate_feed_token
    from fieldwork.scheduling.links import create_booking_link
    from fieldwork.scheduling.models import AppointmentMode

    study = load_demo_study()
    users = {
        person: db.session.scalar(select(User).where(User.email == login.email))
        for person, login in PEOPLE.items()
    }
    demo = Demo(study, users)
    coordinator, interviewer = users["coordinator"], users["interviewer"]
    person = participant_for(demo, "interviewer")
    version = _first(ConsentFormVersion, ConsentFormVersion.published_at.is_not(None))
    _, consent_token = create_consent_link(person, version, coordinator)
    _, booking_token = create_booking_link(
        person, interviewer, coordinator, mode=AppointmentMode.TELEPHONE
    )
    for other in ("coordinator", "other"):
        someone = participant_for(demo, other)
        if someone.id != person.id:
            create_booking_link(
                someone,
                db.session.get(User, someone.interviewer_id)
                if someone.interviewer_id
                else interviewer,
                coordinator,
                mode=AppointmentMode.TELEPHONE,
            )
    feed_token = regenerate_feed_token(interviewer)
    db.session.commit()
    for key, user in users.items():
        _, demo.api_tokens[key] = accounts.create_api_token(user, f"{key} walk")
        if not user.is_coordinator:
            busy.add_busy_calendar(user, f"{user.name}'s diary", "", BUSY_CALENDAR)
    if _first(_model("fieldwork.coverage.models:Quota")) is None:
        from fieldwork.coverage import quotas
        from fieldwork.sampling.models import OrganisationKind

        phase = _first(Phase, Phase.study_id == study.id)
        quotas.add_finer_quota(study, 2, organisation_kind=OrganisationKind.DWP, phase_id=phase.id)
    # A set-password link (a reset) for the demo's second interviewer.
    from fieldwork.accounts.invitations import new_password_link
    from fieldwork.accounts.models import PasswordLinkPurpose

    password_token = new_password_link(users["other"], PasswordLinkPurpose.RESET)
    db.session.commit()
    demo.tokens = {
        "consent": consent_token,
        "booking": booking_token,
        "feed": feed_token,
        "password": password_token,
    }
    return demo
