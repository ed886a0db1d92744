"""Work on many participants at once: assign, send booking links or consent requests, record
an outcome. Each person goes through the same service a single action uses, so the rules
(status changes, consent, email required, audit) hold; who was skipped, and why, is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from fieldwork.accounts.models import User
from fieldwork.core.forms import coerce_optional_int
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant, Study

#: The most participants one bulk action takes (a page of the list holds fewer).
MAX_SELECTED = 500

ACTIONS = {
    "assign": "Assign",
    "booking_links": "Send booking links",
    "consent_requests": "Send consent requests",
    "status": "Record an outcome",
}


@dataclass
class BulkResult:
    """What a bulk action did: the references it handled and those it skipped, with why."""

    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self, verb: str) -> str:
        count = len(self.done)
        text = f"{verb} for {count} participant{'s' if count != 1 else ''}"
        if self.done:
            text += f" ({', '.join(self.done[:20])}{', …' if count > 20 else ''})"
        text += "."
        if self.skipped:
            reasons = "; ".join(f"{ref}: {why}" for ref, why in self.skipped[:10])
            more = f" and {len(self.skipped) - 10} more" if len(self.skipped) > 10 else ""
            text += f" Not done for {len(self.skipped)}: {reasons}{more}."
        return text


class BulkForm(FlaskForm):
    """The fields of every bulk action; the button pressed (`action`) says which apply."""

    assign_to = SelectField("Assign to", coerce=coerce_optional_int, validators=[Optional()])
    link_interviewer = SelectField(
        "Interviewer", coerce=coerce_optional_int, validators=[Optional()]
    )
    link_mode = SelectField(
        "How the interview is held",
        choices=[
            SelectChoice("telephone", "Telephone"),
            SelectChoice("video", "Video call"),
            SelectChoice("in_person", "In person"),
        ],
        validators=[Optional()],
    )
    link_location = StringField("Place (in person)", validators=[Optional(), Length(max=500)])
    link_video = URLField("Video call link", validators=[Optional(), Length(max=2000)])
    link_days = IntegerField(
        "Link works for (days)", default=14, validators=[Optional(), NumberRange(1, 90)]
    )
    consent_version = SelectField(
        "Consent form", coerce=coerce_optional_int, validators=[Optional()]
    )
    consent_days = IntegerField(
        "Link works for (days)", default=14, validators=[Optional(), NumberRange(1, 90)]
    )
    disposition = SelectField("Outcome", validators=[Optional()])
    channel = SelectField("How", validators=[Optional()])
    note = StringField("Note", validators=[Optional(), Length(max=2000)])


def bulk_form(study: Study, formdata=None) -> BulkForm:
    """The bulk form with its choices filled for `study`."""
    from fieldwork.accounts.services import bookable_people
    from fieldwork.recruitment.consent_versions import published_versions
    from fieldwork.recruitment.dispositions import Disposition
    from fieldwork.recruitment.models import ContactChannel

    form = BulkForm(formdata=formdata) if formdata is not None else BulkForm()
    people = bookable_people()
    form.assign_to.choices = [SelectChoice("", "Nobody (remove the assignment)")] + [
        SelectChoice(str(u.id), u.name) for u in people
    ]
    form.link_interviewer.choices = [SelectChoice("", "Each one’s assigned interviewer")] + [
        SelectChoice(str(u.id), u.name) for u in people
    ]
    form.consent_version.choices = [SelectChoice("", "Choose a consent form")] + [
        SelectChoice(str(v.id), f"{v.form.title}, version {v.number}")
        for v in published_versions(study)
    ]
    form.disposition.choices = [SelectChoice("", "Choose the outcome")] + [
        SelectChoice(d.value, d.label) for d in Disposition
    ]
    form.channel.choices = [SelectChoice(c.value, c.label) for c in ContactChannel]
    return form


def selected_ids(values: Sequence[str]) -> list[int]:
    """The checked participants' ids; anything that is not a plain number is ignored."""
    ids = {int(value) for value in values if value.isdigit() and len(value) < 10}
    return sorted(ids)[:MAX_SELECTED]


def assign(
    participants: Sequence[Participant], interviewer: User | None, actor: User
) -> BulkResult:
    """Through the assignment service (one transaction, an audit event per change)."""
    from fieldwork.sampling.assignment import assign_interviewer

    assign_interviewer(
        [p.id for p in participants],
        interviewer.id if interviewer else None,
        actor,
        study_id=participants[0].study_id if participants else None,
    )
    return BulkResult(done=[p.reference for p in participants])


def send_booking_links(
    participants: Sequence[Participant],
    interviewer: User | None,
    actor: User,
    url_for_token: Callable[[str], str],
    **options,
) -> BulkResult:
    """One booking link each, emailed; `interviewer` None means each one's assigned one."""
    from fieldwork.accounts.services import interviewers_by_id
    from fieldwork.scheduling.errors import SchedulingError
    from fieldwork.scheduling.links import send_booking_link

    result = BulkResult()
    assigned = interviewers_by_id([p.interviewer_id for p in participants if p.interviewer_id])
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


def send_consent_requests(
    participants: Sequence[Participant],
    version,
    actor: User,
    url_for_token: Callable[[str], str],
    valid_days: int,
) -> BulkResult:
    from fieldwork.recruitment import consent_requests
    from fieldwork.recruitment.status import RecruitmentError

    result = BulkResult()
    for person in participants:
        if not person.email:
            result.skipped.append((person.reference, "no email address"))
            continue
        try:
            consent_requests.send_consent_request(person, version, actor, url_for_token, valid_days)
        except RecruitmentError as error:
            db.session.rollback()
            result.skipped.append((person.reference, str(error)))
        else:
            result.done.append(person.reference)
    return result


def record_outcome(
    participants: Sequence[Participant],
    disposition,
    channel,
    note: str,
    actor: User,
    attempted_at,
) -> BulkResult:
    """A contact attempt each, through the contact log, so the status follows its rules."""
    from fieldwork.recruitment.contacts import log_contact_attempt
    from fieldwork.recruitment.status import RecruitmentError

    result = BulkResult()
    for person in participants:
        try:
            log_contact_attempt(
                person,
                actor,
                attempted_at=attempted_at,
                channel=channel,
                disposition=disposition,
                note=note,
            )
        except RecruitmentError as error:
            db.session.rollback()
            result.skipped.append((person.reference, str(error)))
        else:
            result.done.append(person.reference)
    return result
