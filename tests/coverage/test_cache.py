"""The coverage figures are computed once per change of the study, and never served stale.

Every write to a study's data changes its revision token in the same transaction
(`fieldwork.core.revisions`); the figures are cached by (study, token). So a view between
changes runs no aggregate query, each kind of write makes the next view compute again, and a
second worker (another app over the same database, with a cache of its own) sees a change made
through the first.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from fieldwork import create_app
from fieldwork.core import revision_cache
from fieldwork.core.revisions import revision_of
from fieldwork.coverage import cache, queries, quotas, services
from fieldwork.coverage.models import CoverageResult
from fieldwork.extensions import db
from fieldwork.outbox.models import OutboxMessage
from fieldwork.recruitment.consent import withdraw
from fieldwork.recruitment.contacts import mark_latest_attempts
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.erasure import erase_personal_data
from fieldwork.recruitment.models import ConsentAnswer, ContactAttempt, DataHandling
from fieldwork.sampling.models import (
    District,
    Organisation,
    Participant,
    Phase,
    RecruitmentStatus,
    Study,
)
from fieldwork.scheduling.models import Appointment, AppointmentStatus
from tests.coverage.conftest import NOW, Builder, at
from tests.factories import make_participant, make_role, make_study
from tests.recruitment.helpers import make_published_version


def _aggregates(statements: list[str]) -> list[str]:
    """The statements that compute figures (grouped), as opposed to the page's lookups."""
    return [statement for statement in statements if "GROUP BY" in statement.upper()]


def _dashboard(study_id: int) -> services.Dashboard:
    """The dashboard as a new request sees it: nothing loaded, the clock at NOW."""
    db.session.expire_all()
    return services.dashboard(db.session.get(Study, study_id), NOW)


def _comparable(board: services.Dashboard) -> tuple:
    """Every figure of a dashboard, without the ORM objects it also carries."""
    return (
        board.grid,
        board.overall,
        [dataclasses.replace(cell, quota_id=0) for cell in board.finer],
        board.weeks,
    )


def _fresh(study_id: int) -> tuple:
    """The figures computed with an empty cache: what a cached dashboard must equal."""
    cache.clear()
    return _comparable(_dashboard(study_id))


def test_a_view_between_changes_runs_no_aggregate_query(hand_study, count_queries):
    study_id = hand_study["study"].id
    first = _comparable(_dashboard(study_id))
    with count_queries() as counter:
        again = _comparable(_dashboard(study_id))
        services.gaps(db.session.get(Study, study_id), None, NOW)
    assert again == first
    assert len(_aggregates(counter.statements)) == 1, "only the gaps' candidates are computed"
    with count_queries() as counter:
        services.gaps(db.session.get(Study, study_id), None, NOW)
        _dashboard(study_id)
    assert _aggregates(counter.statements) == []


def test_the_dashboard_computes_its_figures_in_one_query_when_they_are_not_cached(
    hand_study, count_queries
):
    cache.clear()
    with count_queries() as counter:
        _dashboard(hand_study["study"].id)
    assert len(_aggregates(counter.statements)) == 1


# --- Each kind of write invalidates -----------------------------------------------------------


def _participant(world: dict) -> None:
    make_participant(
        world["study"], district=world["north"], role=world["tppm"], organisation=world["jcp"]
    )


def _status(world: dict) -> None:
    world["people"]["A08"].status = RecruitmentStatus.INELIGIBLE
    db.session.commit()


def _contact(world: dict) -> None:
    world["builder"].contact(world["people"]["A08"], Disposition.REFUSED, at(6, 1))


def _consent(world: dict) -> None:
    world["builder"].consent(world["people"]["A05"])


def _consent_answer(world: dict) -> None:
    """A change to a row that reaches its study only through consent → participant."""
    answer = db.session.scalars(sa.select(ConsentAnswer).limit(1)).one()
    answer.is_agreed = not answer.is_agreed
    db.session.commit()


def _booking(world: dict) -> None:
    world["builder"].appointment(world["people"]["A07"], at(6, 12), AppointmentStatus.BOOKED)


def _outcome(world: dict) -> None:
    appointment = db.session.scalars(
        sa.select(Appointment).where(Appointment.status == AppointmentStatus.BOOKED)
    ).first()
    appointment.status = AppointmentStatus.CANCELLED
    db.session.commit()


def _quota(world: dict) -> None:
    quotas.save_grid(world["study"], {(world["manager"].id, world["p2"].id): 5})


