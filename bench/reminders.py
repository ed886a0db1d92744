"""Send 10,000 due reminders to a local SMTP server; print messages per second beside the floor.

    python bench/reminders.py [--reminders 10000] [--database-url URL] [--time-limit 300]

Builds a synthetic study in a fresh database (a temporary SQLite file by default, or a schema
of its own on the PostgreSQL server named by --database-url or TEST_DATABASE_URL, dropped at
the end): 5,000 appointments three hours ahead, each with an interviewer and a participant
reminder, all due now. An aiosmtpd server on loopback, in a process of its own, receives
them. The sweep (the same function the scheduler runs) repeats until nothing is due.
Duplicates are counted at the server by Message-ID and must be 0; the script exits 1
otherwise, or when the time limit passes with reminders still unsent.

The floor, measured in the same run against the same server: plain smtplib sending the same
messages over one reused connection, with no database at all, twice: just before the sweep (the
emails as booking wrote them, dated as the sweep dates them) and just after it (as the outbox
stored them). Each of the three measurements starts on a freshly started server process, and
the floor's rate is the two floors' messages over their seconds, so a machine whose load drifts
during the run weighs on both sides alike. The outbox's rate is printed as a share of it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import smtplib
import sys
import threading
import time
import uuid
from collections import Counter
from email.parser import BytesHeaderParser

import sqlalchemy as sa
from aiosmtpd.controller import Controller

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchdb import FreshDatabase, build_frame  # noqa: E402

from fieldwork import create_app  # noqa: E402
from fieldwork.core.time import now_utc  # noqa: E402
from fieldwork.extensions import db  # noqa: E402
from fieldwork.outbox.models import OutboxMessage  # noqa: E402
from fieldwork.reminders.models import Reminder, ReminderRecipient, ReminderState  # noqa: E402
from fieldwork.scheduling.models import Appointment, AppointmentMode  # noqa: E402


class Collector:
    """Counts Message-IDs as the server accepts them."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.parser = BytesHeaderParser()

    async def handle_DATA(self, server, session, envelope) -> str:
        message_id = str(self.parser.parsebytes(envelope.original_content)["Message-ID"])
        with self.lock:
            self.ids[message_id] += 1
        return "250 OK"


def serve(port: int, ready, stop, counts) -> None:
    """The SMTP server, in a process of its own: in the sweep's process it would compete with the
    code measured (and with the floor) for one interpreter lock, which made shares swing."""
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    counts.put(dict(collector.ids))


