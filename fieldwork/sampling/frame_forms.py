"""Forms for studies, phases, districts, organisations and roles, and their list filters.

The forms check what a field can check alone (present, a number, a date, not too long); the
rules that involve the database or several fields live in the `sampling.frame` modules, whose
errors the views put beside the field they name.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Form,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import TextInput

from fieldwork.core.forms import MultiCheckboxField, coerce_optional_int
from fieldwork.core.time import timezone_choices
from fieldwork.sampling.models import ORGANISATION_KIND_LABELS

#: SelectChoice objects: WTForms 3.3 deprecates tuples passed to a field's constructor.
KIND_CHOICES = [SelectChoice(kind.value, label) for kind, label in ORGANISATION_KIND_LABELS.items()]
DATE_MESSAGE = "Enter a real date, such as 2008-04-28."


class DayField(DateField):
    """A date picker that never echoes an unreadable value back (`<input type=date>` cannot
    hold one; the message beside the field says what was wrong)."""

    def _value(self) -> str:
        return self.data.isoformat() if self.data else ""


class WholeNumberField(IntegerField):
    """A whole number typed in a text box, as the GOV.UK Design System advises (number inputs
    mangle what people type); what was typed is shown back beside its error."""

    widget = TextInput()

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "spellcheck": "false"})
        super().__init__(*args, **kwargs)


def _required_choice(form: FlaskForm, fields_and_messages) -> bool:
    """Select fields whose '' option passes InputRequired (coerced to None, or kept as '');
    catch them here."""
    ok = True
    for field, message in fields_and_messages:
        if field.data in (None, "") and not field.errors:
            field.errors.append(message)
            ok = False
    return ok


class StudyForm(FlaskForm):
    name = StringField(
        "Name of the study", validators=[InputRequired("Enter the study's name."), Length(max=300)]
    )
    slug = StringField(
        "Short name",
        description="Used in web addresses and on the command line: lower-case "
        "letters, digits and hyphens, such as pl-pathways.",
        validators=[
            InputRequired("Enter a short name, such as pl-pathways."),
            Length(max=60, message="Keep the short name to 60 characters."),
        ],
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    timezone = SelectField(
        "Time zone",
        default="Europe/London",
        description="Interviews are booked and shown in this zone.",
    )
    fieldwork_starts_on = DayField(
        "Fieldwork starts on", validators=[Optional()], invalid_value_message=DATE_MESSAGE
    )
    fieldwork_ends_on = DayField(
        "Fieldwork ends on", validators=[Optional()], invalid_value_message=DATE_MESSAGE
    )
    organiser_name = StringField(
        "Organiser's name",
        description="Invitations come from this person or team.",
        validators=[InputRequired("Enter who invitations come from."), Length(max=200)],
    )
    organiser_email = EmailField(
        "Organiser's email address",
        validators=[
            InputRequired("Enter the email address invitations are sent from."),
            Length(max=254),
        ],
    )
    interview_minutes = WholeNumberField(
        "Length of an interview, in minutes",
        default=60,
        description="Between 15 and 480.",
        validators=[InputRequired("Enter the length of an interview in minutes.")],
        invalid_value_message="Enter a whole number of minutes, such as 60.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class DeleteStudyForm(FlaskForm):
    confirm_name = StringField(
        "Type the name of the study to confirm",
        validators=[InputRequired("Type the study's name exactly as shown to confirm.")],
    )


class PhaseForm(FlaskForm):
    number = WholeNumberField(
        "Phase number",
        description="1, 2, …: how the phase is named in files and references.",
        validators=[InputRequired("Enter the phase number.")],
        invalid_value_message="Enter a whole number, such as 2.",
    )
    name = StringField(
        "Name",
        description="Such as “Phase 2”.",
        validators=[InputRequired("Enter the phase's name."), Length(max=100)],
    )
    go_live_on = DayField(
        "Went live on",
        validators=[Optional()],
        description="The date the phase's districts went live.",
        invalid_value_message=DATE_MESSAGE,
    )


class DistrictForm(FlaskForm):
    name = StringField(
        "Name", validators=[InputRequired("Enter the district's name."), Length(max=200)]
    )
    phase_id = SelectField(
        "Phase", coerce=coerce_optional_int, validators=[InputRequired("Choose a phase.")]
    )
    is_placeholder = BooleanField(
        "Still to be identified",
        description="Tick while the public record does not say which district this is; "
        "untick once you have renamed it.",
    )
    source = TextAreaField(
        "Source",
        description="Where the facts about this district come from.",
        validators=[Optional(), Length(max=10_000)],
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return _required_choice(self, [(self.phase_id, "Choose a phase.")]) and ok


class OrganisationForm(FlaskForm):
    name = StringField(
        "Name", validators=[InputRequired("Enter the organisation's name."), Length(max=200)]
    )
    kind = SelectField(
        "Kind of organisation",
        choices=[SelectChoice("", "Choose a kind"), *KIND_CHOICES],
        validators=[InputRequired("Choose the kind of organisation.")],
    )
    lead_provider_id = SelectField(
        "Lead provider",
        coerce=coerce_optional_int,
        validators=[Optional()],
        description="Only for a sub-contractor: the lead provider it works for.",
    )
    district_ids = MultiCheckboxField("Districts covered", coerce=int, validators=[Optional()])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=10_000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return _required_choice(self, [(self.kind, "Choose the kind of organisation.")]) and ok


class RoleForm(FlaskForm):
    name = StringField(
        "Name",
        description="Such as “JCP Third Party Provision Manager”.",
        validators=[InputRequired("Enter the role's name."), Length(max=200)],
    )
    organisation_kind = SelectField(
        "Kind of organisation",
        description="People in this role work for this kind.",
        choices=[SelectChoice("", "Choose a kind"), *KIND_CHOICES],
        validators=[InputRequired("Choose the kind of organisation.")],
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        kind = self.organisation_kind
        return _required_choice(self, [(kind, "Choose the kind of organisation.")]) and ok


# --- List filters (GET, so no CSRF token) ------------------------------------------------------


class NameSearchForm(Form):
    q = StringField("Search by name", validators=[Optional(), Length(max=200)])


class DistrictFilterForm(NameSearchForm):
    phase = SelectField("Phase", coerce=coerce_optional_int, validators=[Optional()])


class OrganisationFilterForm(NameSearchForm):
    kind = SelectField(
        "Kind", validators=[Optional()], choices=[SelectChoice("", "Any kind"), *KIND_CHOICES]
    )
    district = SelectField("District", coerce=coerce_optional_int, validators=[Optional()])
