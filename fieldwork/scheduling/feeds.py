"""Public routes reached with a token instead of a login: interviewers' calendar feeds and
participants' self-booking pages. An unknown, expired or withdrawn token answers a plain
404 or 410, never a 500."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from fieldwork.core.downloads import private_download
from fieldwork.core.time import is_valid_timezone, now_utc
from fieldwork.core.web import public
from fieldwork.outbox import smtp as outbox_mail
from fieldwork.scheduling import messages, zones
from fieldwork.scheduling import self_booking as page_parts
from fieldwork.scheduling.appointments import get_appointment
from fieldwork.scheduling.errors import ClashError, SchedulingError
from fieldwork.scheduling.feed_tokens import feed_appointments
from fieldwork.scheduling.links import (
    LinkUnavailable,
    book_through_link,
    booking_link_for_token,
    cancel_through_link,
    current_booking,
    slots_for_link,
    store_participant_zone,
)

blueprint = Blueprint("feeds", __name__)


@blueprint.get("/calendar/<token>.ics")
@public
def interviewer_feed(token: str):
    found = feed_appointments(token)
    if found is None:
        return Response(
            "There is no calendar feed at this address. It may have been replaced by a new "
            "one: ask Fieldwork for your current feed address.\n",
            status=404,
            mimetype="text/plain",
        )
    interviewer, appointments = found
    body = messages.feed_calendar(appointments, f"Interviews – {interviewer.name}")
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Cache-Control": "private, max-age=300", "Content-Disposition": "inline"},
    )


# --- Self-booking ----------------------------------------------------------------------------
#
# The flow takes three taps after the link opens: a day in the month grid, a time, then
# "Confirm". Every step is a plain link or form (no JavaScript needed); static/js/booking.js
# only adds the browser's zone and clock to the first address.


def _outcome_key(link) -> str:
    return f"booking_outcome_{link.id}"


def _zone_and_source(link) -> tuple[str, str]:
    """The zone to show: ?zone= (a real IANA zone), else the participant's stored one, else
    the study's; and where it came from ("url", "stored" or "study")."""
    asked = request.args.get("zone", "")
    if zones.is_offered_zone(asked):
        return asked, "url"
    stored = link.participant.timezone
    if stored and is_valid_timezone(stored):
        return stored, "stored"
    return link.participant.study.timezone, "study"


def _clock() -> tuple[str, str]:
    asked = request.args.get("clock", "")
    return (asked, "url") if asked in ("12", "24") else ("24", "default")


def _link_or_page(token: str):
    try:
        return booking_link_for_token(token), None
    except LinkUnavailable as error:
        page = render_template("scheduling/booking_unavailable.html", message=str(error))
        return None, (page, error.status)


def _participant_event(appointment):
    return messages.calendar_event(appointment, for_interviewer=False)


def _booking_view(link, current, zone_name: str, clock: str) -> dict:
    """How the participant's booking reads on the page."""
    study = link.participant.study
    return {
        "appointment": current,
        "when": page_parts.describe_span(current.starts_at, current.ends_at, zone_name, clock),
        "study_when": page_parts.study_time_note(
            current.starts_at, zone_name, study.timezone, clock
        ),
        "call_line": messages.call_line(current, for_interviewer=False),
        "where": messages.where_text(current),
        "links": page_parts.calendar_links(_participant_event(current)),
    }


def _take_outcome(link, zone_name: str, clock: str) -> dict | None:
    """What the last action did, said once (booked, moved or cancelled)."""
    outcome = session.pop(_outcome_key(link), None)
    if not isinstance(outcome, dict) or outcome.get("kind") not in ("booked", "moved", "cancelled"):
        return None
    appointment = get_appointment(int(outcome.get("appointment_id") or 0))
    if appointment is None or appointment.participant_id != link.participant_id:
        return None
    zone = ZoneInfo(zone_name)
    result = {
        "kind": outcome["kind"],
        "when": page_parts.describe_span(
            appointment.starts_at, appointment.ends_at, zone_name, clock
        ),
        # Said only where mail really goes out: without a mail server it stays in the outbox.
        "email": link.participant.email if outbox_mail.is_configured() else "",
    }
    previous = page_parts.parse_slot(outcome.get("previous"))
    if previous is not None:
        local = previous.astimezone(zone)
        result["previous"] = (
            f"{page_parts.long_date(local.date())}, "
            f"{page_parts.clock_time(local, clock)} {local.tzname()}"
        )
    return result


def _page(link, token: str, *, status: int = 200, taken: bool = False):
    study = link.participant.study
    zone_name, zone_source = _zone_and_source(link)
    clock, clock_source = _clock()
    outcome = _take_outcome(link, zone_name, clock)
    current = current_booking(link)
    moving = request.args.get("move") == "1" and current is not None
    picking = current is None or moving or taken
    context = {
        "link": link,
        "token": token,
        "study": study,
        "participant": link.participant,
        "zone_name": zone_name,
        "zone_label": zones.zone_name_for_people(zone_name, now_utc()),
        "zone_source": zone_source,
        "clock": clock,
        "clock_source": clock_source,
        "detected": request.args.get("detected") == "1",
        "outcome": outcome,
        "booking": _booking_view(link, current, zone_name, clock) if current else None,
        "moving": moving,
        "picking": picking,
        "taken": taken,
        "month": None,
        "day": None,
        "chosen": None,
        "slot_value": page_parts.slot_value,
        "slot_label": lambda slot: page_parts.clock_time(
            slot.astimezone(ZoneInfo(zone_name)), clock
        ),
    }
    if picking:
        slots = slots_for_link(link, current.id if current else None)
        days = page_parts.days_with_slots(slots, zone_name)
        day_chosen = page_parts.parse_day(request.args.get("day"))
        day = days.get(day_chosen) if day_chosen is not None else None
        chosen = page_parts.parse_slot(request.args.get("slot"))
        if chosen is not None and day is not None and chosen in day.slots and not taken:
            length = dt.timedelta(minutes=study.interview_minutes)
            context["chosen"] = {
                "value": page_parts.slot_value(chosen),
                "when": page_parts.describe_span(chosen, chosen + length, zone_name, clock),
                "study_when": page_parts.study_time_note(chosen, zone_name, study.timezone, clock),
            }
        wanted = page_parts.parse_month(request.args.get("month"))
        if wanted is None and day is not None:
            wanted = (day.date.year, day.date.month)
        context["month"] = page_parts.month_grid(days, wanted)
        context["day"] = day
        context["has_slots"] = bool(days)
    return render_template("scheduling/self_booking.html", **context), status


