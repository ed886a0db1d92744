"""Forms of the outbox page: the list filter and the retry button."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Form, SelectField
from wtforms.fields.choices import SelectChoice

from fieldwork.outbox.models import OutboxKind, OutboxState


class OutboxFilterForm(Form):
    """Filters read from the query string (GET, so no CSRF token)."""

    state = SelectField(
        "State",
        choices=[SelectChoice("", "Any state")]
        + [SelectChoice(state.value, state.label) for state in OutboxState],
        default="",
    )
    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "Any kind")]
        + [SelectChoice(kind.value, kind.label) for kind in OutboxKind],
        default="",
    )


class RetryForm(FlaskForm):
    """The resend button; a form only so it carries a CSRF token."""
