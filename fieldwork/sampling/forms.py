"""Forms for participants and for filtering the participant list."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, Form, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp

from fieldwork.core.forms import coerce_optional_int
from fieldwork.sampling.models import ORGANISATION_KIND_LABELS, RecruitmentStatus

PHONE_PATTERN = r"^[0-9+() .\-]*$"


class ParticipantForm(FlaskForm):
    name = StringField(
        "Full name", validators=[InputRequired("Enter the person's name."), Length(max=200)]
    )
    job_title = StringField("Job title", validators=[Optional(), Length(max=200)])
    organisation_id = SelectField(
        "Organisation",
        coerce=coerce_optional_int,
        validators=[InputRequired("Choose an organisation.")],
    )
    role_id = SelectField(
        "Stakeholder role",
        coerce=coerce_optional_int,
        description="The role must suit the kind of organisation.",
        validators=[InputRequired("Choose a role.")],
    )
    district_id = SelectField(
        "District", coerce=coerce_optional_int, validators=[InputRequired("Choose a district.")]
    )
    interviewer_id = SelectField(
        "Assigned interviewer",
        coerce=coerce_optional_int,
        description="The interviewer can see and work on this person.",
        validators=[Optional()],
    )
    email = EmailField(
        "Email address",
        validators=[
            Optional(),
            Length(max=254),
            Email("Enter an email address like name@example.org.", check_deliverability=False),
        ],
    )
    phone = StringField(
        "Telephone",
        description="Digits, spaces and + ( ) - only.",
        validators=[
            Optional(),
            Length(max=40, message="Keep the number under 40 characters."),
            Regexp(PHONE_PATTERN, message="Enter a telephone number, like 020 7946 0000."),
        ],
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=10_000)])

    def validate(self, extra_validators=None) -> bool:
        # Select fields with coerce -> None pass InputRequired on ''; check again here.
        ok = super().validate(extra_validators)
        for field, message in (
            (self.organisation_id, "Choose an organisation."),
            (self.role_id, "Choose a role."),
            (self.district_id, "Choose a district."),
        ):
            if field.data is None and not field.errors:
                field.errors.append(message)
                ok = False
        return ok


class ParticipantFilterForm(Form):
    """The list's filters, read from the query string (GET, so no CSRF token)."""

    q = StringField(
        "Search",
        description="Name, reference, email or job title",
        validators=[Optional(), Length(max=200)],
    )
    phase = SelectField("Phase", coerce=coerce_optional_int, validators=[Optional()])
    district = SelectField("District", coerce=coerce_optional_int, validators=[Optional()])
    role = SelectField("Role", coerce=coerce_optional_int, validators=[Optional()])
    kind = SelectField(
        "Organisation kind",
        validators=[Optional()],
        choices=[SelectChoice("", "Any kind")]
        + [SelectChoice(kind.value, label) for kind, label in ORGANISATION_KIND_LABELS.items()],
    )
    organisation = SelectField("Organisation", coerce=coerce_optional_int, validators=[Optional()])
    status = SelectField(
        "Status",
        validators=[Optional()],
        choices=[SelectChoice("", "Any status")]
        + [SelectChoice(status.value, status.label) for status in RecruitmentStatus],
    )
