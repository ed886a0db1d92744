"""Form pieces shared by the domains."""

from __future__ import annotations

from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes; the `field()` macro renders it as a fieldset."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class Chosen:
    """Like InputRequired for a select whose coerce gives None for 'nothing chosen', without
    the HTML `required` attribute (a select whose first option is a real choice must not
    carry it)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        from wtforms.validators import StopValidation

        if field.data is None:
            raise StopValidation(self.message)


def coerce_optional_int(value) -> int | None:
    """For select fields whose first option is 'any'/'none': '' becomes None."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # never a valid choice: the field reports "Not a valid choice"
