"""The audit page's filters (read from the query string, so no CSRF token)."""

from __future__ import annotations

from wtforms import DateField, Form, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from fieldwork.core.forms import coerce_optional_int


class EventFilterForm(Form):
    action = SelectField("Action", validators=[Optional()])
    reference = StringField(
        "Participant reference",
        description="For example P1-017",
        validators=[Optional(), Length(max=30, message="A reference is at most 30 characters.")],
    )
    actor = SelectField("Changed by", coerce=coerce_optional_int, validators=[Optional()])
    date_from = DateField(
        "From",
        validators=[Optional()],
        format="%Y-%m-%d",
        render_kw={"type": "date"},
    )
    date_to = DateField(
        "To", validators=[Optional()], format="%Y-%m-%d", render_kw={"type": "date"}
    )

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date must be on or after the start date.")
