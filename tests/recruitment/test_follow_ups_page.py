"""The follow-ups page lists the current study's due follow-ups only (it names its study itself,
without the per-row study guard), each visible to whom it was before, and costs the same
queries however many are due."""

from __future__ import annotations

import re

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.status import S, change_status
from tests.factories import make_frame, make_membership, make_participant, make_study
from tests.recruitment.test_services import log


def _references(page: str) -> list[str]:
    """The participant references the list links to, in page order."""
    return re.findall(r'<td data-label="Participant"><a href="[^"]+">([^<]+)</a>', page)


def _due_in(frame, interviewer, count: int, prefix: str) -> None:
    for number in range(count):
        person = make_participant(
            frame["study"],
            district=frame["north"],
            organisation=frame["jcp"],
            role=frame["tppm"],
            reference=f"{prefix}-{number:03d}",
            interviewer_id=interviewer.id,
        )
        log(person, interviewer, Disposition.CALL_BACK, days_ago=2, next_action_on=now_utc().date())


def test_a_coordinator_of_two_studies_sees_the_current_studys_follow_ups_only(world, client, auth):
    other = make_study("Another study", members=[world["cora"], world["ivy"]])
    _due_in(make_frame(other), world["ivy"], 2, "X")
    today = now_utc().date()
    log(world["ann"], world["cora"], Disposition.CALL_BACK, days_ago=1, next_action_on=today)
    auth.login(world["cora"])
    assert _references(client.get("/follow-ups").text) == ["P1-001"]
    with client.session_transaction() as session:
        session["study_id"] = other.id
    assert _references(client.get("/follow-ups").text) == ["X-000", "X-001"]


def test_an_interviewer_who_coordinates_another_study_sees_only_their_own_here(world, client, auth):
    """Coordinating one study gives no sight of everyone's follow-ups in another."""
    today = now_utc().date()
    log(world["ann"], world["cora"], Disposition.CALL_BACK, days_ago=1, next_action_on=today)
    log(world["bob"], world["cora"], Disposition.CALL_BACK, days_ago=1, next_action_on=today)
    other = make_study("Another study", members=[])
    make_membership(world["ivy"], other, "coordinator")
    auth.login(world["ivy"])
    page = client.get("/follow-ups").text
    assert _references(page) == ["P1-001"]  # Ann is Ivy's; Bob is Ian's


def test_a_withdrawn_person_is_not_followed_up(world, client, auth):
    today = now_utc().date()
    log(world["ann"], world["cora"], Disposition.CALL_BACK, days_ago=1, next_action_on=today)
    log(world["bob"], world["cora"], Disposition.CALL_BACK, days_ago=1, next_action_on=today)
    change_status(world["bob"], S.WITHDRAWN, world["cora"], "asked to be left out")
    db.session.commit()
    auth.login(world["cora"])
    assert _references(client.get("/follow-ups").text) == ["P1-001"]


def test_the_follow_ups_page_costs_the_same_queries_with_few_or_many_due(
    world, client, auth, count_queries
):
    auth.login(world["cora"])
    counts = []
    for count, prefix in ((1, "A"), (12, "B")):
        _due_in(world, world["ivy"], count, prefix)
        client.get("/follow-ups")
        with count_queries() as counter:
            page = client.get("/follow-ups").text
        counts.append(counter.count)
    assert len(_references(page)) == 13
    assert counts[0] == counts[1]
