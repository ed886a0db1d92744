"""The study guard under every query of a logged-in request (accounts/scoping.py).

The guard is one loader option whose compiled SQL is cached and reused for every user with the
member study ids bound afresh: these tests run the same statements for users of different
studies in turn, so a cached statement that kept the first user's studies would show here.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, g
from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload

from fieldwork.audit.models import AuditEvent
from fieldwork.extensions import db
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.models import ContactAttempt, ContactChannel
from fieldwork.sampling.models import Participant, Study
from tests.factories import make_participant, make_study, make_user


def _attempt(participant: Participant) -> None:
    db.session.add(
        ContactAttempt(
            participant_id=participant.id,
            attempted_at=dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC),
            channel=ContactChannel.EMAIL,
            disposition=Disposition.NO_ANSWER,
        )
    )


def _world() -> dict:
    north, south = make_study("North study"), make_study("South study")
    people = {
        "north": make_participant(north, name="Nora North"),
        "south": make_participant(south, name="Sam South"),
    }
    for person in people.values():
        _attempt(person)
    db.session.add(
        AuditEvent(study_id=None, subject_type="user", subject_id=1, action="installation-wide")
    )
    db.session.commit()
    return {
        "north user": make_user("coordinator", studies=[north], is_administrator=False),
        "south user": make_user("coordinator", studies=[south], is_administrator=False),
        "administrator": make_user("coordinator", studies=[north], is_administrator=True),
    }


def _as(app: Flask, user_id: int, read):
    """What `read()` returns in a request of the user with `user_id`."""
    from fieldwork.accounts.models import User

    with app.test_request_context():
        g._login_user = db.session.get(User, user_id)
        try:
            return read()
        finally:
            db.session.remove()


def _names() -> list[str]:
    return sorted(db.session.scalars(select(Participant.name)))


def _attempt_owners() -> list[str]:
    statement = select(ContactAttempt).options(joinedload(ContactAttempt.participant))
    return sorted(attempt.participant.name for attempt in db.session.scalars(statement))


def _aliased_names() -> list[str]:
    person = aliased(Participant)
    return sorted(db.session.scalars(select(person.name)))


def test_the_same_statements_show_each_user_only_their_own_studies_in_turn(app):
    with app.app_context():
        users = {name: user.id for name, user in _world().items()}
    for _ in range(2):  # the second round runs from the compiled-statement cache
        for user, name in (("north user", "Nora North"), ("south user", "Sam South")):
            assert _as(app, users[user], _names) == [name]
            assert _as(app, users[user], _attempt_owners) == [name]
            assert _as(app, users[user], _aliased_names) == [name]
            assert len(_as(app, users[user], lambda: db.session.scalars(select(Study)).all())) == 1


def test_rows_of_no_study_are_for_administrators_only(app):
    with app.app_context():
        users = {name: user.id for name, user in _world().items()}

    def unattached() -> int:
        statement = select(AuditEvent).where(AuditEvent.action == "installation-wide")
        return len(db.session.scalars(statement).all())

    for _ in range(2):
        assert _as(app, users["north user"], unattached) == 0
        assert _as(app, users["administrator"], unattached) == 1


def test_a_user_of_no_study_sees_no_participant_and_no_contact_attempt(app):
    with app.app_context():
        _world()
        nobody = make_user("coordinator", studies=[], is_administrator=False).id
    assert _as(app, nobody, _names) == []
    assert _as(app, nobody, _attempt_owners) == []


def test_outside_a_request_nothing_is_limited(app):
    with app.app_context():
        _world()
        assert _names() == ["Nora North", "Sam South"]
