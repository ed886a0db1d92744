"""Interviewers' feeds and one-appointment downloads: what they hold and who may read them."""

from __future__ import annotations

import icalendar

from fieldwork.scheduling.booking import cancel_appointment, reschedule_appointment
from fieldwork.scheduling.feed_tokens import regenerate_feed_token, revoke_feed
from fieldwork.scheduling.models import AppointmentMode
from tests.scheduling.conftest import at, book, calendar_part, outbox_messages, the_event


def _events(data: bytes) -> dict:
    calendar = icalendar.Calendar.from_ical(data)
    assert "METHOD" not in calendar  # a feed is not a scheduling message
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_the_feed_shows_all_interviews_and_cancelled_ones_as_cancelled(world, client):
    kept = book(world, at(2026, 3, 23, 10))
    dropped = book(world, at(2026, 3, 24, 10), participant=world["second"])
    reschedule_appointment(kept, at(2026, 3, 23, 14), 60, world["coordinator"])
    cancel_appointment(dropped, "", world["coordinator"])
    token = regenerate_feed_token(world["kathryn"])

    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    events = _events(response.data)
    assert set(events) == {kept.ical_uid, dropped.ical_uid}
    assert str(events[dropped.ical_uid]["STATUS"]) == "CANCELLED"
    assert str(events[kept.ical_uid]["STATUS"]) == "CONFIRMED"
    # The same UID and SEQUENCE as the last message mailed for each.
    mailed_cancel = the_event(calendar_part(outbox_messages("cancellation", dropped.id)[0]))
    assert int(events[dropped.ical_uid]["SEQUENCE"]) == int(mailed_cancel["SEQUENCE"]) == 1
    mailed_update = the_event(calendar_part(outbox_messages("update", kept.id)[0]))
    assert int(events[kept.ical_uid]["SEQUENCE"]) == int(mailed_update["SEQUENCE"]) == 1


def test_the_feed_holds_only_its_interviewers_appointments(world, client):
    book(world, at(2026, 3, 23, 10))
    others = book(
        world, at(2026, 3, 23, 10), participant=world["second"], interviewer=world["other"]
    )
    token = regenerate_feed_token(world["other"])
    assert set(_events(client.get(f"/calendar/{token}.ics").data)) == {others.ical_uid}


def test_a_regenerated_token_replaces_the_old_one_and_revoking_ends_the_feed(world, client):
    old = regenerate_feed_token(world["kathryn"])
    new = regenerate_feed_token(world["kathryn"])
    gone = client.get(f"/calendar/{old}.ics")
    assert gone.status_code == 404
    assert gone.mimetype == "text/plain"
    assert client.get(f"/calendar/{new}.ics").status_code == 200
    revoke_feed(world["kathryn"])
    assert client.get(f"/calendar/{new}.ics").status_code == 404


def test_unknown_and_odd_feed_tokens_answer_404_not_500(app, client):
    for token in ("nope", "x" * 500, "%00", "..%2F..%2Fetc"):
        assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_the_feed_settings_page_shows_a_new_address_once(world, client, auth):
    auth.login(world["kathryn"])
    assert client.get("/calendar-feed").status_code == 200
    page = client.post("/calendar-feed/regenerate").get_data(as_text=True)
    assert "/calendar/" in page and ".ics" in page
    url = page.split('value="', 2)[-1].split('"')[0] if 'id="feed-url"' in page else ""
    assert url.startswith("http://localhost/calendar/")
    assert client.get(url.replace("http://localhost", "")).status_code == 200


def test_one_appointment_downloads_as_ics_for_its_interviewer_only(world, client, auth):
    appointment = book(world, at(2026, 3, 23, 10))
    auth.login(world["kathryn"])
    response = client.get(f"/appointments/{appointment.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    event = the_event(icalendar.Calendar.from_ical(response.data))
    assert str(event["UID"]) == appointment.ical_uid
    auth.logout()
    auth.login(world["other"])
    assert client.get(f"/appointments/{appointment.id}.ics").status_code == 404


def test_the_appointment_page_offers_add_to_calendar_links(world, client, auth):
    appointment = book(world, at(2026, 3, 23, 10))
    auth.login(world["coordinator"])
    page = client.get(f"/appointments/{appointment.id}").get_data(as_text=True)
    assert f"/appointments/{appointment.id}.ics" in page
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in page
    assert "dates=20260323T100000Z%2F20260323T110000Z" in page


def test_a_feed_with_a_cancelled_interview_and_a_two_line_study_name_reads_everywhere(
    world, client
):
    """A line break typed into the study's name never reaches SUMMARY or LOCATION (calcurse
    drops the whole feed over one), and the cancelled interview says so in its title for
    clients that ignore STATUS; icalendar, vobject and ical.js all read the feed."""
    from fieldwork.extensions import db
    from tests.calendar_parsers import (
        read_with_icalendar,
        read_with_icaljs,
        read_with_vobject,
        require_icaljs,
    )

    require_icaljs()
    world["study"].name = "Provider-Led\nPathways"
    db.session.commit()
    live = book(world, at(2026, 3, 23, 10))
    dropped = book(
        world,
        at(2026, 3, 24, 10),
        participant=world["second"],
        mode=AppointmentMode.IN_PERSON,
        location="Leeds JCP\r\nFloor 2",
    )
    cancel_appointment(dropped, "", world["coordinator"])
    token = regenerate_feed_token(world["kathryn"])
    data = client.get(f"/calendar/{token}.ics").data

    events = {str(e["UID"]): e for e in read_with_icalendar(data).walk("VEVENT")}
    assert "\n" not in str(events[live.ical_uid]["SUMMARY"])
    assert "Provider-Led Pathways" in str(events[live.ical_uid]["SUMMARY"])
    assert str(events[dropped.ical_uid]["SUMMARY"]).startswith("Cancelled: ")
    assert str(events[dropped.ical_uid]["LOCATION"]) == "Leeds JCP Floor 2"

    by_vobject = {e.uid.value: e for e in read_with_vobject(data).vevent_list}
    assert by_vobject[dropped.ical_uid].summary.value.startswith("Cancelled: ")
    assert by_vobject[dropped.ical_uid].status.value == "CANCELLED"
    assert "\n" not in by_vobject[live.ical_uid].summary.value

    (reading,) = read_with_icaljs(data)
    by_icaljs = {e["uid"]: e for e in reading["events"]}
    assert by_icaljs[dropped.ical_uid]["summary"].startswith("Cancelled: ")
    assert by_icaljs[dropped.ical_uid]["status"] == "CANCELLED"
    assert "\n" not in by_icaljs[live.ical_uid]["summary"]
    assert by_icaljs[dropped.ical_uid]["location"] == "Leeds JCP Floor 2"


def test_an_appointment_download_is_publish_without_attendees(world, client, auth):
    from tests.calendar_parsers import read_with_icalendar

    appointment = book(world, at(2026, 3, 23, 10))
    auth.login(world["coordinator"])
    calendar = read_with_icalendar(client.get(f"/appointments/{appointment.id}.ics").data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    (vevent,) = calendar.walk("VEVENT")
    assert "ATTENDEE" not in vevent
