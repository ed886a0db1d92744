"""Every page a participant sees passes axe-core with no violation at all (not only the
serious ones), at phone and desktop width."""

from __future__ import annotations

import datetime as dt

import pytest

from fieldwork.core.time import set_clock
from fieldwork.extensions import db
from fieldwork.recruitment.links import create_consent_link, give_online_consent
from fieldwork.scheduling.availability import add_window
from fieldwork.scheduling.links import create_booking_link
from fieldwork.scheduling.models import AppointmentMode
from tests.factories import make_frame, make_participant, make_user
from tests.pagecheck import describe_axe, every_axe_violation
from tests.recruitment.helpers import ITEMS, make_published_version

pytestmark = pytest.mark.browser

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)


def test_participant_pages_have_no_axe_violation_at_390_and_1280(app, page, live_server, console):
    set_clock(lambda: NOW)
    try:
        frame = make_frame()
        coordinator = make_user("coordinator")
        kathryn = make_user("interviewer", name="Kathryn Interviewer")
        people = [
            make_participant(
                frame["study"],
                district=frame["north"],
                organisation=frame["jcp"],
                role=frame["tppm"],
                name=name,
                email=f"{name.split()[0].lower()}@example.org",
            )
            for name in ("Ann Adams", "Bob Brown")
        ]
        for weekday in range(5):
            add_window(kathryn, weekday, dt.time(9), dt.time(12), "Europe/London")
        _, booking_token = create_booking_link(
            people[0],
            kathryn,
            coordinator,
            mode=AppointmentMode.VIDEO,
            video_link="https://m.example.org/x",
        )
        db.session.commit()
        version = make_published_version(frame["study"], coordinator)
        _, consent_token = create_consent_link(people[1], version, coordinator)
        used_link, used_token = create_consent_link(people[0], version, coordinator)
        give_online_consent(used_link, {item.key: True for item in ITEMS}, "Ann Adams")
        console.expect_status(404)
        paths = [
            f"/book/{booking_token}?detected=1",
            f"/book/{booking_token}?detected=1&day=2026-03-23",
            f"/book/{booking_token}?detected=1&day=2026-03-23&slot=2026-03-23T09:00Z",
            f"/book/{booking_token}/zone?q=new",
            f"/consent/{consent_token}",
            "/book/no-such-link",
            "/consent/no-such-link",
        ]
        problems: list[str] = []
        for width, height in ((390, 844), (1280, 900)):
            page.set_viewport_size({"width": width, "height": height})
            for path in paths:
                page.goto(live_server(path))
                problems += describe_axe(f"{width} {path}", every_axe_violation(page))
        # After booking: the booked page, the cancel page, the consent given and withdraw pages.
        page.goto(live_server(paths[2]))
        page.get_by_role("button", name="Confirm booking").click()
        for width, height in ((390, 844), (1280, 900)):
            page.set_viewport_size({"width": width, "height": height})
            for path in (
                f"/book/{booking_token}",
                f"/book/{booking_token}/cancel",
                f"/consent/{used_token}",
                f"/consent/{used_token}/withdraw",
            ):
                page.goto(live_server(path))
                problems += describe_axe(f"{width} {path}", every_axe_violation(page))
        assert problems == []
    finally:
        set_clock(None)
