"""Forms of recruitment and consent. Consent item checkboxes are added per version, since
each version has its own items."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from fieldwork.core.forms import coerce_optional_int
from fieldwork.recruitment import dispositions
from fieldwork.recruitment.consent_versions import STANDARD_ITEM_KEYS
from fieldwork.recruitment.models import (
    AccessAgreement,
    ConsentFormVersion,
    ConsentMethod,
    ContactChannel,
    DataHandling,
)
from fieldwork.sampling.forms import PHONE_PATTERN

DATE = {"type": "date"}


class ContactAttemptForm(FlaskForm):
    attempted_on = DateField(
        "Date of the attempt",
        format="%Y-%m-%d",
        render_kw=DATE,
        validators=[InputRequired("Enter the date of the attempt, like 2008-05-14.")],
    )
    attempted_time = TimeField(
        "Time",
        format="%H:%M",
        description="In your time zone, 24-hour clock.",
        render_kw={"type": "time"},
        validators=[InputRequired("Enter the time of the attempt, like 14:30.")],
    )
    channel = SelectField(
        "How",
        choices=[SelectChoice("", "Choose how")]
        + [SelectChoice(c.value, c.label) for c in ContactChannel],
        validators=[InputRequired("Choose how you tried to reach them.")],
    )
    disposition = SelectField(
        "Outcome",
        choices=[SelectChoice("", "Choose the outcome")]
        + [SelectChoice(value, label) for value, label in dispositions.choices()],
        description="The outcome decides the participant's recruitment status.",
        validators=[InputRequired("Choose the outcome.")],
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=5000)])
    next_action_on = DateField(
        "Next action due",
        format="%Y-%m-%d",
        render_kw=DATE,
        description="The follow-ups page lists the person from this date. A call back "
        "without a date is due on the next working day.",
        validators=[Optional()],
    )
    #: Set by the confirmation step when the organisation refused or is do-not-contact.
    confirmed = HiddenField(default="")

    def validate_next_action_on(self, field) -> None:
        if field.data and self.attempted_on.data and field.data < self.attempted_on.data:
            from wtforms.validators import ValidationError

            raise ValidationError("The next action cannot be before the attempt.")


class ReferralForm(FlaskForm):
    referred_by = StringField(
        "Referred by (participant reference)",
        description="For example P1-003. Leave empty if they were referred by someone outside "
        "the sample, and say who in the note.",
        validators=[Optional(), Length(max=30)],
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not (self.referred_by.data or "").strip() and not (self.note.data or "").strip():
            self.referred_by.errors.append("Enter who referred them, or a note.")
            return False
        return ok


class OrganisationAccessForm(FlaskForm):
    contact_name = StringField("Contact person", validators=[Optional(), Length(max=200)])
    contact_email = EmailField(
        "Contact's email address",
        validators=[
            Optional(),
            Length(max=254),
            Email("Enter an email address like name@example.org.", check_deliverability=False),
        ],
    )
    contact_phone = StringField(
        "Contact's telephone",
        validators=[
            Optional(),
            Length(max=40),
            Regexp(PHONE_PATTERN, message="Enter a telephone number, like 020 7946 0000."),
        ],
    )
    agreement = SelectField(
        "Has the organisation agreed to its staff being approached?",
        choices=[SelectChoice(a.value, a.label) for a in AccessAgreement],
        # No InputRequired: it renders `required`, which HTML forbids on a select
        # whose first option has a value; the field still refuses anything not listed.
        validators=[],
    )
    agreed_on = DateField(
        "Date of the decision", format="%Y-%m-%d", render_kw=DATE, validators=[Optional()]
    )
    is_do_not_contact = BooleanField(
        "Do not contact anyone at this organisation",
        description="The contact log asks for confirmation before an attempt is logged.",
    )
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])

    def validate_agreed_on(self, field) -> None:
        if field.data and self.agreement.data == AccessAgreement.UNKNOWN.value:
            from wtforms.validators import ValidationError

            raise ValidationError("Choose whether they agreed or refused, or clear the date.")


class ConsentFormFields(FlaskForm):
    """A version's text and its four usual items (an item with no text is left out)."""

    text = TextAreaField(
        "Information for the participant",
        description="Plain language. Leave a blank line between paragraphs.",
        validators=[InputRequired("Write the information text."), Length(max=50_000)],
    )


def _add_item_fields(form_class: type) -> type:
    for key, label in STANDARD_ITEM_KEYS.items():
        setattr(
            form_class,
            f"item_{key}_text",
            TextAreaField(
                f"{label}: what the participant agrees to",
                description="Leave empty to leave this item out.",
                validators=[Optional(), Length(max=2000)],
            ),
        )
        setattr(
            form_class,
            f"item_{key}_required",
            BooleanField(f"{label}: required for consent"),
        )
    return form_class