@blueprint.get("/book/<token>")
@public
def self_booking(token: str):
    link, unavailable = _link_or_page(token)
    if unavailable:
        return unavailable
    return _page(link, token)


def _back(token: str) -> str:
    """The booking page again, keeping the zone and clock the participant was using."""
    # Any: url_for's keyword-only options (_external...) would otherwise be typed by the values.
    args: dict[str, Any] = {
        name: request.form.get(name, "") for name in ("zone", "clock") if request.form.get(name, "")
    }
    return url_for("feeds.self_booking", token=token, **args)


@blueprint.post("/book/<token>")
@public
def book_slot(token: str):
    link, unavailable = _link_or_page(token)
    if unavailable:
        return unavailable
    starts_at = page_parts.parse_slot(request.form.get("slot"))
    zone_name = request.form.get("zone", "")
    if not zones.is_offered_zone(zone_name):
        zone_name = ""
    if starts_at is None:
        flash("Choose a day and a time first.", "error")
        return redirect(_back(token))
    try:
        appointment, previous = book_through_link(link, starts_at, zone_name)
    except ClashError:
        # The failed booking rolled the session back: read the link afresh for the page.
        return _page(booking_link_for_token(token), token, status=409, taken=True)
    except SchedulingError as error:
        flash(str(error), "error")
        return redirect(_back(token))
    session[_outcome_key(link)] = {
        "kind": "moved" if previous else "booked",
        "appointment_id": appointment.id,
        "previous": page_parts.slot_value(previous) if previous else "",
    }
    return redirect(_back(token))


@blueprint.route("/book/<token>/zone", methods=["GET", "POST"])
@public
def booking_zone(token: str):
    """A short, searchable list of zones; choosing one stores it with the participant."""
    link, unavailable = _link_or_page(token)
    if unavailable:
        return unavailable
    if request.method == "POST":
        zone_name = request.form.get("zone", "")
        if not zones.is_offered_zone(zone_name):
            abort(400, "Choose a time zone from the list.")
        store_participant_zone(link, zone_name)
        # Any: url_for's keyword-only options (_external...) would otherwise be typed by them.
        args: dict[str, Any] = (
            {"clock": request.form["clock"]} if request.form.get("clock") in ("12", "24") else {}
        )
        if request.form.get("move") == "1":
            args["move"] = "1"
        return redirect(url_for("feeds.self_booking", token=token, zone=zone_name, **args))
    query = (request.args.get("q") or "")[:60]
    zone_name, _source = _zone_and_source(link)
    clock, _clock_source = _clock()
    found = zones.search_zones(query)
    now = now_utc()
    return render_template(
        "scheduling/booking_zone.html",
        link=link,
        token=token,
        study=link.participant.study,
        query=query,
        zones=[(name, zones.zone_name_for_people(name, now)) for name in found],
        zone_name=zone_name,
        clock=clock,
        move=request.args.get("move") == "1",
    )


@blueprint.route("/book/<token>/cancel", methods=["GET", "POST"])
@public
def cancel_booking(token: str):
    link, unavailable = _link_or_page(token)
    if unavailable:
        return unavailable
    current = current_booking(link)
    zone_name, _source = _zone_and_source(link)
    clock, _clock_source = _clock()
    if request.method == "POST":
        if current is None:
            flash("There is no booked interview to cancel.", "info")
            return redirect(_back(token))
        zone_name = request.form.get("zone", "")
        reason = (request.form.get("reason") or "")[:1000]
        cancelled = cancel_through_link(
            link, reason, zone_name if zones.is_offered_zone(zone_name) else ""
        )
        if cancelled is None:  # cancelled meanwhile (another tab, the coordinator)
            flash("There is no booked interview to cancel.", "info")
            return redirect(_back(token))
        session[_outcome_key(link)] = {
            "kind": "cancelled",
            "appointment_id": cancelled.id,
            "previous": page_parts.slot_value(cancelled.starts_at),
        }
        return redirect(_back(token))
    if current is None:
        return redirect(url_for("feeds.self_booking", token=token))
    return render_template(
        "scheduling/booking_cancel.html",
        link=link,
        token=token,
        study=link.participant.study,
        booking=_booking_view(link, current, zone_name, clock),
        zone_name=zone_name,
        clock=clock,
    )


@blueprint.get("/book/<token>/interview.ics")
@public
def booking_ics(token: str):
    """The participant's interview as a calendar file (METHOD:PUBLISH, no attendee list)."""
    link, unavailable = _link_or_page(token)
    if unavailable:
        return unavailable
    current = current_booking(link)
    if current is None:
        flash("There is no booked interview to add to a calendar yet.", "info")
        return redirect(url_for("feeds.self_booking", token=token))
    return private_download(
        messages.appointment_calendar(current, for_interviewer=False),
        "text/calendar",
        "interview.ics",
    )
