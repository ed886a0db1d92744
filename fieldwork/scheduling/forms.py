"""Forms for booking, moving, cancelling and recording interviews, and for availability."""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    Form,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from fieldwork.core.forms import Chosen, coerce_optional_int
from fieldwork.scheduling.checks import MAX_MINUTES, MAX_TRAVEL_MINUTES
from fieldwork.scheduling.models import (
    OUTCOME_STATUSES,
    WEEKDAY_NAMES,
    AppointmentMode,
    AppointmentStatus,
)

MODE_CHOICES = [SelectChoice(mode.value, mode.label) for mode in AppointmentMode]


def _web_address(form, field) -> None:
    """Only http(s) links: a calendar client or a browser will open them."""
    if field.data and not field.data.lower().startswith(("http://", "https://")):
        raise ValidationError("Enter a web address starting with https:// or http://.")


def _add_error(field, message: str) -> None:
    """Add an error found by a form-level check (field.errors may be a tuple before validation)."""
    field.errors = [*field.errors, message]


def _mode_field() -> RadioField:
    return RadioField(
        "How the interview is held",
        choices=MODE_CHOICES,
        default=AppointmentMode.TELEPHONE.value,
        validators=[InputRequired("Choose how the interview is held.")],
    )


def _video_link_field() -> URLField:
    return URLField("Video call link", validators=[Optional(), Length(max=2000), _web_address])


def _has_place_if_in_person(form) -> bool:
    """In person needs a place (checked at form level: the field's Optional() skips its own
    checks when it is empty)."""
    in_person = form.mode.data == AppointmentMode.IN_PERSON.value
    if in_person and not (form.location.data or "").strip():
        _add_error(form.location, "Enter the place for an in-person interview.")
        return False
    return True


class _TimeFields:
    starts_on = DateField(
        "Date", validators=[InputRequired("Enter the date, for example 30/03/2026.")]
    )
    starts_time = TimeField(
        "Start time",
        description="24-hour clock, for example 14:30.",
        validators=[InputRequired("Enter the start time, for example 10:00.")],
    )
    minutes = IntegerField(
        "Length in minutes",
        validators=[
            InputRequired("Enter the length in minutes."),
            NumberRange(5, MAX_MINUTES, f"Enter a length from 5 to {MAX_MINUTES} minutes."),
        ],
    )
    confirm = BooleanField(
        "Book anyway",
        description="Tick to book although the warning above applies.",
    )


class AppointmentForm(_TimeFields, FlaskForm):
    """A booking: a free slot of the interviewer's, or a typed date and time."""

    interviewer_id = SelectField(
        "Interviewer",
        coerce=coerce_optional_int,
        validators=[InputRequired("Choose the interviewer.")],
        render_kw={"data-reload-with": "show-slots"},
    )
    slot = RadioField(
        "Free times",
        choices=[],
        validate_choice=False,
        validators=[Optional()],
    )
    starts_on = DateField("Date", validators=[Optional()])
    starts_time = TimeField(
        "Start time",
        description="24-hour clock, for example 14:30.",
        validators=[Optional()],
    )
    already_took_place = BooleanField(
        "Record an interview that already took place",
        description="For an interview held before it was booked here: its time is in the "
        "past, and no invitations or reminders are sent.",
    )
    mode = _mode_field()
    location = StringField(
        "Place",
        description="For an in-person interview: the address or room.",
        validators=[Optional(), Length(max=500)],
    )
    video_link = _video_link_field()
    travel_minutes_before = IntegerField(
        "Travel time there (minutes)",
        default=0,
        description="In person only: blocks the interviewer before the interview.",
        validators=[
            Optional(),
            NumberRange(0, MAX_TRAVEL_MINUTES, f"Enter 0 to {MAX_TRAVEL_MINUTES} minutes."),
        ],
    )
    travel_minutes_after = IntegerField(
        "Travel time back (minutes)",
        default=0,
        description="In person only: blocks the interviewer after the interview.",
        validators=[
            Optional(),
            NumberRange(0, MAX_TRAVEL_MINUTES, f"Enter 0 to {MAX_TRAVEL_MINUTES} minutes."),
        ],
    )
    notes = TextAreaField("Notes for the interviewer", validators=[Optional(), Length(max=4000)])

    def validate(self, extra_validators=None) -> bool:
        """A time (a free slot or a typed date and time, not both); in person needs a place
        (checked here: Optional() skips the fields' own checks)."""
        valid = super().validate(extra_validators)
        valid = _has_place_if_in_person(self) and valid
        typed = bool(self.starts_on.data or self.starts_time.data)
        if self.slot.data and typed:
            _add_error(self.slot, "Choose a free time or type a date and time, not both.")
            valid = False
        elif self.slot.data and self.chosen_slot() is None:
            _add_error(self.slot, "Choose one of the free times shown.")
            valid = False
        elif not self.slot.data:
            if not self.starts_on.data and not self.starts_on.errors:
                _add_error(
                    self.starts_on, "Choose a free time, or enter the date, for example 30/03/2026."
                )
                valid = False
            if not self.starts_time.data and not self.starts_time.errors:
                _add_error(self.starts_time, "Enter the start time, for example 10:00.")
                valid = False
        return valid

    def chosen_slot(self) -> dt.datetime | None:
        """The chosen free slot as an aware datetime (its value is an ISO time in UTC)."""
        try:
            moment = dt.datetime.fromisoformat(self.slot.data or "")
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else None


class RescheduleForm(_TimeFields, FlaskForm):
    pass


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        description="Sent to the interviewer and the participant with the cancellation.",
        validators=[Optional(), Length(max=1000)],
    )


