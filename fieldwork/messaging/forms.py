"""The form that edits one kind of message."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from fieldwork.messaging.templating import MAX_TEMPLATE_LENGTH


class MessageTemplateForm(FlaskForm):
    subject = StringField(
        "Subject",
        validators=[InputRequired("Enter the subject."), Length(max=1000)],
    )
    body = TextAreaField(
        "Text",
        description="Plain text; a blank line starts a new paragraph.",
        validators=[InputRequired("Enter the text."), Length(max=MAX_TEMPLATE_LENGTH)],
        render_kw={"rows": 18},
    )