class SmtpServer:
    """Starts `serve` in a child process; `stop()` answers how often each Message-ID arrived."""

    def __init__(self, port: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.ready, self.stop_event, self.counts = context.Event(), context.Event(), context.Queue()
        self.process = context.Process(
            target=serve, args=(port, self.ready, self.stop_event, self.counts), daemon=True
        )
        self.process.start()
        if not self.ready.wait(30):
            raise RuntimeError("the SMTP server did not start")

    def stop(self) -> Counter[str]:
        self.stop_event.set()
        counts = Counter(self.counts.get(timeout=60))
        self.process.join(10)
        return counts


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def floor(port: int, messages: list[tuple[str, list[str], bytes]]) -> float:
    """Seconds plain smtplib takes to send these messages over one reused connection."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for sender, recipients, raw in messages:
            connection.sendmail(sender, recipients, raw)
    return time.perf_counter() - started


def build(count: int) -> None:
    """A study, one interviewer, 100 participants, count/2 appointments, count reminders."""
    frame = build_frame("Reminder benchmark", 100)
    study, interviewer, participants = frame.study, frame.interviewer, frame.participants
    now = now_utc()
    appointments = count // 2
    for n in range(appointments):
        starts = now + dt.timedelta(hours=3, minutes=n)
        db.session.add(
            Appointment(
                study_id=study.id,
                participant_id=participants[n % 100].id,
                interviewer_id=interviewer.id,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=1),
                timezone="Europe/London",
                mode=AppointmentMode.TELEPHONE,
                busy_from=starts,
                busy_until=starts + dt.timedelta(hours=1),
                ical_uid=f"{uuid.uuid4()}@bench",
            )
        )
    db.session.flush()
    ids = db.session.scalars(sa.select(Appointment.id).order_by(Appointment.id)).all()
    due = now - dt.timedelta(seconds=1)
    db.session.execute(
        sa.insert(Reminder),
        [
            {
                "appointment_id": appointment_id,
                "recipient": recipient,
                "offset_minutes": 120,
                "due_at": due,
                "state": ReminderState.PENDING,
                "attempts": 0,
                "last_error": "",
                "message_id": f"<reminder-{uuid.uuid4().hex}@bench.example>",
                "created_at": now,
            }
            for appointment_id in ids
            for recipient in (ReminderRecipient.INTERVIEWER, ReminderRecipient.PARTICIPANT)
        ][:count],
    )
    db.session.commit()
    prepare()


def prepare() -> None:
    """Write each reminder's email as booking does (reminders.services.plan_reminders), so the
    sweep measured is the one a real installation runs."""
    from sqlalchemy.orm import joinedload

    from fieldwork.reminders.messages import prepare_reminder_email
    from fieldwork.reminders.settings import settings_for

    reminders = (
        db.session.scalars(
            sa.select(Reminder).options(
                joinedload(Reminder.appointment).joinedload(Appointment.participant),
                joinedload(Reminder.appointment).joinedload(Appointment.interviewer),
                joinedload(Reminder.appointment).joinedload(Appointment.study),
            )
        )
        .unique()
        .all()
    )
    settings = settings_for(reminders[0].appointment.study_id)
    for reminder in reminders:
        prepare_reminder_email(reminder, reminder.appointment, settings)
    db.session.commit()


def written_ahead() -> list[tuple[str, list[str], bytes]]:
    """The emails booking wrote ahead (reminders.messages.prepare_reminder_email), dated now as
    the sweep dates them: the messages the sweep will send, for the floor before it."""
    from fieldwork.outbox.composing import restamp
    from fieldwork.reminders.messages import read_prepared_email

    messages = []
    for stored in db.session.scalars(sa.select(Reminder.prepared_email).order_by(Reminder.id)):
        message = read_prepared_email(stored)[1]
        messages.append((message.sender, list(message.recipients), restamp(message).raw))
    return messages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL", ""))
    parser.add_argument(
        "--time-limit",
        type=float,
        default=300.0,
        help="Give up after this many seconds of sending.",
    )
    args = parser.parse_args()

    database = FreshDatabase.create(args.database_url)
    config: dict = {"TESTING": True, "SECRET_KEY": "bench", **database.config}

    port = free_port()
    server: SmtpServer | None = None
    ids: Counter[str] = Counter()
    config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_USE_TLS=False)
    app = create_app(config)
    from fieldwork.reminders import jobs

    try:
        with app.app_context():
            db.create_all()
            print(f"database: {db.engine.dialect.name}; building {args.reminders} reminders ...")
            build(args.reminders)
            written = written_ahead()
            server = SmtpServer(port)
            floor_before = floor(port, written)
            server.stop()  # the floor's copies are not counted with the sweep's
            server = SmtpServer(port)
            started = time.perf_counter()
            sweeps = 0
            while time.perf_counter() - started < args.time_limit:
                jobs.sweep()
                sweeps += 1
                left = db.session.scalar(
                    sa.select(sa.func.count(Reminder.id)).where(
                        Reminder.state == ReminderState.PENDING
                    )
                )
                db.session.commit()
                if not left:
                    break
            elapsed = time.perf_counter() - started
            ids = server.stop()
            server = None
            sent = db.session.scalar(
                sa.select(sa.func.count(Reminder.id)).where(Reminder.state == ReminderState.SENT)
            )
            stored = [
                (row.sender, row.recipient_list, row.raw)
                for row in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
            ]
            db.session.remove()
            db.engine.dispose()
        received = sum(ids.values())
        duplicates = sum(n - 1 for n in ids.values() if n > 1)
        server = SmtpServer(port)
        floor_after = floor(port, stored)
    finally:
        if server is not None:
            server.stop()
        database.drop()

    print(
        f"sweeps: {sweeps}; reminders sent: {sent} of {args.reminders}; "
        f"messages received: {received}"
    )
    rate = received / elapsed
    floor_rate = (len(written) + len(stored)) / (floor_before + floor_after)
    print(f"time: {elapsed:.1f} s; messages per second: {rate:.0f}")
    print(
        f"floor (plain smtplib, one reused connection, same server, same messages): "
        f"{len(written) / floor_before:.0f} messages per second before the sweep, "
        f"{len(stored) / floor_after:.0f} after; together {floor_rate:.0f}; "
        f"the outbox sends {rate / floor_rate:.0%} of it"
    )
    print(f"duplicates (by Message-ID at the server): {duplicates}")
    return 0 if duplicates == 0 and sent == args.reminders else 1


if __name__ == "__main__":
    raise SystemExit(main())
