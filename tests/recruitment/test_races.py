"""Twenty submissions at once through one consent link, twenty withdrawals at once, twenty new
participants at once: exactly one effect each (distinct references), no 500, no deadlock, on
SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from fieldwork.audit.models import AuditEvent
from fieldwork.extensions import db
from fieldwork.recruitment.links import create_consent_link
from fieldwork.recruitment.models import Consent
from fieldwork.sampling.models import Participant, RecruitmentStatus
from tests.race import race
from tests.recruitment.helpers import ITEMS, make_published_version

#: The online form asks each item as yes or no.
ALL_YES = {f"item_{item.key}": "yes" for item in ITEMS}


def _link(world) -> str:
    version = make_published_version(world["study"], world["cora"])
    _, token = create_consent_link(world["ann"], version, world["cora"])
    return token


def test_twenty_submissions_through_one_consent_link_give_one_consent(app, world):
    token = _link(world)
    db.session.remove()
    statuses = race(app, "POST", f"/consent/{token}", {**ALL_YES, "typed_name": "Ann Adams"})
    assert 500 not in statuses, statuses
    assert statuses[302] >= 1
    assert db.session.scalar(sa.select(sa.func.count(Consent.id))) == 1


def test_twenty_withdrawals_at_once_withdraw_once(app, world):
    token = _link(world)
    participant_id = world["ann"].id
    app.test_client().post(f"/consent/{token}", data={**ALL_YES, "typed_name": "Ann Adams"})
    db.session.remove()
    statuses = race(
        app,
        "POST",
        f"/consent/{token}/withdraw",
        {"data_handling": "keep_anonymised", "reason": ""},
    )
    assert 500 not in statuses, statuses
    assert db.session.get(Participant, participant_id).status == RecruitmentStatus.WITHDRAWN
    withdrawals = db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "participant.withdrawn")
    )
    assert withdrawals == 1


def test_twenty_new_participants_at_once_get_twenty_distinct_references(app, world):
    form = {
        "organisation_id": world["jcp"].id,
        "role_id": world["tppm"].id,
        "district_id": world["north"].id,
        "interviewer_id": "",
        "job_title": "",
        "phone": "",
        "notes": "",
    }
    email = world["cora"].email
    db.session.remove()
    statuses = race(
        app,
        "POST",
        "/participants/new",
        lambda n: {**form, "name": f"Person {n}", "email": f"person{n}@example.org"},
        login=email,
    )
    assert statuses == {302: 20}, statuses
    references = db.session.scalars(
        sa.select(Participant.reference).where(Participant.name.like("Person %"))
    ).all()
    assert len(references) == 20 and len(set(references)) == 20
