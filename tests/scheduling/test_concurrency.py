"""Two bookings racing for one interviewer's time: exactly one wins, on SQLite and PostgreSQL.

To make the race real rather than lucky, the clash check is slowed down (it sleeps after
reading): without the write lock taken before the check, both requests would read "free" and
both would insert.
"""

from __future__ import annotations

import threading
import time

import pytest

from fieldwork.accounts.models import User
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling import booking
from fieldwork.scheduling.booking import book_appointment
from fieldwork.scheduling.checks import BookingRequest
from fieldwork.scheduling.errors import ClashError
from fieldwork.scheduling.links import create_booking_link
from fieldwork.scheduling.models import Appointment, AppointmentMode, AppointmentStatus
from tests.scheduling.conftest import at


@pytest.fixture
def slow_clash_check(monkeypatch):
    original = booking.find_clash

    def slow(*args, **kwargs):
        result = original(*args, **kwargs)
        time.sleep(0.4)
        return result

    monkeypatch.setattr(booking, "find_clash", slow)


def _run_together(*targets):
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def runner(index, target):
        barrier.wait()
        try:
            results[index] = target()
        except Exception as error:  # the outcome is what the test inspects
            results[index] = error

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_concurrent_bookings_of_one_interviewer_let_exactly_one_through(
    app, world, slow_clash_check
):
    ids = {
        "study": world["study"].id,
        "kathryn": world["kathryn"].id,
        "coordinator": world["coordinator"].id,
    }
    participants = [world["first"].id, world["second"].id]
    db.session.remove()

    def book_for(participant_id):
        def attempt():
            with app.app_context():
                try:
                    appointment = book_appointment(
                        db.session.get(Study, ids["study"]),
                        db.session.get(Participant, participant_id),
                        db.session.get(User, ids["kathryn"]),
                        BookingRequest(
                            starts_at=at(2026, 3, 23, 10),
                            minutes=60,
                            mode=AppointmentMode.TELEPHONE,
                        ),
                        db.session.get(User, ids["coordinator"]),
                    )
                    return appointment.id
                finally:
                    db.session.remove()

        return attempt

    results = _run_together(*(book_for(pid) for pid in participants))
    won = [r for r in results if isinstance(r, int)]
    lost = [r for r in results if isinstance(r, ClashError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert "Kathryn Interviewer already has" in str(lost[0])
    booked = db.session.scalar(
        db.select(db.func.count(Appointment.id)).where(
            Appointment.status == AppointmentStatus.BOOKED
        )
    )
    assert booked == 1


def test_two_participants_racing_for_one_slot_one_wins_the_other_is_told(
    app, world, slow_clash_check
):
    """Both post the same free slot through their own links at the same moment."""
    links = []
    for person in (world["first"], world["second"]):
        link, token = create_booking_link(
            person, world["kathryn"], world["coordinator"], mode=AppointmentMode.TELEPHONE
        )
        links.append(token)
    db.session.commit()
    slot = "2026-03-23T10:00Z"  # Monday 10:00 GMT, inside Kathryn's window
    db.session.remove()

    def posting(token):
        def attempt():
            response = app.test_client().post(f"/book/{token}", data={"slot": slot})
            return response.status_code, response.get_data(as_text=True)

        return attempt

    results = _run_together(*(posting(token) for token in links))
    statuses = sorted(status for status, _ in results)
    assert statuses == [302, 409], results
    loser_page = next(page for status, page in results if status == 409)
    assert "That time has just been taken" in loser_page
    # The remaining times are offered: seven of Monday's eight, 10:00 gone.
    assert "Monday 23 March, 7 free times" in loser_page
