"""The weekly report's recipients form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length


class RecipientsForm(FlaskForm):
    recipients = TextAreaField(
        "Recipients",
        description="Email addresses, one a line, e.g. the funder's project officer.",
        validators=[Length(max=10_000)],
    )
    is_weekly_email = BooleanField(
        "Email the report every week",
        description="Sent after each week ends (Sunday midnight in the study's zone), through "
        "the outbox, with the PDF attached.",
    )
