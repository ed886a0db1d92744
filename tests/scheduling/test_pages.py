"""The scheduling pages: booking form, lists, week view, permissions, query counts."""

from __future__ import annotations

import datetime as dt

import pytest

from fieldwork.extensions import db
from fieldwork.scheduling.booking import cancel_appointment
from fieldwork.scheduling.models import Appointment, AppointmentStatus, AvailabilityWindow
from fieldwork.scheduling.topic_guides import topic_guide_for_role
from tests.factories import make_participant
from tests.scheduling.conftest import at, book


def _booking_form(world, **overrides):
    data = {
        "interviewer_id": world["kathryn"].id,
        "starts_on": "2026-03-30",
        "starts_time": "10:00",
        "minutes": "60",
        "mode": "telephone",
        "location": "",
        "video_link": "",
        "travel_minutes_before": "0",
        "travel_minutes_after": "0",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_the_booking_form_says_its_zone_and_defaults_to_the_study_length(world, client, auth):
    auth.login(world["coordinator"])
    page = client.get(f"/appointments/new?participant={world['first'].id}").get_data(as_text=True)
    assert "Times are in Europe/London (GMT/BST)." in page
    assert 'name="minutes" required type="number" value="60"' in page or 'value="60"' in page


def test_booking_through_the_form_stores_utc_and_shows_bst(world, client, auth):
    auth.login(world["coordinator"])
    response = client.post(
        f"/appointments/new?participant={world['first'].id}", data=_booking_form(world)
    )
    assert response.status_code == 302
    appointment = db.session.scalars(db.select(Appointment)).one()
    assert appointment.starts_at == at(2026, 3, 30, 9)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "30 Mar 2026, 10:00 BST" in page


def test_a_clash_is_reported_beside_the_time_field(world, client, auth):
    book(world, at(2026, 3, 30, 9), participant=world["second"])
    auth.login(world["coordinator"])
    response = client.post(
        f"/appointments/new?participant={world['first'].id}",
        data=_booking_form(world, starts_time="10:30"),
    )
    assert response.status_code == 422
    assert (
        "Kathryn Interviewer already has P1-005 from 10:00 to 11:00 BST on Monday 30 March 2026."
    ) in response.get_data(as_text=True)


def test_outside_the_windows_the_form_asks_to_book_anyway(world, client, auth):
    auth.login(world["coordinator"])
    url = f"/appointments/new?participant={world['first'].id}"
    response = client.post(url, data=_booking_form(world, starts_time="19:00"))
    assert response.status_code == 422
    assert "Book anyway" in response.get_data(as_text=True)
    response = client.post(url, data=_booking_form(world, starts_time="19:00", confirm="y"))
    assert response.status_code == 302


def test_bad_input_is_reported_not_a_500(world, client, auth):
    auth.login(world["coordinator"])
    url = f"/appointments/new?participant={world['first'].id}"
    response = client.post(
        url,
        data=_booking_form(
            world,
            starts_on="31/02/2026",
            starts_time="25:99",
            minutes="-4",
            mode="carrier pigeon",
            interviewer_id="abc",
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    response = client.post(
        url, data=_booking_form(world, starts_on="2026-03-29", starts_time="01:30")
    )
    assert "does not exist in Europe/London" in response.get_data(as_text=True)
    response = client.post(url, data=_booking_form(world, mode="in_person", location=""))
    assert "Enter the place for an in-person interview." in response.get_data(as_text=True)
    assert client.get("/appointments/new?participant=999999").status_code == 404
    assert client.get("/appointments/new?participant=abc").status_code == 404


def test_interviewers_see_only_their_own_appointments(world, client, auth):
    mine = book(world, at(2026, 3, 23, 10))
    theirs = book(
        world, at(2026, 3, 23, 10), participant=world["second"], interviewer=world["other"]
    )
    auth.login(world["kathryn"])
    listing = client.get("/appointments").get_data(as_text=True)
    assert f"/appointments/{mine.id}" in listing and f"/appointments/{theirs.id}" not in listing
    assert client.get(f"/appointments/{mine.id}").status_code == 200
    for path in (
        f"/appointments/{theirs.id}",
        f"/appointments/{theirs.id}.ics",
        f"/appointments/{theirs.id}/outcome",
    ):
        assert client.get(path).status_code == 404, path
    assert (
        client.post(f"/appointments/{theirs.id}/outcome", data={"status": "no_show"}).status_code
        == 404
    )


def test_interviewers_cannot_book_move_or_cancel(world, client, auth):
    appointment = book(world, at(2026, 3, 23, 10))
    auth.login(world["kathryn"])
    assert client.get(f"/appointments/new?participant={world['first'].id}").status_code == 403
    assert client.post(f"/appointments/{appointment.id}/cancel").status_code == 403
    assert client.get(f"/appointments/{appointment.id}/reschedule").status_code == 403


def test_reschedule_and_cancel_pages_keep_history(world, client, auth):
    appointment = book(world, at(2026, 3, 23, 10))
    auth.login(world["coordinator"])
    response = client.post(
        f"/appointments/{appointment.id}/reschedule",
        data={"starts_on": "2026-03-24", "starts_time": "11:00", "minutes": "60"},
    )
    assert response.status_code == 302
    response = client.post(f"/appointments/{appointment.id}/cancel", data={"reason": "Office move"})
    assert response.status_code == 302
    page = client.get(f"/appointments/{appointment.id}").get_data(as_text=True)
    assert "Moved" in page and "Cancelled" in page and "Office move" in page
    assert client.post(f"/appointments/{appointment.id}/cancel").status_code == 409


def test_the_list_filters_by_status_and_dates(world, client, auth):
    kept = book(world, at(2026, 3, 23, 10))
    dropped = book(world, at(2026, 3, 25, 10), participant=world["second"])
    cancel_appointment(dropped, "", world["coordinator"])
    auth.login(world["coordinator"])
    page = client.get("/appointments?status=cancelled").get_data(as_text=True)
    assert f'/appointments/{dropped.id}"' in page and f'/appointments/{kept.id}"' not in page
    page = client.get("/appointments?from_date=2026-03-24").get_data(as_text=True)
    assert f'/appointments/{kept.id}"' not in page
    response = client.get("/appointments?from_date=2026-03-24&to_date=2026-03-01&status=zzz")
    assert response.status_code == 200


@pytest.mark.parametrize("size", [3, 30])
def test_the_appointment_list_costs_the_same_queries_at_any_size(
    world, client, auth, count_queries, size
):
    study = world["study"]
    start = at(2026, 4, 6, 8)
    for number in range(size):
        person = make_participant(
            study, district=world["north"], organisation=world["jcp"], role=world["tppm"]
        )
        book(world, start + dt.timedelta(hours=number), participant=person, confirmed=True)
    auth.login(world["coordinator"])
    with count_queries() as counter:
        response = client.get("/appointments")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('data-label="When"') == size
    test_the_appointment_list_costs_the_same_queries_at_any_size.counts[size] = counter.count
    if len(test_the_appointment_list_costs_the_same_queries_at_any_size.counts) == 2:
        assert (
            len(set(test_the_appointment_list_costs_the_same_queries_at_any_size.counts.values()))
            == 1
        )


test_the_appointment_list_costs_the_same_queries_at_any_size.counts = {}


def test_the_week_view_shows_windows_and_bookings_in_day_columns(world, client, auth):
    book(world, at(2026, 3, 30, 9))
    auth.login(world["coordinator"])
    page = client.get(f"/availability?interviewer={world['kathryn'].id}&week=2026-04-01").get_data(
        as_text=True
    )
    assert "<caption>Kathryn Interviewer: week of 30 March 2026 (Europe/London)</caption>" in page
    assert '<th scope="col">Mon 30 Mar</th>' in page
    assert "09:00–17:00" in page and "10:00 P1-004" in page
    assert client.get("/availability?week=garbage").status_code == 200


def test_interviewers_manage_only_their_own_windows(world, client, auth):
    auth.login(world["kathryn"])
    response = client.post(
        "/availability/windows",
        data={
            "interviewer_id": world["kathryn"].id,
            "weekday": "5",
            "starts_time": "10:00",
            "ends_time": "12:00",
        },
    )
    assert response.status_code == 302
    others = db.session.scalars(
        db.select(AvailabilityWindow).where(AvailabilityWindow.interviewer_id == world["other"].id)
    ).first()
    assert client.post(f"/availability/windows/{others.id}/delete").status_code == 404
    response = client.post(
        "/availability/windows",
        data={
            "interviewer_id": world["kathryn"].id,
            "weekday": "1",
            "starts_time": "12:00",
            "ends_time": "10:00",
        },
    )
    assert response.status_code == 422
    assert "The end must be after the start." in response.get_data(as_text=True)


def test_the_participant_page_fragment_lists_appointments(world, app, client, auth):
    appointment = book(world, at(2026, 3, 23, 10))
    auth.login(world["coordinator"])
    with app.test_request_context():
        from flask import render_template
        from flask_login import login_user

        login_user(world["coordinator"])
        html = render_template(
            "scheduling/_participant_appointments.html", participant=world["first"]
        )
    assert f"/appointments/{appointment.id}" in html
    assert "Book an interview" in html


def test_a_coordinator_attaches_a_topic_guide_to_a_role(world, client, auth):
    auth.login(world["coordinator"])
    role = world["tppm"]
    response = client.post(
        f"/roles/{role.id}/topic-guide", data={"title": "Guide", "url": "javascript:alert(1)"}
    )
    assert response.status_code == 422
    response = client.post(
        f"/roles/{role.id}/topic-guide",
        data={"title": "Guide", "url": "https://docs.example.org/g"},
    )
    assert response.status_code == 302
    assert topic_guide_for_role(role.id).url == "https://docs.example.org/g"
    auth.logout()
    auth.login(world["kathryn"])
    assert client.get(f"/roles/{role.id}/topic-guide").status_code == 403


def test_every_scheduling_page_renders(world, client, auth, clock):
    appointment = book(world, at(2026, 3, 23, 10))
    clock.move(at(2026, 3, 23, 12))
    auth.login(world["coordinator"])
    for path in (
        "/appointments",
        f"/appointments/{appointment.id}",
        f"/appointments/{appointment.id}/reschedule",
        f"/appointments/{appointment.id}/cancel",
        f"/appointments/{appointment.id}/outcome",
        "/availability",
        "/availability/windows",
        "/availability/busy-calendars",
        "/calendar-feed",
        f"/participants/{world['first'].id}/booking-links",
        f"/roles/{world['tppm'].id}/topic-guide",
    ):
        assert client.get(path).status_code == 200, path
    assert appointment.status == AppointmentStatus.BOOKED
