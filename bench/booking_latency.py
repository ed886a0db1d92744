"""Booking latency with a mail server that hangs, beside a trivial endpoint's floor.

    python bench/booking_latency.py [--bookings 40] [--database-url URL]

Serves the app on loopback (Werkzeug, threaded) with its in-process scheduler running, as
`flask run` does, and points SMTP_HOST at a server that accepts connections and never says a
word. Books interviews through the JSON API (POST /api/v1/studies/{slug}/appointments with a
coordinator's bearer token) and requests /favicon.ico (no database, no mail) as the floor,
alternating, and prints median, 95th percentile and maximum of each side by side. No request
may wait for the mail server: the script exits 1 if a booking's 95th percentile reaches one
second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchdb import FreshDatabase, build_frame  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from fieldwork import create_app  # noqa: E402
from fieldwork.accounts.models import Membership, User, UserRole  # noqa: E402
from fieldwork.accounts.services import create_api_token  # noqa: E402
from fieldwork.core.time import now_utc  # noqa: E402
from fieldwork.extensions import db  # noqa: E402
from fieldwork.reminders.scheduler import ReminderScheduler  # noqa: E402


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        """The figures are the output; one log line per request would bury them."""


class HungSMTPServer:
    """Accepts every connection and never answers (not even the greeting)."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)  # kept open, silent

    @property
    def connections(self) -> int:
        return len(self.held)


def build(count: int) -> tuple[str, list[int], int, str]:
    """A study (its slug) with `count` participants, an interviewer and a coordinator's API
    token."""
    frame = build_frame("Booking benchmark", count)
    study, interviewer = frame.study, frame.interviewer
    coordinator = User(
        email="coordinator@bench.example",
        name="Bench Coordinator",
        role=UserRole.COORDINATOR,
        password_hash="!",
        timezone="Europe/London",
    )
    db.session.add(coordinator)
    db.session.flush()
    # Studies are the unit of access: the coordinator works on the bench study too.
    db.session.add(Membership(user_id=coordinator.id, study_id=study.id, role=UserRole.COORDINATOR))
    participants = frame.participants
    _, token = create_api_token(coordinator, "bench")
    db.session.commit()
    return study.slug, [p.id for p in participants], interviewer.id, token


def timed(request: urllib.request.Request) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return time.perf_counter() - started, status


def summary(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95, ordered[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=40)
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL", ""))
    args = parser.parse_args()

    database = FreshDatabase.create(args.database_url)
    smtp = HungSMTPServer()
    app = create_app(
        {
            "SECRET_KEY": "bench-" + "x" * 40,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp.port,
            "SCHEDULER_SWEEP_SECONDS": 5.0,
            **database.config,
        }
    )
    with app.app_context():
        db.create_all()
        slug, participant_ids, interviewer_id, token = build(args.bookings)
        dialect = db.engine.dialect.name
    scheduler = ReminderScheduler(app).start()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    bookings: list[float] = []
    floor: list[float] = []
    statuses: list[int] = []
    first = now_utc().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=2)
    try:
        for number, participant_id in enumerate(participant_ids):
            starts = first + dt.timedelta(hours=2 * number)
            body = json.dumps(
                {
                    "participant_id": participant_id,
                    "interviewer_id": interviewer_id,
                    "starts_at": starts.isoformat(),
                    "mode": "telephone",
                    "confirm": True,
                }
            ).encode()
            request = urllib.request.Request(  # noqa: S310 (loopback http)
                f"{base}/api/v1/studies/{slug}/appointments",
                data=body,
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            seconds, status = timed(request)
            bookings.append(seconds)
            statuses.append(status)
            floor.append(timed(urllib.request.Request(f"{base}/favicon.ico"))[0])  # noqa: S310
        with app.app_context():
            from fieldwork.outbox.models import OutboxMessage

            queued = db.session.query(OutboxMessage).count()
            db.session.remove()
    finally:
        server.shutdown()
        scheduler.shutdown(wait=False)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        database.drop()

    booked = statuses.count(201)
    print(f"database: {dialect}; SMTP server at 127.0.0.1:{smtp.port} accepts and never answers")
    print(f"{'request':<34}{'n':>5}{'median':>10}{'p95':>10}{'max':>10}")
    for name, values in (
        ("POST /api/v1/studies/…/appointments", bookings),
        ("GET /favicon.ico (floor)", floor),
    ):
        median, p95, most = summary(values)
        print(
            f"{name:<34}{len(values):>5}{median * 1000:>8.1f}ms{p95 * 1000:>8.1f}ms"
            f"{most * 1000:>8.1f}ms"
        )
    print(
        f"bookings answered 201: {booked} of {len(statuses)}; messages queued in the outbox: "
        f"{queued}; connections the scheduler opened to the silent server: {smtp.connections}"
    )
    if booked != len(statuses):
        print(f"FAIL: answers other than 201: {sorted(set(statuses))}")
        return 1
    if summary(bookings)[1] >= 1.0:
        print("FAIL: a booking waited on the mail server (p95 of one second or more)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