@_add_item_fields
class ConsentVersionForm(ConsentFormFields):
    pass


@_add_item_fields
class NewConsentFormForm(ConsentFormFields):
    title = StringField(
        "Title", validators=[InputRequired("Give the form a title."), Length(max=200)]
    )


def item_fields(form: FlaskForm) -> list[tuple]:
    """(key, text field, required field) for each standard item of a version form."""
    return [
        (key, getattr(form, f"item_{key}_text"), getattr(form, f"item_{key}_required"))
        for key in STANDARD_ITEM_KEYS
    ]


class ConsentLinkForm(FlaskForm):
    version_id = SelectField(
        "Consent form version",
        coerce=coerce_optional_int,
        validators=[InputRequired("Choose a version.")],
    )
    valid_days = IntegerField(
        "Days the link works",
        default=14,
        validators=[
            InputRequired("Enter for how many days the link works."),
            NumberRange(1, 90, "Enter a number of days from 1 to 90."),
        ],
    )


def answer_field_name(key: str) -> str:
    return f"item_{key}"


def consent_form_for(version: ConsentFormVersion, online: bool, **kwargs) -> FlaskForm:
    """A form with one checkbox per item of `version` (and the typed name when online)."""

    class RecordConsentForm(FlaskForm):
        pass

    for item in version.items:
        setattr(
            RecordConsentForm,
            answer_field_name(item.key),
            BooleanField(
                item.text, description="Required to take part." if item.is_required else None
            ),
        )
    if online:
        RecordConsentForm.typed_name = StringField(
            "Type your full name to sign",
            validators=[InputRequired("Type your full name to sign."), Length(max=200)],
        )
    else:
        RecordConsentForm.method = SelectField(
            "How was consent given?",
            choices=[SelectChoice("", "Choose how")]
            + [SelectChoice(m.value, m.label) for m in ConsentMethod if m != ConsentMethod.ONLINE],
            validators=[InputRequired("Choose how consent was given.")],
        )
        RecordConsentForm.given_on = DateField(
            "Date given",
            format="%Y-%m-%d",
            render_kw=DATE,
            validators=[InputRequired("Enter the date consent was given.")],
        )
        RecordConsentForm.typed_name = StringField(
            "Name as signed",
            description="Optional: the name written on a signed form.",
            validators=[Optional(), Length(max=200)],
        )
    return RecordConsentForm(**kwargs)


class WithdrawalForm(FlaskForm):
    reason = TextAreaField(
        "Reason (optional)",
        validators=[Optional(), Length(max=2000)],
        description="Nobody has to give a reason.",
    )
    data_handling = SelectField(
        "What should happen to what was already gathered?",
        choices=[SelectChoice("", "Choose one")]
        + [SelectChoice(d.value, d.label) for d in DataHandling],
        validators=[InputRequired("Choose what happens to the data already gathered.")],
    )


class EraseForm(FlaskForm):
    confirm = BooleanField(
        "I understand that the name, contact details and notes are removed for good",
        validators=[InputRequired("Tick the box to confirm the erasure.")],
    )


class VersionChoiceForm(FlaskForm):
    """Which version consent is being recorded against (GET, first step)."""

    version_id = SelectField(
        "Consent form version",
        coerce=coerce_optional_int,
        validators=[InputRequired("Choose a version.")],
    )


def online_consent_form_for(version: ConsentFormVersion, **kwargs) -> FlaskForm:
    """The participant's own consent form: each item a yes/no question that must be answered
    (a required item must be answered yes), and the typed name. Every problem is reported at
    once, beside its question and in the summary."""

    class OnlineConsentForm(FlaskForm):
        pass

    for number, item in enumerate(version.items, start=1):
        validators = [InputRequired(f"Answer question {number}: choose yes or no.")]
        if item.is_required:
            validators.append(_must_agree(number))
        setattr(
            OnlineConsentForm,
            answer_field_name(item.key),
            RadioField(
                item.text,
                choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
                description="You need to answer yes to take part." if item.is_required else None,
                validators=validators,
            ),
        )
    OnlineConsentForm.typed_name = StringField(
        "Type your full name to sign",
        validators=[InputRequired("Type your full name to sign."), Length(max=200)],
    )
    return OnlineConsentForm(**kwargs)


def _must_agree(number: int):
    def check(form, field) -> None:
        if field.data == "no":
            raise ValidationError(
                f"Question {number} must be yes to take part. If you would rather not take "
                "part, you do not need to do anything."
            )

    return check
