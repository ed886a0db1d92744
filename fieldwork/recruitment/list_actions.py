"""What recruitment adds to sampling's participant list: the "send consent requests" and
"record an outcome" bulk actions, and the download of the listed people's contact attempts.

Sampling sits below recruitment, so the list offers these through its registries
(sampling.bulk); `init_app` registers them. Each person goes through the service a single
action uses (the consent request, the contact log), so its rules and audit hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from flask import Flask, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from fieldwork.accounts.access import coordinator_required
from fieldwork.accounts.models import User
from fieldwork.audit.services import record_download
from fieldwork.core.downloads import csv_download
from fieldwork.core.forms import coerce_optional_int
from fieldwork.core.studies import require_study
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.recruitment import consent_requests, lists
from fieldwork.recruitment.consent_versions import get_version, published_versions
from fieldwork.recruitment.contacts import log_contact_attempt
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.models import ConsentFormVersion, ContactChannel
from fieldwork.recruitment.status import RecruitmentError
from fieldwork.recruitment.views import blueprint
from fieldwork.sampling import bulk
from fieldwork.sampling import services as sampling
from fieldwork.sampling.models import Participant, Study
from fieldwork.sampling.views import list_filters


@blueprint.get("/contact-attempts.csv")
@coordinator_required
def contact_attempts_csv():
    """The contact attempts of the participants the list is filtered to."""
    study = require_study()
    _form, filters = list_filters(study)
    participants = sampling.participant_query(study, filters, current_user)
    record_download(current_user, study.id, "the contact attempts as CSV")
    return csv_download(
        f"contact-attempts-{study.slug}",
        lists.CONTACT_CSV_HEADER,
        lists.contact_attempt_rows(participants, study.timezone),
    )


def send_consent_requests(
    participants: Sequence[Participant],
    version: ConsentFormVersion,
    actor: User,
    url_for_token: Callable[[str], str],
    valid_days: int,
) -> bulk.BulkResult:
    """A consent link each, emailed; people without an email address are skipped."""
    result = bulk.BulkResult()
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
    disposition: Disposition,
    channel: ContactChannel,
    note: str,
    actor: User,
    attempted_at: dt.datetime,
) -> bulk.BulkResult:
    """A contact attempt each, through the contact log, so the status follows its rules."""
    result = bulk.BulkResult()
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


def _fill_consent(form: FlaskForm, study: Study) -> None:
    form.consent_version.choices = [SelectChoice("", "Choose a consent form")] + [
        SelectChoice(str(v.id), f"{v.form.title}, version {v.number}")
        for v in published_versions(study)
    ]


def _bulk_consent_requests(
    study: Study, form: FlaskForm, chosen: list[Participant]
) -> bulk.BulkOutcome:
    version = get_version(form.consent_version.data, study) if form.consent_version.data else None
    if version is None or not version.is_published:
        return "Choose the consent form to send.", None, ""
    if form.consent_days.errors:
        return "A consent link can last from 1 to 90 days.", None, ""
    result = send_consent_requests(
        chosen,
        version,
        current_user,
        lambda token: url_for("recruitment.online_consent", token=token, _external=True),
        form.consent_days.data or 14,
    )
    return None, result, "Consent request emailed"


def _fill_outcome(form: FlaskForm, study: Study) -> None:
    form.disposition.choices = [SelectChoice("", "Choose the outcome")] + [
        SelectChoice(d.value, d.label) for d in Disposition
    ]
    form.channel.choices = [SelectChoice(c.value, c.label) for c in ContactChannel]


def _bulk_outcome(study: Study, form: FlaskForm, chosen: list[Participant]) -> bulk.BulkOutcome:
    if form.disposition.data not in {d.value for d in Disposition}:
        return "Choose the outcome to record.", None, ""
    if form.channel.data not in {c.value for c in ContactChannel} or form.note.errors:
        return "Choose how they were contacted (and keep the note short).", None, ""
    disposition = Disposition(form.disposition.data)
    result = record_outcome(
        chosen,
        disposition,
        ContactChannel(form.channel.data),
        form.note.data or "",
        current_user,
        now_utc(),
    )
    return None, result, f"“{disposition.label}” recorded"


CONSENT_REQUESTS = bulk.BulkAction(
    name="consent_requests",
    legend="Send consent requests by email",
    button="Send consent requests",
    order=30,
    fields={
        "consent_version": SelectField(
            "Consent form", coerce=coerce_optional_int, validators=[Optional()]
        ),
        "consent_days": IntegerField(
            "Link works for (days)", default=14, validators=[Optional(), NumberRange(1, 90)]
        ),
    },
    fill=_fill_consent,
    handle=_bulk_consent_requests,
)

OUTCOME = bulk.BulkAction(
    name="status",
    legend="Record an outcome (changes the status by its rule)",
    button="Record the outcome",
    order=40,
    fields={
        "disposition": SelectField("Outcome", validators=[Optional()]),
        "channel": SelectField("How", validators=[Optional()]),
        "note": StringField("Note", validators=[Optional(), Length(max=2000)]),
    },
    fill=_fill_outcome,
    handle=_bulk_outcome,
)

CONTACT_ATTEMPTS = bulk.ListDownload(
    element_id="download-contacts-csv",
    label="Download their contact attempts as CSV",
    endpoint="recruitment.contact_attempts_csv",
    order=10,
)


def init_app(app: Flask) -> None:
    """Offer the bulk actions and the download under the participant list."""
    bulk.register_bulk_action(app, CONSENT_REQUESTS)
    bulk.register_bulk_action(app, OUTCOME)
    bulk.register_list_download(app, CONTACT_ATTEMPTS)
