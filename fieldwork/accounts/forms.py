"""Forms for logging in, the account page and managing users."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from fieldwork.accounts.models import TokenScope, UserRole
from fieldwork.accounts.passwords import MINIMUM_LENGTH, password_problem
from fieldwork.core.time import is_offered_timezone, timezone_choices

ROLE_CHOICES = [
    SelectChoice(UserRole.COORDINATOR.value, "Coordinator"),
    SelectChoice(UserRole.INTERVIEWER.value, "Interviewer"),
]


def _valid_timezone(form, field) -> None:
    if not is_offered_timezone(field.data or ""):
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
    #: Read only comes first and is chosen unless the person asks for more (a form sent
    #: without the field gets it too).
    scope = RadioField(
        "What may the token do?",
        choices=[
            SelectChoice(TokenScope.READ.value, "Read only: lists and single items"),
            SelectChoice(
                TokenScope.WRITE.value,
                "Read and write: also add and change participants, contact attempts, consent, "
                "appointments and links",
            ),
        ],
        default=TokenScope.READ.value,
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


PASSWORD_HINT = (
    f"At least {MINIMUM_LENGTH} characters; not a common password, your email address or your "
    "name. A few unrelated words make a good one."
)


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password.")]
    )
    new_password = PasswordField(
        "New password",
        description=PASSWORD_HINT,
        validators=[InputRequired("Enter a new password.")],
    )
    confirm_password = PasswordField(
        "Repeat the new password",
        validators=[
            InputRequired("Repeat the new password."),
            EqualTo("new_password", message="The two passwords differ."),
        ],
    )


def _person_fields(email_description: str = "") -> tuple:
    """The name, email address, role and time zone of a person being added or edited, in
    that order (the time zone's choices are set when the form is made)."""
    return (
        StringField(
            "Full name", validators=[InputRequired("Enter the person's name."), Length(max=200)]
        ),
        EmailField(
            "Email address",
            description=email_description,
            validators=[
                InputRequired("Enter an email address."),
                Length(max=254),
                Email("Enter an email address like name@example.org.", check_deliverability=False),
            ],
        ),
        SelectField(
            "Role in this study",
            choices=ROLE_CHOICES,
            default=UserRole.INTERVIEWER.value,
            description="Interviewers see and work on the people assigned to them; "
            "coordinators run the whole study.",
        ),
        SelectField("Time zone", validators=[_valid_timezone], default="Europe/London"),
    )


class UserForm(FlaskForm):
    name, email, role, timezone = _person_fields()
    is_enabled = BooleanField("Can log in", default=True)
    is_administrator = BooleanField(
        "Administrator",
        description="Manages studies and users across the installation.",
        default=False,
    )
    password = PasswordField(
        "Password",
        description=PASSWORD_HINT + " Leave empty to keep the current password.",
        validators=[Length(max=500)],
    )

    def __init__(
        self,
        *args,
        require_password: bool = False,
        can_make_administrators: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()
        self.require_password = require_password
        if not can_make_administrators:
            del self.is_administrator

    def administrator_choice(self) -> bool | None:
        """The Administrator box's answer, or None when this viewer was not offered it."""
        field = self._fields.get("is_administrator")
        return None if field is None else bool(field.data)

    def validate_password(self, field) -> None:
        if self.require_password and not field.data:
            raise ValidationError("Enter a password for the new user.")
        if field.data:
            problem = password_problem(
                field.data, email=self.email.data or "", name=self.name.data or ""
            )
            if problem:
                raise ValidationError(problem)


class InviteForm(FlaskForm):
    name, email, role, timezone = _person_fields(
        email_description="The invitation, with a link to choose a password, goes here."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email address",
        description="The address you log in with.",
        validators=[InputRequired("Enter your email address."), Length(max=254)],
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        description=PASSWORD_HINT,
        validators=[InputRequired("Enter a password."), Length(max=500)],
    )
    confirm_password = PasswordField(
        "Repeat the password",
        validators=[
            InputRequired("Repeat the password."),
            EqualTo("password", message="The two passwords differ."),
        ],
    )
