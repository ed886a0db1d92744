"""Forms for logging in, the account page and managing users."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from fieldwork.accounts.models import UserRole
from fieldwork.core.time import is_valid_timezone, timezone_choices

ROLE_CHOICES = [
    SelectChoice(UserRole.COORDINATOR.value, "Coordinator"),
    SelectChoice(UserRole.INTERVIEWER.value, "Interviewer"),
]


def _valid_timezone(form, field) -> None:
    if not is_valid_timezone(field.data or ""):
        raise ValidationError("Choose a time zone from the list.")


class LoginForm(FlaskForm):
    email = EmailField(
        "Email address", validators=[InputRequired("Enter your email address."), Length(max=254)]
    )
    password = PasswordField(
        "Password", validators=[InputRequired("Enter your password."), Length(max=500)]
    )
    remember = BooleanField("Keep me logged in on this device")


class TokenForm(FlaskForm):
    label = StringField(
        "What is this token for?",
        description="A name to tell your tokens apart, such as “analysis laptop”.",
        validators=[Length(max=100, message="Keep the name under 100 characters.")],
    )


class PreferencesForm(FlaskForm):
    name = StringField("Full name", validators=[InputRequired("Enter your name."), Length(max=200)])
    timezone = SelectField(
        "Time zone",
        description="Dates and times are shown to you in this zone.",
        validators=[_valid_timezone],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password.")]
    )
    new_password = PasswordField(
        "New password",
        description="At least 8 characters.",
        validators=[
            InputRequired("Enter a new password."),
            Length(min=8, max=500, message="Use at least 8 characters."),
        ],
    )
    confirm_password = PasswordField(
        "Repeat the new password",
        validators=[
            InputRequired("Repeat the new password."),
            EqualTo("new_password", message="The two passwords differ."),
        ],
    )


class UserForm(FlaskForm):
    name = StringField(
        "Full name", validators=[InputRequired("Enter the person's name."), Length(max=200)]
    )
    email = EmailField(
        "Email address",
        validators=[
            InputRequired("Enter an email address."),
            Length(max=254),
            Email("Enter an email address like name@example.org.", check_deliverability=False),
        ],
    )
    role = SelectField("Role", choices=ROLE_CHOICES)
    timezone = SelectField("Time zone", validators=[_valid_timezone], default="Europe/London")
    is_enabled = BooleanField("Can log in", default=True)
    password = PasswordField(
        "Password",
        description="At least 8 characters. Leave empty to keep the current password.",
        validators=[Length(max=500)],
    )

    def __init__(self, *args, require_password: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()
        self.require_password = require_password

    def validate_password(self, field) -> None:
        if self.require_password and not field.data:
            raise ValidationError("Enter a password for the new user.")
        if field.data and len(field.data) < 8:
            raise ValidationError("Use at least 8 characters.")