def _role(world: dict) -> None:
    make_role(world["study"], "Adviser")


def _phase(world: dict) -> None:
    db.session.get(Phase, world["p2"].id).name = "Second wave"
    db.session.commit()


def _district(world: dict) -> None:
    db.session.get(District, world["east"].id).phase_id = world["p2"].id
    db.session.commit()


def _withdrawal(world: dict) -> None:
    withdraw(world["people"]["C01"], world["coordinator"], data_handling=DataHandling.DESTROY)


def _erasure(world: dict) -> None:
    erase_personal_data(world["people"]["A10"], world["coordinator"])


def _bulk_insert(world: dict) -> None:
    """An import's way: many rows in one statement, not one object at a time."""
    people = world["people"]
    db.session.execute(
        sa.insert(ContactAttempt),
        [
            {
                "participant_id": people[reference].id,
                "attempted_at": at(6, 1),
                "channel": "email",
                "disposition": "refused",
            }
            for reference in ("A07", "A08")
        ],
    )
    mark_latest_attempts([people["A07"].id, people["A08"].id])  # what a bulk writer keeps
    db.session.commit()


def _bulk_update(world: dict) -> None:
    db.session.execute(
        sa.update(Participant)
        .where(Participant.reference == "A08")
        .values(status=RecruitmentStatus.DECLINED)
    )
    db.session.commit()


WRITES: dict[str, Callable[[dict], None]] = {
    "participant added": _participant,
    "status changed": _status,
    "contact attempt logged": _contact,
    "consent recorded": _consent,
    "consent answer changed": _consent_answer,
    "appointment booked": _booking,
    "outcome recorded": _outcome,
    "quota set": _quota,
    "role added": _role,
    "phase renamed": _phase,
    "district moved to another phase": _district,
    "withdrawal": _withdrawal,
    "erasure": _erasure,
    "bulk insert (import)": _bulk_insert,
    "bulk update": _bulk_update,
}


@pytest.fixture
def world(hand_study) -> dict:
    study = hand_study["study"]
    people = hand_study["people"]
    return {
        **hand_study,
        "jcp": db.session.get(Organisation, people["A01"].organisation_id),
        "builder": Builder(
            study,
            hand_study["coordinator"],
            hand_study["interviewer"],
            make_published_version(study, hand_study["coordinator"], "Second form"),
        ),
    }


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_kind_of_write_to_the_study_makes_the_next_view_compute_again(
    world, write, count_queries
):
    study_id = world["study"].id
    _dashboard(study_id)
    before = revision_of(study_id)
    write(world)
    assert revision_of(study_id) != before
    with count_queries() as counter:
        after = _comparable(_dashboard(study_id))
    assert len(_aggregates(counter.statements)) == 1
    assert after == _fresh(study_id)


def test_a_write_that_is_rolled_back_keeps_the_cached_figures(hand_study):
    study_id = hand_study["study"].id
    _dashboard(study_id)
    before = revision_of(study_id)
    hand_study["people"]["A08"].status = RecruitmentStatus.DECLINED
    db.session.flush()
    db.session.rollback()
    assert revision_of(study_id) == before


def test_a_write_to_another_study_leaves_this_ones_figures_cached(hand_study):
    study_id = hand_study["study"].id
    before = revision_of(study_id)
    make_participant(make_study("Another study", slug="another"))
    assert revision_of(study_id) == before


def test_the_outboxs_bulk_bookkeeping_leaves_the_cached_figures(hand_study):
    """A sweep claims and confirms messages in bulk; no figure reads them, so no token moves."""
    study_id = hand_study["study"].id
    before = revision_of(study_id)
    db.session.execute(sa.update(OutboxMessage).values(attempts=OutboxMessage.attempts))
    db.session.commit()
    assert revision_of(study_id) == before


def test_the_figures_are_made_again_once_a_booked_interview_has_started(hand_study, count_queries):
    """Nothing is written, but A04's interview on 10 June is no longer booked ahead after it
    starts: the cached figures end there."""
    study_id = hand_study["study"].id
    study = db.session.get(Study, study_id)
    before = services.dashboard(study, at(6, 10, 10))
    after = services.dashboard(study, at(6, 10, 11))
    assert after.overall.booked == before.overall.booked - 1


# --- Several workers ---------------------------------------------------------------------------


