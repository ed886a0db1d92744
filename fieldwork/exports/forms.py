"""The export page's form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import TextInput

from fieldwork.core.forms import MultiCheckboxField
from fieldwork.exports.models import QUASI_IDENTIFIER_LABELS, QUASI_IDENTIFIERS
from fieldwork.exports.package import DatePrecision


class ChoiceField(SelectField):
    """A select whose refusal of a value not offered says, in words, what to do.

    No `required` attribute: each select always has a value chosen, and a required select
    would need an empty first option (HTML's rule) that nobody should pick.
    """

    def __init__(self, *args, message: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.message = message

    def pre_validate(self, form) -> None:
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(self.message)


class ExportForm(FlaskForm):
    """Which study to export and how exact its dates are; sent with GET (it changes nothing)."""

    class Meta:
        csrf = False

    study = ChoiceField("Study", message="Choose one of the studies listed.")
    coarsen = ChoiceField(
        "Dates of contacts, consents and interviews",
        message="Choose the exact day, the week or the month.",
        choices=[SelectChoice(precision.value, precision.label) for precision in DatePrecision],
        default=DatePrecision.DAY.value,
        description=(
            "In a small district the exact day of an interview can identify someone: "
            "coarsen the dates to the week or the month for a public deposit."
        ),
    )


class ExportSettingsForm(FlaskForm):
    """What the participants file may say about each person, and the minimum cell size."""

    included = MultiCheckboxField(
        "What the participants file may show about each person",
        choices=[SelectChoice(name, QUASI_IDENTIFIER_LABELS[name]) for name in QUASI_IDENTIFIERS],
        validators=[Optional()],
        description=(
            "Together these can identify someone. Whatever you tick is checked so that no "
            "combination describes fewer people than the minimum below."
        ),
    )
    min_cell_size = IntegerField(
        "Fewest people any combination may describe (k)",
        widget=TextInput(),
        render_kw={"inputmode": "numeric", "spellcheck": "false"},
        validators=[
            InputRequired("Enter the fewest people a combination may describe, such as 5."),
            NumberRange(1, 100, "Enter a whole number from 1 to 100, such as 5."),
        ],
        description="5 is a common choice; 1 turns the check off.",
    )
