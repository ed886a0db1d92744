"""Each study's booking rules shape the times offered (one slot service for the participant's
link and the coordinator's form): notice, horizon, buffer, daily maximum, public holidays and
the coordinator's closed dates; and coordinators hear of participants' own changes."""

from __future__ import annotations

import datetime as dt

import pytest

from fieldwork.extensions import db
from fieldwork.outbox.models import OutboxMessage
from fieldwork.scheduling import notices, slots
from fieldwork.scheduling.errors import ClashError
from fieldwork.scheduling.links import book_through_link, cancel_through_link, create_booking_link
from fieldwork.scheduling.models import AppointmentMode
from tests.factories import make_study
from tests.scheduling.conftest import at, book, outbox_messages


def _rules(world, **values) -> None:
    slots.save_rules(world["study"], slots.Rules(**values))


def _offered(world, **options) -> list[dt.datetime]:
    return slots.bookable_slots(world["study"], world["kathryn"].id, world["first"].id, **options)


def _on(day: dt.date, offered: list[dt.datetime]) -> list[int]:
    return [slot.hour for slot in offered if slot.date() == day]


MONDAY = dt.date(2026, 3, 23)


def test_minimum_notice_and_horizon_bound_the_offer(world):
    """Now is Friday 20 March, noon: 72 hours' notice starts at Monday noon; 4 days ahead
    ends with Tuesday 24 March."""
    _rules(world, min_notice_hours=72, max_days_ahead=4)
    offered = _offered(world)
    assert min(offered) == at(2026, 3, 23, 12)
    assert max(offered).date() == dt.date(2026, 3, 24)


def test_a_buffer_spaces_the_slots_and_keeps_time_free_around_interviews(world):
    _rules(world, buffer_minutes=15)
    assert _on(MONDAY, _offered(world))[:3] == [9, 10, 11]
    assert [s.minute for s in _offered(world) if s.date() == MONDAY][:3] == [0, 15, 30]
    book(world, at(2026, 3, 23, 13), participant=world["second"])
    monday = [s for s in _offered(world) if s.date() == MONDAY]
    # 11:30-12:30 ends 30 minutes before; 12:45 would end 13:45 (inside); 14:00 starts right
    # after 14:00 without the 15 minutes: both refused.
    assert all(
        s + dt.timedelta(minutes=75) <= at(2026, 3, 23, 13) or s >= at(2026, 3, 23, 14, 15)
        for s in monday
    )


def test_the_daily_maximum_closes_an_interviewers_full_day(world):
    _rules(world, daily_limit=1)
    book(world, at(2026, 3, 23, 9), participant=world["second"])
    offered = _offered(world)
    assert _on(MONDAY, offered) == []
    assert _on(dt.date(2026, 3, 24), offered) != []


def test_public_holidays_of_england_and_wales_and_closed_dates_are_not_offered(world, clock):
    clock.move(at(2026, 12, 18, 12))
    _rules(world, holiday_country="GB", holiday_subdivision="ENG", max_days_ahead=14)
    slots.add_closed_date(world["study"], dt.date(2026, 12, 24), "Christmas Eve: office shut")
    days = {slot.date() for slot in _offered(world)}
    assert dt.date(2026, 12, 23) in days
    assert dt.date(2026, 12, 24) not in days  # the team's own closed date
    assert dt.date(2026, 12, 25) not in days  # Christmas Day
    assert dt.date(2026, 12, 28) not in days  # Boxing Day, moved from a Saturday
    assert dt.date(2026, 12, 29) in days
    with pytest.raises(slots.RulesError, match="already closed"):
        slots.add_closed_date(world["study"], dt.date(2026, 12, 24))


def test_a_closed_date_reopens_only_through_its_own_study(world, clock):
    """Removing a closed date offers the day again; another study's id removes nothing."""
    clock.move(at(2026, 12, 18, 12))
    _rules(world, max_days_ahead=14)
    closed = slots.add_closed_date(world["study"], dt.date(2026, 12, 23), "Away day")
    other = make_study(slug="other-study")
    assert slots.remove_closed_date(other, closed.id) is False
    assert dt.date(2026, 12, 23) not in {slot.date() for slot in _offered(world)}
    assert slots.remove_closed_date(world["study"], closed.id) is True
    assert dt.date(2026, 12, 23) in {slot.date() for slot in _offered(world)}
    assert slots.remove_closed_date(world["study"], closed.id) is False