class OutcomeForm(FlaskForm):
    status = RadioField(
        "What happened",
        choices=[SelectChoice(s.value, s.label) for s in OUTCOME_STATUSES],
        validators=[InputRequired("Choose what happened.")],
    )
    actual_minutes = IntegerField(
        "Length in minutes",
        description="For a held interview: how long it really lasted.",
        validators=[
            Optional(),
            NumberRange(1, MAX_MINUTES, f"Enter a length from 1 to {MAX_MINUTES} minutes."),
        ],
    )
    is_recorded = RadioField(
        "Was it audio-recorded?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        validators=[Optional()],
    )

    def validate_actual_minutes(self, field) -> None:
        if self.status.data == AppointmentStatus.HELD.value and field.data is None:
            raise ValidationError("Enter how long the interview lasted.")

    def validate_is_recorded(self, field) -> None:
        if self.status.data == AppointmentStatus.HELD.value and field.data not in ("yes", "no"):
            raise ValidationError("Say whether the interview was recorded.")


class CalendarFilterForm(Form):
    """The calendar's filters (a GET form: no CSRF token)."""

    interviewer = SelectField("Interviewer", coerce=coerce_optional_int, validators=[Optional()])
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")]
        + [SelectChoice(s.value, s.label) for s in AppointmentStatus],
        validators=[Optional()],
    )


class AppointmentFilterForm(CalendarFilterForm):
    """The appointment list's filters: the calendar's, and a range of dates."""

    from_date = DateField("From", validators=[Optional()])
    to_date = DateField("To", validators=[Optional()])

    def validate_to_date(self, field) -> None:
        if field.data and self.from_date.data and field.data < self.from_date.data:
            raise ValidationError("The end date must not be before the start date.")


class WindowForm(FlaskForm):
    interviewer_id = SelectField(
        "Interviewer", coerce=coerce_optional_int, validators=[Chosen("Choose who.")]
    )
    weekday = SelectField(
        "Day of the week",
        coerce=coerce_optional_int,
        choices=[SelectChoice("", "Choose a day")]
        + [SelectChoice(str(number), name) for number, name in enumerate(WEEKDAY_NAMES)],
        validators=[InputRequired("Choose a day of the week.")],
    )
    starts_time = TimeField(
        "From",
        description="24-hour clock, e.g. 09:00.",
        validators=[InputRequired("Enter the start time.")],
    )
    ends_time = TimeField(
        "Until",
        description="24-hour clock, e.g. 17:00.",
        validators=[InputRequired("Enter the end time.")],
    )
    valid_from = DateField(
        "First date",
        description="Optional: leave empty for from now on.",
        validators=[Optional()],
    )
    valid_until = DateField(
        "Last date", description="Optional: leave empty for no end.", validators=[Optional()]
    )

    def validate_weekday(self, field) -> None:
        if field.data is None or not 0 <= field.data <= 6:
            raise ValidationError("Choose a day of the week.")

    def validate_ends_time(self, field) -> None:
        if field.data and self.starts_time.data and field.data <= self.starts_time.data:
            raise ValidationError("The end must be after the start.")

    def validate_valid_until(self, field) -> None:
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError("The last date must not be before the first date.")


class BusyCalendarForm(FlaskForm):
    interviewer_id = SelectField(
        "Interviewer", coerce=coerce_optional_int, validators=[Chosen("Choose who.")]
    )
    name = StringField(
        "Name",
        description="For you, e.g. “Work Outlook”.",
        validators=[InputRequired("Give the calendar a name."), Length(max=100)],
    )
    url = URLField(
        "Published calendar address (.ics)",
        description="The ICS link your calendar publishes (Outlook: Publish calendar; Google: "
        "secret address in iCal format). Or upload a file below instead.",
        validators=[Optional(), Length(max=2000), _web_address],
    )
    upload = FileField("Or upload an .ics file")

    def validate(self, extra_validators=None) -> bool:
        """An address or a file, exactly one (the address's Optional() skips field checks)."""
        valid = super().validate(extra_validators)
        has_file = bool(self.upload.data and getattr(self.upload.data, "filename", ""))
        if not self.url.data and not has_file:
            _add_error(self.url, "Enter the calendar's address or upload a file.")
            return False
        if self.url.data and has_file:
            _add_error(self.url, "Give an address or a file, not both.")
            return False
        return valid


class TopicGuideForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[InputRequired("Give the topic guide a title."), Length(max=200)],
    )
    url = URLField(
        "Link to the document",
        description="Where interviewers open it; sent with their invitations.",
        validators=[
            InputRequired("Enter the link to the topic guide."),
            Length(max=2000),
            URL(require_tld=False, message="Enter a web address like https://…"),
            _web_address,
        ],
    )


class BookingLinkForm(FlaskForm):
    interviewer_id = SelectField(
        "Interviewer",
        coerce=coerce_optional_int,
        description="The participant chooses from this person's free times.",
        validators=[InputRequired("Choose the interviewer.")],
    )
    mode = _mode_field()
    location = StringField(
        "Place",
        description="For an in-person interview.",
        validators=[Optional(), Length(max=500)],
    )
    video_link = _video_link_field()
    travel_minutes = IntegerField(
        "Travel time each way (minutes)",
        default=0,
        description="In person only.",
        validators=[Optional(), NumberRange(0, MAX_TRAVEL_MINUTES)],
    )
    days = IntegerField(
        "Link works for (days)",
        default=14,
        validators=[InputRequired("Enter a number of days."), NumberRange(1, 90, "1 to 90 days.")],
    )

    def validate(self, extra_validators=None) -> bool:
        """In person needs a place (checked here: Optional() skips the field's own checks)."""
        valid = super().validate(extra_validators)
        return _has_place_if_in_person(self) and valid