@pytest.fixture
def second_worker(app: Flask, database_config: dict) -> Flask:
    """Another app over the same database, as a second gunicorn worker is: its own engine
    and its own cache."""
    return create_app(
        {"TESTING": True, "SECRET_KEY": "test-secret", "SERVER_NAME": None, **database_config}
    )


def test_a_change_made_through_one_worker_is_seen_by_the_other(hand_study, second_worker):
    study_id = hand_study["study"].id
    a08 = hand_study["people"]["A08"].id
    seen_first = _dashboard(study_id).overall.closed
    db.session.commit()  # this worker's request ends
    with second_worker.app_context():
        assert services.dashboard(db.session.get(Study, study_id), NOW).overall.closed == (
            seen_first
        )
        db.session.get(Participant, a08).status = RecruitmentStatus.DECLINED
        db.session.commit()
        assert services.dashboard(db.session.get(Study, study_id), NOW).overall.closed == (
            seen_first + 1
        )
        db.session.remove()
    assert _dashboard(study_id).overall.closed == seen_first + 1
    with second_worker.app_context():
        db.engine.dispose()


def _counting_computations(monkeypatch, pause: float = 0.0) -> list[int]:
    """Count (and optionally slow down) every computation of a study's counts, in any app."""
    computed: list[int] = []
    real = queries.dashboard_rows

    def counted(study_id, now):
        computed.append(study_id)
        time.sleep(pause)
        return real(study_id, now)

    monkeypatch.setattr(queries, "dashboard_rows", counted)
    return computed


def test_the_second_worker_reads_the_figures_the_first_computed(
    hand_study, second_worker, monkeypatch
):
    study_id = hand_study["study"].id
    cache.clear()
    computed = _counting_computations(monkeypatch)
    first = _comparable(_dashboard(study_id))
    db.session.commit()
    with second_worker.app_context():
        second = _comparable(services.dashboard(db.session.get(Study, study_id), NOW))
        db.session.remove()
        db.engine.dispose()
    assert computed == [study_id]
    assert second == first


def test_two_workers_asking_at_once_compute_once(app, hand_study, second_worker, monkeypatch):
    """Both ask for the same revision while neither has the figures: one claims the work,
    the other waits for its result."""
    study_id = hand_study["study"].id
    cache.clear()
    db.session.commit()
    computed = _counting_computations(monkeypatch, pause=0.3)
    start = threading.Barrier(2)
    seen: dict[str, tuple] = {}

    def ask(name: str, app: Flask) -> None:
        with app.app_context():
            start.wait()
            seen[name] = _comparable(services.dashboard(db.session.get(Study, study_id), NOW))
            db.session.remove()

    workers = [
        threading.Thread(target=ask, args=(name, app))
        for name, app in (("first", app), ("second", second_worker))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with second_worker.app_context():
        db.engine.dispose()
    assert computed == [study_id]
    assert seen["first"] == seen["second"] == _fresh(study_id)


def test_the_shared_store_holds_counts_only(hand_study):
    """No name or reference of a participant is ever written to the shared store."""
    study_id = hand_study["study"].id
    cache.clear()
    services.gaps(db.session.get(Study, study_id), None, NOW)
    _dashboard(study_id)
    stored = " ".join(db.session.scalars(sa.select(CoverageResult.payload)))
    assert stored
    for person in hand_study["people"].values():
        assert person.reference not in stored and person.name not in stored


def test_candidates_computed_before_an_erasure_leave_memory_at_the_next_view(app, hand_study):
    study_id = hand_study["study"].id
    services.gaps(db.session.get(Study, study_id), None, NOW)
    before = revision_of(study_id)
    erase_personal_data(hand_study["people"]["A10"], hand_study["coordinator"])
    services.gaps(db.session.get(Study, study_id), None, NOW)
    kept = app.extensions[revision_cache.EXTENSION].entries
    assert kept and all(key[1] != before for key in kept if key[0] == study_id)


def test_figures_read_beside_unrecorded_writes_are_kept_nowhere(app, hand_study):
    """Rows flushed but not committed are counted by this transaction only: keeping those
    figures under the current revision would show them to other workers (or after a rollback)."""
    study_id = hand_study["study"].id
    cache.clear()
    hand_study["people"]["A08"].status = RecruitmentStatus.DECLINED
    db.session.flush()
    _dashboard(study_id)
    db.session.rollback()
    assert db.session.scalars(sa.select(CoverageResult.payload)).all() == []
    assert [
        key for key in app.extensions[revision_cache.EXTENSION].entries if key[0] == study_id
    ] == []
