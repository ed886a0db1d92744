"""A small study for the pipeline: interviews held around Easter and Christmas 2026, so due
dates cross weekends and bank holidays. The clock stands at Wednesday 22 April 2026, 12:00 UTC."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from fieldwork.core.time import UTC, set_clock
from fieldwork.extensions import db
from fieldwork.recruitment.consent import record_consent
from fieldwork.recruitment.models import ConsentMethod
from fieldwork.sampling.models import RecruitmentStatus
from fieldwork.scheduling.models import Appointment, AppointmentMode, AppointmentStatus
from tests.factories import make_frame, make_participant, make_user
from tests.recruitment.helpers import all_yes, make_published_version

NOW = dt.datetime(2026, 4, 22, 12, 0, tzinfo=UTC)
_uids = itertools.count(1)


@pytest.fixture
def clock(app):
    set_clock(lambda: NOW)
    yield NOW
    set_clock(None)


def make_interview(
    world: dict,
    starts_at: dt.datetime,
    *,
    interviewer=None,
    status: AppointmentStatus = AppointmentStatus.HELD,
    reference: str | None = None,
    answers: dict | None = None,
    role=None,
    district=None,
) -> Appointment:
    """A participant with consent on record and one appointment with the given outcome (rows
    written directly: the booking rules are scheduling's, tested there)."""
    fields = {"reference": reference} if reference else {}
    person = make_participant(
        world["study"],
        district=district or world["north"],
        organisation=world["jcp"],
        role=role or world["tppm"],
        interviewer_id=(interviewer or world["interviewer"]).id,
        **fields,
    )
    record_consent(
        person,
        world["version"],
        method=ConsentMethod.WRITTEN,
        answers=answers or all_yes(),
        actor=world["coordinator"],
        given_at=min(starts_at, NOW) - dt.timedelta(days=3),
    )
    appointment = Appointment(
        study_id=world["study"].id,
        participant_id=person.id,
        interviewer_id=(interviewer or world["interviewer"]).id,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=1),
        busy_from=starts_at,
        busy_until=starts_at + dt.timedelta(hours=1),
        timezone="Europe/London",
        mode=AppointmentMode.TELEPHONE,
        status=status,
        ical_uid=f"pipeline-test-{next(_uids)}@example.org",
    )
    db.session.add(appointment)
    if status == AppointmentStatus.HELD:
        person.status = RecruitmentStatus.INTERVIEWED
    db.session.commit()
    return appointment


@pytest.fixture
def world(app, clock) -> dict:
    frame = make_frame()
    coordinator = make_user("coordinator")
    interviewer = make_user("interviewer")
    other = make_user("interviewer")
    version = make_published_version(frame["study"], coordinator)
    return {
        **frame,
        "coordinator": coordinator,
        "interviewer": interviewer,
        "other_interviewer": other,
        "version": version,
    }
