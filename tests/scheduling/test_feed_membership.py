"""An interviewer's calendar feed lists only the studies they belong to."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar

from fieldwork.accounts.services import set_membership
from fieldwork.scheduling.feed_tokens import regenerate_feed_token
from tests.scheduling.conftest import NOW, book


def test_the_feed_drops_a_study_the_interviewer_has_left(app, client, world):
    appointment = book(world, NOW + dt.timedelta(days=3, hours=2), confirmed=True)
    token = regenerate_feed_token(world["kathryn"])

    def uids() -> set[str]:
        response = client.get(f"/calendar/{token}.ics")
        assert response.status_code == 200
        calendar = Calendar.from_ical(response.data)
        return {str(event["UID"]) for event in calendar.walk("VEVENT")}

    assert appointment.ical_uid in uids()
    set_membership(world["kathryn"], world["study"].id, None)
    assert appointment.ical_uid not in uids()
