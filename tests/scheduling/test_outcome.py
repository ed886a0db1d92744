"""Recording what happened: held needs consent to take part; it marks the participant
interviewed."""

from __future__ import annotations

import pytest

from fieldwork.extensions import db
from fieldwork.sampling.models import RecruitmentStatus
from fieldwork.scheduling.booking import record_outcome
from fieldwork.scheduling.errors import ConsentMissing, SchedulingError
from fieldwork.scheduling.models import Appointment, AppointmentStatus
from tests.scheduling.conftest import at, book, give_consent


def test_held_is_refused_without_consent_to_take_part(world, clock):
    appointment = book(world, at(2026, 3, 23, 10))
    clock.move(at(2026, 3, 23, 12))
    with pytest.raises(ConsentMissing, match="no consent to take part"):
        record_outcome(appointment, AppointmentStatus.HELD, 55, True, world["kathryn"])
    assert appointment.status == AppointmentStatus.BOOKED


def test_held_with_consent_records_the_outcome_and_marks_the_participant(world, clock):
    appointment = book(world, at(2026, 3, 23, 10))
    give_consent(world, world["first"])
    clock.move(at(2026, 3, 23, 12))
    record_outcome(appointment, AppointmentStatus.HELD, 55, True, world["kathryn"])
    assert (appointment.status, appointment.actual_minutes, appointment.is_recorded) == (
        AppointmentStatus.HELD,
        55,
        True,
    )
    assert world["first"].status == RecruitmentStatus.INTERVIEWED


def test_no_outcome_before_the_interview_time(world):
    appointment = book(world, at(2026, 3, 23, 10))
    with pytest.raises(SchedulingError, match="once the interview's time has come"):
        record_outcome(appointment, AppointmentStatus.NO_SHOW, None, None, world["kathryn"])


def test_the_outcome_page_shows_the_consent_message_beside_the_field(world, clock, client, auth):
    appointment = book(world, at(2026, 3, 23, 10))
    clock.move(at(2026, 3, 23, 12))
    auth.login(world["kathryn"])
    response = client.post(
        f"/appointments/{appointment.id}/outcome",
        data={"status": "held", "actual_minutes": "50", "is_recorded": "yes"},
    )
    assert response.status_code == 422
    assert "no consent to take part on record" in response.get_data(as_text=True)
    response = client.post(f"/appointments/{appointment.id}/outcome", data={"status": "no_show"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.NO_SHOW
