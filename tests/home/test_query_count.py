"""Every list and dashboard costs the same number of queries whatever the size of the study:
the participant list (and its search), a participant's page, follow-ups, the outbox, the
appointment list and calendar, the API's participant list, and both home pages, each counted
with a few rows and with many more."""

from __future__ import annotations

import datetime as dt

import pytest

from fieldwork.coverage import cache
from fieldwork.recruitment.contacts import log_contact_attempt
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.models import ContactChannel
from tests.factories import make_participant
from tests.scheduling.conftest import NOW, at, book

#: (who looks, what page); "first" in a path is the world's participant P1-004, "SLUG" the
#: world's study.
PAGES = [
    ("coordinator", "/participants"),
    ("coordinator", "/participants?q=person"),
    ("coordinator", "/participants/first"),
    ("coordinator", "/follow-ups"),
    ("coordinator", "/outbox"),
    ("coordinator", "/appointments"),
    ("coordinator", "/api/v1/studies/SLUG/participants"),
    ("coordinator", "/"),
    ("kathryn", "/"),
    ("kathryn", "/appointments/calendar?date=2026-03-23"),
]


def _grow(world, count: int, offset: int) -> None:
    """`count` more of Kathryn's participants, each called back (due today) and booked in the
    week shown (an invitation in the outbox each); P1-004 gets another attempt too."""
    for number in range(offset, offset + count):
        person = make_participant(
            world["study"],
            district=world["north"],
            organisation=world["jcp"],
            role=world["tppm"],
            name=f"Person {number}",
            interviewer_id=world["kathryn"].id,
        )
        for participant in (person, world["first"]):
            log_contact_attempt(
                participant,
                world["coordinator"],
                attempted_at=NOW - dt.timedelta(days=2, minutes=number),
                channel=ContactChannel.TELEPHONE,
                disposition=Disposition.CALL_BACK,
                next_action_on=NOW.date(),
            )
        day, hour = divmod(number, 8)
        book(world, at(2026, 3, 23 + day % 5, 9 + hour), participant=person, confirmed=True)


@pytest.mark.parametrize(("viewer", "path"), PAGES)
def test_the_page_costs_the_same_queries_with_ten_times_the_rows(
    world, client, auth, count_queries, viewer, path
):
    path = path.replace("first", str(world["first"].id)).replace("SLUG", world["study"].slug)
    auth.login(world[viewer])
    counts = []
    for count, offset in ((2, 0), (18, 2)):
        _grow(world, count, offset)
        client.get(path)  # a first visit may note itself (home's "since your last visit")
        cache.clear()  # home's panels are counted as computed, not as kept from the first view
        with count_queries() as counter:
            response = client.get(path)
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], f"{path}: {counts[0]} queries with 2 rows, {counts[1]} with 20"