def test_a_participant_cannot_book_a_time_the_rules_refuse(world):
    _rules(world, holiday_country="GB", holiday_subdivision="ENG")
    slots.add_closed_date(world["study"], MONDAY)
    link, _ = create_booking_link(
        world["first"], world["kathryn"], world["coordinator"], mode=AppointmentMode.TELEPHONE
    )
    db.session.commit()
    with pytest.raises(ClashError):
        book_through_link(link, at(2026, 3, 23, 9))


def test_rules_out_of_range_are_refused_with_a_message(world):
    with pytest.raises(slots.RulesError, match="daily maximum"):
        _rules(world, daily_limit=99)
    with pytest.raises(slots.RulesError, match="region"):
        _rules(world, holiday_country="XX")


def test_the_coordinator_sets_the_rules_and_closed_dates_on_a_page(world, client, auth):
    auth.login(world["coordinator"])
    page = client.get("/booking-rules")
    assert page.status_code == 200
    response = client.post(
        "/booking-rules",
        data={
            "rules-min_notice_hours": "",
            "rules-max_days_ahead": "0",
            "rules-buffer_minutes": "15",
            "rules-daily_limit": "3",
            "rules-region": "GB-ENG",
        },
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    # Every error at once, in the summary.
    assert "Enter the minimum notice." in text and "Number must be between 1 and 365" in text
    assert slots.rules_of(world["study"]) == slots.Rules()
    response = client.post(
        "/booking-rules",
        data={
            "rules-min_notice_hours": "48",
            "rules-max_days_ahead": "21",
            "rules-buffer_minutes": "15",
            "rules-daily_limit": "3",
            "rules-region": "GB-ENG",
        },
    )
    assert response.status_code == 302
    assert slots.rules_of(world["study"]) == slots.Rules(48, 21, 15, 3, "GB", "ENG")
    assert "Christmas Day" in client.get("/booking-rules").get_data(as_text=True)
    response = client.post(
        "/booking-rules/closed-dates",
        data={"closed-closed_on": "2026-12-24", "closed-reason": "Office shut"},
    )
    assert response.status_code == 302
    closed = slots.coordinator_closed_dates(world["study"])
    assert [(c.closed_on, c.reason) for c in closed] == [(dt.date(2026, 12, 24), "Office shut")]
    assert client.post(f"/booking-rules/closed-dates/{closed[0].id}/delete").status_code == 302
    assert slots.coordinator_closed_dates(world["study"]) == []


def test_interviewers_cannot_change_the_rules(world, client, auth):
    auth.login(world["kathryn"])
    assert client.get("/booking-rules").status_code in (403, 404)


def test_participants_own_changes_are_audit_events_and_a_daily_email(world, clock):
    notices.set_daily_email(world["coordinator"], True)
    link, _ = create_booking_link(
        world["first"], world["kathryn"], world["coordinator"], mode=AppointmentMode.TELEPHONE
    )
    db.session.commit()
    book_through_link(link, at(2026, 3, 23, 9), "America/New_York")
    cancel_through_link(link, "Ill")
    assert notices.send_booking_notices(NOW_PLUS(hours=1)) == 0  # not a day yet
    assert notices.send_booking_notices(NOW_PLUS(days=1)) == 1
    assert notices.send_booking_notices(NOW_PLUS(days=1, hours=1)) == 0  # sent once
    (message,) = outbox_messages("digest")
    assert message["To"].addresses[0].addr_spec == "coord@example.org"
    assert message["Date"] is not None and message["Message-ID"] is not None
    text = message.get_body(("plain",)).get_content()
    assert "P1-004 booked themselves for" in text
    assert "P1-004 cancelled their interview of" in text
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) >= 1


def NOW_PLUS(**delta) -> dt.datetime:  # noqa: N802 - reads as a time
    return at(2026, 3, 20, 12) + dt.timedelta(**delta)
