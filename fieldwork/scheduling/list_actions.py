"""What scheduling adds to sampling's participant list: the "send booking links" bulk action.

Sampling sits below scheduling, so the list offers it through its registry (sampling.bulk);
`init_app` registers it. Each link goes through the service a single link uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Flask, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from fieldwork.accounts import services as accounts
from fieldwork.accounts.models import User
from fieldwork.core.forms import coerce_optional_int
from fieldwork.sampling import bulk
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.errors import SchedulingError
from fieldwork.scheduling.links import send_booking_link
from fieldwork.scheduling.models import AppointmentMode


def send_booking_links(
    participants: Sequence[Participant],
    interviewer: User | None,
    actor: User,
    url_for_token: Callable[[str], str],
    **options,
) -> bulk.BulkResult:
    """One booking link each, emailed; `interviewer` None means each one's assigned one."""
    result = bulk.BulkResult()
    assigned = accounts.interviewers_by_id(
        [p.interviewer_id for p in participants if p.interviewer_id]
    )
    for person in participants:
        who = interviewer or assigned.get(person.interviewer_id or 0)
        if who is None:
            result.skipped.append((person.reference, "no interviewer assigned"))
            continue
        if not person.email:
            result.skipped.append((person.reference, "no email address"))
            continue
        try:
            send_booking_link(person, who, actor, url_for_token, **options)
        except SchedulingError as error:
            result.skipped.append((person.reference, str(error)))
        else:
            result.done.append(person.reference)
    return result


def _fill(form: FlaskForm, study: Study) -> None:
    form.link_interviewer.choices = [SelectChoice("", "Each one’s assigned interviewer")] + [
        SelectChoice(str(u.id), u.name) for u in bulk.bookable_people()
    ]


def _booking_link_problem(form: FlaskForm, interviewer: User | None) -> str | None:
    """Why the booking-link fields cannot be used, or None."""
    mode = form.link_mode.data or "telephone"
    if form.link_interviewer.data and (interviewer is None or not interviewer.is_enabled):
        return "Choose the interviewer whose free times the links offer."
    if form.link_days.errors or form.link_video.errors or form.link_location.errors:
        return "Check the booking link's details: " + " ".join(
            form.link_days.errors + form.link_video.errors + form.link_location.errors
        )
    if mode == "in_person" and not (form.link_location.data or "").strip():
        return "Enter the place for in-person interviews."
    if form.link_video.data and not form.link_video.data.lower().startswith(
        ("https://", "http://")
    ):
        return "Enter a video link starting with https://."
    return None


def _bulk_booking_links(
    study: Study, form: FlaskForm, chosen: list[Participant]
) -> bulk.BulkOutcome:
    interviewer = accounts.get_user(form.link_interviewer.data or 0)
    problem = _booking_link_problem(form, interviewer)
    if problem:
        return problem, None, ""
    mode = form.link_mode.data or "telephone"
    result = send_booking_links(
        chosen,
        interviewer,
        current_user,
        lambda token: url_for("feeds.self_booking", token=token, _external=True),
        mode=AppointmentMode(mode),
        location=form.link_location.data or "" if mode == "in_person" else "",
        video_link=form.link_video.data or "" if mode == "video" else "",
        days=form.link_days.data or 14,
    )
    return None, result, "Booking link emailed"


BOOKING_LINKS = bulk.BulkAction(
    name="booking_links",
    legend="Send booking links by email",
    button="Send booking links",
    order=20,
    fields={
        "link_interviewer": SelectField(
            "Interviewer", coerce=coerce_optional_int, validators=[Optional()]
        ),
        "link_mode": SelectField(
            "How the interview is held",
            choices=[
                SelectChoice("telephone", "Telephone"),
                SelectChoice("video", "Video call"),
                SelectChoice("in_person", "In person"),
            ],
            validators=[Optional()],
        ),
        "link_location": StringField("Place (in person)", validators=[Optional(), Length(max=500)]),
        "link_video": URLField("Video call link", validators=[Optional(), Length(max=2000)]),
        "link_days": IntegerField(
            "Link works for (days)", default=14, validators=[Optional(), NumberRange(1, 90)]
        ),
    },
    fill=_fill,
    handle=_bulk_booking_links,
)


def init_app(app: Flask) -> None:
    """Offer the bulk action under the participant list."""
    bulk.register_bulk_action(app, BOOKING_LINKS)
