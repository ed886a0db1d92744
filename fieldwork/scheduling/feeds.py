"""Public routes reached with a token instead of a login: interviewers' calendar feeds and
participants' self-booking pages. An unknown, expired or withdrawn token answers a plain
404 or 410, never a 500."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

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

from fieldwork.core.time import is_valid_timezone, timezone_choices
from fieldwork.core.web import public
from fieldwork.scheduling import messages, services
from fieldwork.scheduling.timeutil import format_moment, local, zone_label

blueprint = Blueprint("feeds", __name__)


@blueprint.get("/calendar/<token>.ics")
@public
def interviewer_feed(token: str):
    found = services.feed_appointments(token)
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


def _zone_for(link) -> str:
    """The participant's chosen zone: ?zone= (remembered in the session for this link), the
    remembered one, else the study's."""
    key = f"booking_zone_{link.id}"
    asked = request.args.get("zone", "")
    if asked and len(asked) <= 64 and is_valid_timezone(asked):
        session[key] = asked
        return asked
    remembered = session.get(key)
    if isinstance(remembered, str) and is_valid_timezone(remembered):
        return remembered
    return link.participant.study.timezone


def _days(slots: list[dt.datetime], zone_name: str) -> list[tuple[dt.date, list[dict]]]:
    """Slots grouped by the participant's local day, each with its value and label."""
    items = [
        {
            "value": slot.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ"),
            "local": local(slot, zone_name),
        }
        for slot in slots
    ]
    return [
        (day, list(group)) for day, group in groupby(items, key=lambda item: item["local"].date())
    ]


def _page(link, token: str, *, status: int = 200, taken: bool = False, moving: bool = False):
    zone_name = _zone_for(link)
    current = services.current_booking(link)
    show_slots = current is None or moving or taken
    slots = services.slots_for_link(link, current.id if current else None) if show_slots else []
    return (
        render_template(
            "scheduling/self_booking.html",
            link=link,
            token=token,
            study=link.participant.study,
            participant=link.participant,
            current=current,
            current_when=format_moment(current.starts_at, zone_name) if current else "",
            days=_days(slots, zone_name),
            zone_name=zone_name,
            zone=zone_label(zone_name),
            zones=timezone_choices(),
            taken=taken,
            moving=moving,
            show_slots=show_slots,
        ),
        status,
    )


def _link_or_page(token: str):
    try:
        return services.booking_link_for_token(token), None
    except services.LinkUnavailable as error:
        page = render_template("scheduling/booking_unavailable.html", message=str(error))
        return None, (page, error.status)


def _parse_slot(raw: str) -> dt.datetime | None:
    try:
        value = dt.datetime.strptime(raw, "%Y-%m-%dT%H:%MZ")
    except (TypeError, ValueError):
        return None
    return value.replace(tzinfo=dt.UTC)


@blueprint.get("/book/<token>")
@public
def self_booking(token: str):
    link, unavailable = _link_or_page(token)
    if unavailable:
        return unavailable
    return _page(link, token, moving=request.args.get("move") == "1")


@blueprint.post("/book/<token>")
@public
def book_slot(token: str):
    link, unavailable = _link_or_page(token)
    if unavailable:
        return unavailable
    starts_at = _parse_slot(request.form.get("slot", ""))
    if starts_at is None:
        flash("Choose a time from the list.", "error")
        return _page(link, token, status=422, moving=True)
    try:
        services.book_through_link(link, starts_at)
    except services.ClashError:
        return _page(link, token, status=409, taken=True)
    except services.SchedulingError as error:
        flash(str(error), "error")
        return _page(link, token, status=422, moving=True)
    flash("Your interview is booked. An invitation is on its way to your email.", "success")
    return redirect(url_for("feeds.self_booking", token=token))


@blueprint.post("/book/<token>/cancel")
@public
def cancel_booking(token: str):
    link, unavailable = _link_or_page(token)
    if unavailable:
        return unavailable
    reason = (request.form.get("reason") or "")[:1000]
    if services.cancel_through_link(link, reason) is None:
        abort(404, "There is no booked interview to cancel.")
    flash("Your interview is cancelled. You can choose a new time below.", "success")
    return redirect(url_for("feeds.self_booking", token=token))
