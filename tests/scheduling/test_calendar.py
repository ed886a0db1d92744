"""The calendar of interviews: week and month views, filters, who sees what, query counts."""

from __future__ import annotations

import re

from fieldwork.extensions import db
from fieldwork.scheduling.booking import cancel_appointment
from tests.factories import make_participant
from tests.scheduling.conftest import at, book


def _entries(page: str) -> list[str]:
    """The appointment ids the calendar links to, in page order."""
    return re.findall(r'class="calendar-entry[^"]*" href="/appointments/(\d+)"', page)


def _day_block(page: str, title: str) -> str:
    start = page.index(f'calendar-day__title">{title}')
    end = page.find('class="calendar-day', start)
    return page[start : end if end != -1 else len(page)]


def test_the_week_view_lists_each_interview_on_its_day_in_the_viewers_zone(world, client, auth):
    """Monday 30 March 2026 09:00 UTC is 10:00 BST on Monday; the page names the zone."""
    monday = book(world, at(2026, 3, 30, 9))
    thursday = book(world, at(2026, 4, 2, 13), participant=world["second"])
    next_week = book(world, at(2026, 4, 7, 9), participant=world["second"])
    auth.login(world["coordinator"])
    page = client.get("/appointments/calendar?date=2026-04-01").get_data(as_text=True)
    assert "Week of Monday 30 March 2026" in page
    assert "Times are in Europe/London (GMT/BST)" in page
    assert _entries(page) == [str(monday.id), str(thursday.id)]
    assert "10:00–11:00" in _day_block(page, "Monday 30 March")
    assert "P1-005" in _day_block(page, "Thursday 2 April")
    assert str(next_week.id) not in _entries(page)
    following = client.get("/appointments/calendar?date=2026-04-06").get_data(as_text=True)
    assert _entries(following) == [str(next_week.id)]


def test_times_follow_the_viewers_own_zone(world, client, auth):
    appointment = book(world, at(2026, 3, 30, 9))
    world["coordinator"].timezone = "America/New_York"
    db.session.commit()
    auth.login(world["coordinator"])
    page = client.get("/appointments/calendar?date=2026-03-30").get_data(as_text=True)
    assert "Times are in America/New_York" in page
    assert "05:00–06:00" in page and _entries(page) == [str(appointment.id)]


def test_the_month_view_shows_the_whole_month_with_links(world, client, auth):
    first = book(world, at(2026, 4, 1, 9))
    last = book(world, at(2026, 4, 30, 9), participant=world["second"])
    may = book(world, at(2026, 5, 4, 9), participant=world["second"])
    auth.login(world["coordinator"])
    response = client.get("/appointments/calendar?view=month&date=2026-04-15")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "April 2026" in page
    assert _entries(page) == [str(first.id), str(last.id)]
    assert str(may.id) not in _entries(page)
    assert 'href="/appointments/calendar?view=month&amp;date=2026-05-01"' in page
    assert 'href="/appointments/calendar?view=month&amp;date=2026-03-01"' in page


def test_filters_narrow_by_interviewer_and_status(world, client, auth):
    kathryns = book(world, at(2026, 3, 30, 9))
    omars = book(world, at(2026, 3, 31, 9), participant=world["second"], interviewer=world["other"])
    cancelled = book(world, at(2026, 4, 1, 9), participant=world["second"])
    cancel_appointment(cancelled, "", world["coordinator"])
    auth.login(world["coordinator"])
    base = "/appointments/calendar?date=2026-03-30"
    page = client.get(f"{base}&interviewer={world['other'].id}").get_data(as_text=True)
    assert _entries(page) == [str(omars.id)]
    assert "(filtered)" in page
    page = client.get(f"{base}&status=cancelled").get_data(as_text=True)
    assert _entries(page) == [str(cancelled.id)]
    page = client.get(base).get_data(as_text=True)
    assert _entries(page) == [str(kathryns.id), str(omars.id), str(cancelled.id)]
    assert "Cancelled" in _day_block(page, "Wednesday 1 April")


def test_interviewers_see_only_their_own_interviews(world, client, auth):
    mine = book(world, at(2026, 3, 30, 9))
    book(world, at(2026, 3, 31, 9), participant=world["second"], interviewer=world["other"])
    auth.login(world["kathryn"])
    page = client.get(
        f"/appointments/calendar?date=2026-03-30&interviewer={world['other'].id}"
    ).get_data(as_text=True)
    assert _entries(page) == [str(mine.id)]
    assert "Dev Patel" not in page


def test_odd_arguments_fall_back_to_this_week_not_an_error(world, client, auth):
    auth.login(world["coordinator"])
    for query in ("date=yesterday", "date=9999-01-01", "view=year", "status=lost", "interviewer=x"):
        response = client.get(f"/appointments/calendar?{query}")
        assert response.status_code == 200, query
    page = client.get("/appointments/calendar?date=nonsense").get_data(as_text=True)
    assert "Week of Monday 16 March 2026" in page  # the clock's week (Friday 20 March)


def test_the_calendar_query_count_stays_flat_as_data_grows(world, client, auth, count_queries):
    auth.login(world["coordinator"])

    def fill(count: int, hour: int) -> None:
        for n in range(count):
            person = make_participant(
                world["study"],
                district=world["north"],
                organisation=world["jcp"],
                role=world["tppm"],
            )
            book(
                world,
                at(2026, 3, 30 + n % 2, hour + n // 2),
                participant=person,
                interviewer=world["kathryn"] if n % 4 < 2 else world["other"],
                confirmed=True,
            )

    counts = []
    for count, hour in ((2, 7), (8, 11)):
        fill(count, hour)
        for view in ("week", "month"):
            with count_queries() as counter:
                response = client.get(f"/appointments/calendar?view={view}&date=2026-03-30")
            assert response.status_code == 200
            counts.append((view, counter.count))
    assert counts[:2] == counts[2:], counts
    assert len(_entries(response.get_data(as_text=True))) == 10
