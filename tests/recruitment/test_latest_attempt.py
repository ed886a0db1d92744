"""Each participant's latest contact attempt carries `is_latest` (the follow-ups read it): a
new attempt takes it, a late entry for an earlier time does not, attempts logged at once leave
exactly one, erasure keeps it, and attempts written in bulk are marked in one statement."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from fieldwork.core.revisions import revision_of
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.recruitment.contacts import follow_ups_query, mark_latest_attempts
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.erasure import erase_personal_data
from fieldwork.recruitment.models import ContactAttempt, ContactChannel
from tests.factories import make_participant, make_study
from tests.race import race
from tests.recruitment.test_services import log


def _latest(participant_id: int) -> list[int]:
    """The ids of the participant's attempts marked latest, read afresh from the database."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(ContactAttempt.id)
            .where(ContactAttempt.participant_id == participant_id, ContactAttempt.is_latest)
            .order_by(ContactAttempt.id)
        )
    )


def test_a_new_attempt_takes_the_mark_from_the_one_before(world):
    ann, cora = world["ann"], world["cora"]
    first = log(ann, cora, Disposition.NO_ANSWER, days_ago=3)
    assert _latest(ann.id) == [first.id]
    second = log(ann, cora, Disposition.CALL_BACK, days_ago=1)
    assert _latest(ann.id) == [second.id]
    assert first.is_latest is False  # an attempt already loaded reads the new marker


def test_an_attempt_entered_late_for_an_earlier_time_leaves_the_mark_on_the_latest(world):
    ann, cora = world["ann"], world["cora"]
    today = now_utc().date()
    recent = log(ann, cora, Disposition.CALL_BACK, days_ago=1, next_action_on=today)
    log(ann, cora, Disposition.NO_ANSWER, days_ago=5, next_action_on=today - dt.timedelta(4))
    assert _latest(ann.id) == [recent.id]
    rows = list(db.session.scalars(follow_ups_query(world["study"], None, today)))
    assert [row.id for row in rows] == [recent.id]


def test_ten_attempts_logged_at_once_leave_exactly_one_latest(app, world):
    """Each request writes its attempt in its own transaction; the participant's row lock
    makes the second wait for the first, so none takes itself for the latest unseen."""
    ann_id, cora_email = world["ann"].id, world["cora"].email
    yesterday = (now_utc() - dt.timedelta(days=1)).date()
    db.session.remove()
    statuses = race(
        app,
        "POST",
        f"/participants/{ann_id}/contacts/new",
        lambda n: {
            "attempted_on": yesterday.isoformat(),
            "attempted_time": f"09:{n:02d}",
            "channel": ContactChannel.TELEPHONE.value,
            "disposition": Disposition.NO_ANSWER.value,
            "note": f"try {n}",
            "next_action_on": "",
        },
        count=10,
        login=cora_email,
    )
    assert statuses == {302: 10}, statuses
    newest = db.session.scalar(
        sa.select(ContactAttempt.id)
        .where(ContactAttempt.participant_id == ann_id)
        .order_by(ContactAttempt.attempted_at.desc(), ContactAttempt.id.desc())
        .limit(1)
    )
    assert _latest(ann_id) == [newest]


def test_erasure_keeps_the_mark_on_the_latest_attempt(world):
    ann, cora = world["ann"], world["cora"]
    log(ann, cora, Disposition.NO_ANSWER, days_ago=3, note="Ann Adams was out")
    latest = log(ann, cora, Disposition.CALL_BACK, days_ago=1, note="Ann asked for Monday")
    erase_personal_data(ann, cora)
    assert _latest(ann.id) == [latest.id]


def test_attempts_written_in_bulk_are_marked_in_one_statement(world, count_queries):
    """A bulk writer (an import, the benchmarks) inserts rows unmarked, then marks them."""
    ann, bob = world["ann"], world["bob"]
    now = now_utc()
    rows = [
        {"participant_id": person.id, "attempted_at": now - dt.timedelta(days=days)}
        for person, days in ((ann, 3), (ann, 1), (ann, 2), (bob, 4), (bob, 4))
    ]
    db.session.execute(
        sa.insert(ContactAttempt),
        [
            {**row, "channel": ContactChannel.EMAIL, "disposition": Disposition.NO_ANSWER}
            for row in rows
        ],
    )
    assert _latest(ann.id) == [] and _latest(bob.id) == []
    with count_queries() as counter:
        mark_latest_attempts()
    assert counter.count == 1
    db.session.commit()
    ann_ids = sorted(
        db.session.scalars(
            sa.select(ContactAttempt.id).where(ContactAttempt.participant_id == ann.id)
        )
    )
    bob_ids = sorted(
        db.session.scalars(
            sa.select(ContactAttempt.id).where(ContactAttempt.participant_id == bob.id)
        )
    )
    assert _latest(ann.id) == [ann_ids[1]]  # one day ago
    assert _latest(bob.id) == [bob_ids[-1]]  # a tie in time goes to the higher id


def test_marking_the_latest_leaves_other_studies_cached_figures_alone(world):
    """The marker restates attempts whose writes already changed their own study's token; it
    must not count as a bulk write to every study (which would empty every cache)."""
    other = make_study("Another study", slug="another")
    make_participant(other)
    before = revision_of(other.id)
    log(world["ann"], world["cora"], Disposition.NO_ANSWER, days_ago=1)
    assert revision_of(other.id) == before
    assert revision_of(world["study"].id) != 0
