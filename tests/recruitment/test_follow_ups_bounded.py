"""The follow-ups page and the home panel count at most COUNT_LIMIT due follow-ups: past it
they say "more than", so their COUNT costs the same however many are due."""

from __future__ import annotations

import pytest

from fieldwork.core import pagination
from fieldwork.core.time import now_utc
from fieldwork.recruitment.dispositions import Disposition
from tests.factories import make_participant
from tests.recruitment.test_services import log


@pytest.fixture
def three_due(world, monkeypatch):
    """Three people with a follow-up due today, counted with a bound of two."""
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 2)
    today = now_utc().date()
    people = [world["ann"], world["bob"]]
    people.append(
        make_participant(
            world["study"],
            district=world["north"],
            organisation=world["jcp"],
            role=world["tppm"],
            reference="P1-009",
        )
    )
    for person in people:
        log(person, world["cora"], Disposition.CALL_BACK, days_ago=1, next_action_on=today)
    return world


def test_the_follow_ups_page_says_more_than_the_bound(three_due, client, auth):
    auth.login(three_due["cora"])
    page = client.get("/follow-ups").get_data(as_text=True)
    assert "of more than 2" in page
    assert page.count('data-label="Due"') == 3  # the rows themselves are all listed


def test_the_home_panel_says_more_than_the_bound(three_due, client, auth):
    auth.login(three_due["cora"])
    client.get("/")
    page = client.get("/").get_data(as_text=True)
    assert "Follow-ups due (more than 2)" in page


def test_below_the_bound_the_panel_gives_the_exact_number(world, client, auth):
    today = now_utc().date()
    log(world["ann"], world["cora"], Disposition.CALL_BACK, days_ago=1, next_action_on=today)
    auth.login(world["cora"])
    client.get("/")
    assert "Follow-ups due (1)" in client.get("/").get_data(as_text=True)
