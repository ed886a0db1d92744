"""Forms of the reminder pages: the study's settings, the list filter, the resend button."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, SelectField, StringField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from fieldwork.messaging import templating
from fieldwork.reminders import services
from fieldwork.reminders import settings as reminder_settings
from fieldwork.reminders.models import ReminderSettings, ReminderState


def _offsets(form, field) -> None:
    try:
        field.parsed = reminder_settings.parse_offsets(field.data or "")
    except reminder_settings.ReminderError as error:
        raise ValidationError(str(error)) from error


def _template_syntax(form, field) -> None:
    problem = templating.check_syntax(field.data or "")
    if problem:
        raise ValidationError(problem)


_TEMPLATE = [Length(max=templating.MAX_TEMPLATE_LENGTH), _template_syntax]


class ReminderSettingsForm(FlaskForm):
    offsets = StringField(
        "Send reminders this many minutes before the interview",
        description="Whole numbers, separated by commas: 2880 is 2 days, 120 is 2 hours.",
        validators=[
            InputRequired("Give at least one number of minutes, e.g. 2880, 120."),
            _offsets,
        ],
    )
    is_for_interviewer = BooleanField("Remind the interviewer")
    is_for_participant = BooleanField(
        "Remind the participant", description="Only participants with an email address."
    )
    interviewer_subject = StringField(
        "Interviewer's subject",
        validators=[InputRequired("Give the subject of the interviewer's reminder."), *_TEMPLATE],
    )
    interviewer_body = TextAreaField(
        "Interviewer's text",
        validators=[InputRequired("Give the text of the interviewer's reminder."), *_TEMPLATE],
    )
    participant_subject = StringField(
        "Participant's subject",
        validators=[InputRequired("Give the subject of the participant's reminder."), *_TEMPLATE],
    )
    participant_body = TextAreaField(
        "Participant's text",
        validators=[InputRequired("Give the text of the participant's reminder."), *_TEMPLATE],
    )

    def fill(self, settings: ReminderSettings) -> None:
        self.offsets.data = ", ".join(str(value) for value in settings.offsets)
        for name in ("is_for_interviewer", "is_for_participant", *templating.DEFAULTS):
            getattr(self, name).data = getattr(settings, name)

    def values(self) -> reminder_settings.SettingsInput:
        """What was entered (offsets empty when they are not valid: the field says why)."""
        return reminder_settings.SettingsInput(
            offsets=getattr(self.offsets, "parsed", None) or [],
            is_for_interviewer=bool(self.is_for_interviewer.data),
            is_for_participant=bool(self.is_for_participant.data),
            interviewer_subject=self.interviewer_subject.data or "",
            interviewer_body=self.interviewer_body.data or "",
            participant_subject=self.participant_subject.data or "",
            participant_body=self.participant_body.data or "",
        )


STATE_CHOICES = (
    [SelectChoice("", "Any state")]
    + [SelectChoice(state.value, state.label) for state in ReminderState]
    + [SelectChoice(services.INTERRUPTED, "Interrupted (sent or not?)")]
)


class ReminderFilterForm(Form):
    """Read from the query string (GET, so no CSRF token)."""

    state = SelectField("State", choices=STATE_CHOICES, default="")


class ResendForm(FlaskForm):
    """The one-click resend; a form only so it carries a CSRF token."""
