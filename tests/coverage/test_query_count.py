"""Every coverage page runs the same number of SQL queries for a small and a larger study."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from fieldwork.coverage import quotas, services
from fieldwork.extensions import db
from fieldwork.recruitment.contacts import mark_latest_attempts
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.models import ContactAttempt, ContactChannel
from fieldwork.sampling.models import OrganisationKind, Participant, RecruitmentStatus
from fieldwork.scheduling.models import AppointmentStatus
from tests.coverage.conftest import NOW, add_appointment
from tests.factories import (
    make_district,
    make_organisation,
    make_role,
    make_study,
    make_user,
)

_numbers = itertools.count(1)


def grow(world: dict, people: int) -> None:
    """Add `people` participants spread over the cells, with contacts and appointments."""
    statuses = list(RecruitmentStatus)
    appointment_statuses = list(AppointmentStatus)
    for index in range(people):
        number = next(_numbers)
        district = world["districts"][index % 2]
        role, organisation = world["cells"][index % 2]
        person = Participant(
            study_id=world["study"].id,
            reference=f"G{number:05d}",
            name=f"Person {number}",
            district_id=district.id,
            organisation_id=organisation.id,
            role_id=role.id,
            status=statuses[index % len(statuses)],
        )
        db.session.add(person)
        db.session.flush()
        db.session.add(
            ContactAttempt(
                participant_id=person.id,
                attempted_at=NOW - dt.timedelta(days=3),
                channel=ContactChannel.EMAIL,
                disposition=list(Disposition)[index % 9],
            )
        )
        add_appointment(
            world["study"],
            person,
            world["interviewer"],
            NOW + dt.timedelta(days=(index % 20) - 10),
            appointment_statuses[index % len(appointment_statuses)],
        )
    mark_latest_attempts()  # as logging each attempt through the service would
    db.session.commit()


@pytest.fixture
def world(app, clock) -> dict:
    study = make_study(slug="growing")
    north, south = make_district(study, "North", 1), make_district(study, "South", 2)
    jcp = make_organisation(study, "JCP", OrganisationKind.JCP, [north, south])
    acme = make_organisation(study, "Acme", OrganisationKind.LEAD_PROVIDER, [north, south])
    tppm = make_role(study, "TPPM", OrganisationKind.JCP)
    manager = make_role(study, "Manager", OrganisationKind.LEAD_PROVIDER)
    phases = services.sampling.phases_of(study)
    quotas.save_grid(study, {(tppm.id, p.id): 3 for p in phases})
    quotas.add_finer_quota(study, 1, role_id=tppm.id, district_id=north.id)
    quotas.add_finer_quota(study, 2, organisation_kind=OrganisationKind.JCP, phase_id=phases[0].id)
    return {
        "study": study,
        "districts": [north, south],
        "cells": [(tppm, jcp), (manager, acme)],
        "interviewer": make_user("interviewer"),
        "coordinator": make_user("coordinator"),
        "tppm": tppm,
        "phase": phases[0],
    }


def test_every_coverage_page_runs_as_many_queries_for_60_people_as_for_6(
    world, client, auth, count_queries
):
    auth.login(world["coordinator"])
    urls = [
        "/coverage",
        "/coverage.csv",
        "/coverage/gaps",
        f"/coverage/cell?role={world['tppm'].id}&phase={world['phase'].id}",
        f"/api/v1/studies/{world['study'].slug}/coverage",
    ]

    def counts() -> list[int]:
        result = []
        for url in urls:
            with count_queries() as counter:
                assert client.get(url).status_code == 200, url
            result.append(_queries(counter))
        return result

    grow(world, 6)
    small = counts()
    grow(world, 54)
    assert counts() == small
    # The figures take ten at most (next test); the rest is the page around them: the user
    # and their memberships, the mail banner, the pipeline's counting step, the navigation.
    assert small[0] <= 18, "the dashboard needs a handful of queries, not one per row"


def _queries(counter) -> int:
    """The statements that read or write rows: PostgreSQL's per-transaction settings (jit off,
    the shared store's asynchronous commit) are not queries."""
    return sum(1 for statement in counter.statements if not statement.startswith("SET "))


def test_the_dashboard_figures_take_ten_queries_at_most(world, count_queries):
    """Seven for the figures themselves, and three for the store every worker shares (read
    it, claim the computation, store the counts: `coverage.shared`)."""
    grow(world, 20)
    study = db.session.get(type(world["study"]), world["study"].id)
    with count_queries() as counter:
        services.dashboard(study)
    assert _queries(counter) <= 10
