"""The export page's form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from fieldwork.exports.datapackage import DatePrecision


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
