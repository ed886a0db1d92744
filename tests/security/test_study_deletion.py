"""Deleting a study asks for its name to be typed, and is logged: an audit event that outlives
the study names it, its slug and who deleted it."""

from __future__ import annotations

from sqlalchemy import func, select

from fieldwork.audit.models import AuditEvent
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant, Study
from tests.security.conftest import World, ask, log_in


def _deletions() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "study.deleted")))


def test_a_study_is_deleted_only_when_its_name_is_typed(app, world: World):
    client = log_in(app, "coordinator")
    slug = world.demo.study.slug
    answer = ask(client, f"/studies/{slug}/delete", "POST", data={"confirm_name": "wrong"})
    assert answer.status_code == 422
    assert "Type the study" in answer.text
    assert db.session.scalar(select(Study.id).where(Study.slug == slug)) is not None
    assert _deletions() == []


def test_deleting_the_demo_study_is_logged_by_an_event_that_survives_it(app, world: World):
    """The whole demo study (appointments, consents, links, mail, quotas) goes; the event
    stays, outside any study, with the study's name and slug and the coordinator as actor."""
    study = world.demo.study
    study_id, name, slug = study.id, study.name, study.slug
    coordinator_id = world.demo.users["coordinator"].id
    client = log_in(app, "coordinator")
    answer = ask(client, f"/studies/{slug}/delete", "POST", data={"confirm_name": name})
    assert answer.status_code == 302, answer.text[:500]
    db.session.expire_all()
    assert db.session.get(Study, study_id) is None
    assert not db.session.scalar(
        select(func.count(Participant.id)).where(Participant.study_id == study_id)
    )
    [event] = _deletions()
    assert event.study_id is None
    assert (event.subject_type, event.subject_id) == ("study", study_id)
    assert event.before == {"name": name, "slug": slug}
    assert event.actor_id == coordinator_id
    # The other study and its rows are untouched.
    assert db.session.get(Participant, world.other_study_participant.id) is not None
    # The remaining study's audit trail shows the deletion (installation-wide events).
    page = ask(client, "/audit", "GET", query_string={"action": "study.deleted"})
    assert page.status_code == 200
    assert "study.deleted" in page.text and name in page.text
