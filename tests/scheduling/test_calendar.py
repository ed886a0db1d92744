"""The calendar of interviews: week and month views, filters, who sees what, query counts."""

from __future__ import annotations

import re

from fieldwork.extensions import db
from fieldwork.scheduling import calendar_view
from fieldwork.scheduling.booking import cancel_appointment
from fieldwork.scheduling.models import Appointment
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


def _busy_monday(world, count: int) -> list:
    """`count` interviews on Monday 30 March 2026 from 07:00 UTC, each an hour after the last."""
    booked = []
    for n in range(count):
        person = make_participant(
            world["study"], district=world["north"], organisation=world["jcp"], role=world["tppm"]
        )
        booked.append(book(world, at(2026, 3, 30, 6 + n), participant=person, confirmed=True))
    return booked


def test_a_busy_day_shows_its_first_interviews_and_links_to_the_rest(world, client, auth):
    """A week shows each day's first SHOWN_PER_DAY interviews in time order; the rest are
    counted, and the link to them opens the day with the calendar's filters kept."""
    booked = _busy_monday(world, calendar_view.SHOWN_PER_DAY + 3)
    tuesday = book(world, at(2026, 3, 31, 9), participant=world["second"])
    auth.login(world["coordinator"])
    page = client.get("/appointments/calendar?date=2026-03-30&status=booked").text
    shown = [str(a.id) for a in booked[: calendar_view.SHOWN_PER_DAY]]
    assert _entries(page) == [*shown, str(tuesday.id)]
    assert f"{calendar_view.SHOWN_PER_DAY + 4} interviews." in page  # every one is counted
    monday = _day_block(page, "Monday 30 March")
    link = re.search(r'<p class="calendar-more"><a href="([^"]+)">3 more<', monday)
    assert link is not None
    assert "3 more interviews on Monday 30 March" in " ".join(
        re.sub(r"<[^>]+>", "", monday[link.start() :]).split()
    )
    day = client.get(link.group(1).replace("&amp;", "&")).text
    assert "view=day" in link.group(1) and "status=booked" in link.group(1)
    assert "Monday 30 March 2026" in day
    assert _entries(day) == [str(a.id) for a in booked]  # the day shows them all
    assert 'class="calendar-more"' not in day
    assert 'href="/appointments/calendar?date=2026-03-31&amp;status=booked&amp;view=day"' in day


def test_the_month_shows_the_same_first_interviews_of_a_busy_day(world, client, auth):
    booked = _busy_monday(world, calendar_view.SHOWN_PER_DAY + 1)
    auth.login(world["coordinator"])
    page = client.get("/appointments/calendar?view=month&date=2026-03-30").text
    assert _entries(page) == [str(a.id) for a in booked[: calendar_view.SHOWN_PER_DAY]]
    assert ">1 more<" in page


def test_days_begin_at_the_viewers_midnight_across_a_clock_change(world, client, auth):
    """BST began at 01:00 UTC on Sunday 29 March 2026: 23:30 UTC that Sunday is 00:30 on
    Monday in London, 22:30 UTC is still Sunday."""
    sunday = book(world, at(2026, 3, 29, 22, 30), confirmed=True)
    monday = book(world, at(2026, 3, 29, 23, 30), participant=world["second"], confirmed=True)
    auth.login(world["coordinator"])
    page = client.get("/appointments/calendar?date=2026-03-30").text
    assert _entries(page) == [str(monday.id)]
    assert "00:30–01:30" in _day_block(page, "Monday 30 March")
    previous = client.get("/appointments/calendar?date=2026-03-29").text
    assert _entries(previous) == [str(sunday.id)]
    assert "23:30–00:30" in _day_block(previous, "Sunday 29 March")


def test_a_busy_week_costs_the_same_queries_as_a_quiet_one(world, client, auth, count_queries):
    auth.login(world["coordinator"])
    counts = []
    for count in (1, calendar_view.SHOWN_PER_DAY + 4):
        for appointment in db.session.scalars(db.select(Appointment)):
            db.session.delete(appointment)
        db.session.commit()
        _busy_monday(world, count)
        for view in ("day", "week", "month"):
            client.get(f"/appointments/calendar?view={view}&date=2026-03-30")
            with count_queries() as counter:
                client.get(f"/appointments/calendar?view={view}&date=2026-03-30")
            counts.append(counter.count)
    assert counts[:3] == counts[3:], counts
