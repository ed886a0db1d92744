"""The coordinator's booking rules page: notice, horizon, buffer, daily maximum, public
holidays and closed dates of the current study, and the daily email of participants' own
bookings. The rules apply wherever slots are offered (`slots.bookable_slots`)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from fieldwork.accounts.access import coordinator_required
from fieldwork.core.studies import require_study
from fieldwork.core.time import now_utc
from fieldwork.scheduling import notices, slots

blueprint = Blueprint("booking_rules", __name__)


def _region_value(country: str, subdivision: str) -> str:
    return f"{country}-{subdivision}" if country else ""


class RulesForm(FlaskForm):
    min_notice_hours = IntegerField(
        "Minimum notice, in hours",
        description="Participants cannot book a time sooner than this.",
        validators=[
            InputRequired("Enter the minimum notice."),
            NumberRange(0, slots.MAX_NOTICE_HOURS),
        ],
    )
    max_days_ahead = IntegerField(
        "How far ahead, in days",
        description="Times are offered from today up to this many days ahead.",
        validators=[InputRequired("Enter how far ahead."), NumberRange(1, slots.MAX_DAYS_AHEAD)],
    )
    buffer_minutes = IntegerField(
        "Buffer between interviews, in minutes",
        description="Kept free before and after each interview of an interviewer.",
        validators=[
            InputRequired("Enter the buffer (0 for none)."),
            NumberRange(0, slots.MAX_BUFFER_MINUTES),
        ],
    )
    daily_limit = IntegerField(
        "Most interviews per interviewer per day",
        description="0 means no limit.",
        validators=[
            InputRequired("Enter the daily maximum (0 for no limit)."),
            NumberRange(0, slots.MAX_DAILY_LIMIT),
        ],
    )
    region = SelectField(
        "Public holidays of",
        description="No times are offered on these days.",
        choices=[
            SelectChoice(_region_value(*key), label) for key, label in slots.HOLIDAY_REGIONS.items()
        ],
    )


class ClosedDateForm(FlaskForm):
    closed_on = DateField(
        "Date", validators=[InputRequired("Enter the date to close, e.g. 2026-12-29.")]
    )
    reason = StringField(
        "Reason (optional)", validators=[Optional(), Length(max=200, message="Keep it short.")]
    )


class NoticeForm(FlaskForm):
    is_daily_email = BooleanField("Email me a daily summary of participants' own bookings")


@blueprint.route("/booking-rules", methods=["GET", "POST"])
@coordinator_required
def rules_page():
    study = require_study()
    current = slots.rules_of(study)
    form = RulesForm(prefix="rules")
    closed_form = ClosedDateForm(prefix="closed", formdata=None)
    notice_form = NoticeForm(prefix="notice", formdata=None)
    notice_form.is_daily_email.data = notices.wants_daily_email(current_user)
    if request.method == "GET":
        form.min_notice_hours.data = current.min_notice_hours
        form.max_days_ahead.data = current.max_days_ahead
        form.buffer_minutes.data = current.buffer_minutes
        form.daily_limit.data = current.daily_limit
        form.region.data = _region_value(current.holiday_country, current.holiday_subdivision)
    if form.validate_on_submit():
        country, _, subdivision = (form.region.data or "").partition("-")
        try:
            slots.save_rules(
                study,
                slots.Rules(
                    min_notice_hours=form.min_notice_hours.data,
                    max_days_ahead=form.max_days_ahead.data,
                    buffer_minutes=form.buffer_minutes.data,
                    daily_limit=form.daily_limit.data,
                    holiday_country=country,
                    holiday_subdivision=subdivision,
                ),
            )
        except slots.RulesError as error:
            form.min_notice_hours.errors = [*form.min_notice_hours.errors, str(error)]
        else:
            flash("Booking rules saved; the times offered follow them from now on.", "success")
            return redirect(url_for("booking_rules.rules_page"))
    return _render(study, form, closed_form, notice_form, 422 if request.method == "POST" else 200)


def _render(study, form, closed_form, notice_form, status: int):
    rules = slots.rules_of(study)
    today = now_utc().astimezone(ZoneInfo(study.timezone)).date()
    holidays = slots.public_holidays(rules, today, today + dt.timedelta(days=365))
    return (
        render_template(
            "scheduling/booking_rules.html",
            study=study,
            form=form,
            closed_form=closed_form,
            notice_form=notice_form,
            holidays=sorted(holidays.items()),
            closed=slots.coordinator_closed_dates(study),
            rules=rules,
        ),
        status,
    )


@blueprint.post("/booking-rules/closed-dates")
@coordinator_required
def add_closed_date():
    study = require_study()
    closed_form = ClosedDateForm(prefix="closed")
    if closed_form.validate_on_submit():
        try:
            slots.add_closed_date(study, closed_form.closed_on.data, closed_form.reason.data or "")
        except slots.RulesError as error:
            closed_form.closed_on.errors = [*closed_form.closed_on.errors, str(error)]
        else:
            flash(f"{closed_form.closed_on.data:%-d %B %Y} is closed for bookings.", "success")
            return redirect(url_for("booking_rules.rules_page"))
    form = RulesForm(prefix="rules", formdata=None)
    rules = slots.rules_of(study)
    form.process(
        data={
            "min_notice_hours": rules.min_notice_hours,
            "max_days_ahead": rules.max_days_ahead,
            "buffer_minutes": rules.buffer_minutes,
            "daily_limit": rules.daily_limit,
            "region": _region_value(rules.holiday_country, rules.holiday_subdivision),
        }
    )
    notice_form = NoticeForm(prefix="notice", formdata=None)
    notice_form.is_daily_email.data = notices.wants_daily_email(current_user)
    return _render(study, form, closed_form, notice_form, 422)


@blueprint.post("/booking-rules/closed-dates/<int:closed_id>/delete")
@coordinator_required
def delete_closed_date(closed_id: int):
    study = require_study()
    if not slots.remove_closed_date(study, closed_id):
        abort(404)
    flash("The date is open for bookings again.", "success")
    return redirect(url_for("booking_rules.rules_page"))


@blueprint.post("/booking-rules/daily-email")
@coordinator_required
def daily_email():
    form = NoticeForm(prefix="notice")
    if form.validate_on_submit():
        notices.set_daily_email(current_user, bool(form.is_daily_email.data))
        flash(
            "You will get a daily email of participants' own bookings and cancellations."
            if form.is_daily_email.data
            else "No more daily emails of participants' own bookings.",
            "success",
        )
    return redirect(url_for("booking_rules.rules_page"))
