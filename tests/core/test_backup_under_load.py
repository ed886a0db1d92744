"""Backups taken while bookings and cancellations commit all the time: every one restores
(one snapshot, so no reminder or history row without its appointment), on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import time

import sqlalchemy as sa

from fieldwork.accounts.models import User
from fieldwork.core.backup import restore_backup, write_backup
from fieldwork.extensions import db
from fieldwork.reminders.models import Reminder
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.booking import book_appointment, cancel_appointment
from fieldwork.scheduling.checks import BookingRequest
from fieldwork.scheduling.models import Appointment, AppointmentChange, AppointmentMode
from tests.scheduling.conftest import at


def test_every_backup_taken_under_concurrent_bookings_restores(app, world, tmp_path):
    ids = {
        "study": world["study"].id,
        "kathryn": world["kathryn"].id,
        "coordinator": world["coordinator"].id,
        "participants": [world["first"].id, world["second"].id],
    }
    db.session.remove()
    stop = threading.Event()
    errors: list[BaseException] = []
    done = {"bookings": 0, "cancellations": 0}

    def write() -> None:
        """Book and cancel, one after the other, as fast as the database allows."""
        number = 0
        with app.app_context():
            try:
                while not stop.is_set():
                    start = at(2026, 3, 23, 9) + dt.timedelta(
                        days=7 * (number // 8), hours=number % 8
                    )
                    appointment = book_appointment(
                        db.session.get(Study, ids["study"]),
                        db.session.get(Participant, ids["participants"][number % 2]),
                        db.session.get(User, ids["kathryn"]),
                        BookingRequest(starts_at=start, minutes=50, mode=AppointmentMode.TELEPHONE),
                        db.session.get(User, ids["coordinator"]),
                        confirmed=True,
                    )
                    done["bookings"] += 1
                    if number % 3:
                        cancel_appointment(appointment, "load test", None)
                        done["cancellations"] += 1
                    db.session.remove()
                    number += 1
            except BaseException as error:  # noqa: BLE001 - reported by the test below
                errors.append(error)
            finally:
                db.session.remove()

    writer = threading.Thread(target=write)
    writer.start()
    paths = []
    deadline = time.monotonic() + 60
    try:
        # Six backups at least, and on until the writer has committed a dozen changes.
        while len(paths) < 6 or (done["bookings"] < 12 and time.monotonic() < deadline):
            path = tmp_path / f"backup-{len(paths)}.gz"
            write_backup(path)
            paths.append(path)
            time.sleep(0.05)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert errors == []
    assert done["bookings"] >= 12, "the writer should have committed during the backups"

    for path in paths:
        summary = restore_backup(path)
        # Restored whole: every reminder and history row has its appointment.
        appointments = set(db.session.scalars(sa.select(Appointment.id)))
        assert len(appointments) == summary.rows["appointment"]
        assert set(db.session.scalars(sa.select(Reminder.appointment_id))) <= appointments
        assert set(db.session.scalars(sa.select(AppointmentChange.appointment_id))) <= appointments
        db.session.rollback()
