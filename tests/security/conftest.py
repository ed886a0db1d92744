"""The security suite's data: the demo study (tests/demo_urls.py), plus a second study whose
participant and appointment belong to the demo's second interviewer, and helpers to see that a
refused request changed nothing in the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant
from tests.demo_urls import PEOPLE, Demo, make_demo
from tests.factories import make_participant, make_study
from tests.smtp_server import smtp_server  # noqa: F401 - a fixture, used by name

#: Columns that record a read (when a token was last used), not a change.
READ_MARKERS = {"last_used_at"}


@dataclass
class World:
    """The demo, and the rows of a second study that belong to the second interviewer."""

    demo: Demo
    other_study_participant: Participant
    other_study_appointment_id: int


@pytest.fixture
def world(app: Flask) -> World:
    from fieldwork.scheduling.booking import book_appointment
    from fieldwork.scheduling.checks import BookingRequest
    from fieldwork.scheduling.models import AppointmentMode

    demo = make_demo()
    other = demo.users["other"]
    study = make_study("A second study", slug="second-study")
    person = make_participant(study, name="Bea Elsewhere", interviewer_id=other.id)
    starts_at = (now_utc() + dt.timedelta(days=40)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    appointment = book_appointment(
        study,
        person,
        other,
        BookingRequest(
            starts_at=starts_at, minutes=60, mode=AppointmentMode.TELEPHONE, location="Phone"
        ),
        demo.users["coordinator"],
        confirmed=True,
    )
    return World(demo, person, appointment.id)


def log_in(app: Flask, person: str) -> FlaskClient:
    """A client logged in as one of tests/demo_urls.py's PEOPLE."""
    client = app.test_client()
    login = PEOPLE[person]
    response = client.post("/login", data={"email": login.email, "password": login.password})
    assert response.status_code == 302, f"the demo {person} cannot log in"
    return client


@dataclass(frozen=True)
class Answer:
    """What a request answered, read in full (so file responses are closed)."""

    status_code: int
    mimetype: str
    location: str
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        import json

        return json.loads(self.text)


def ask(client: FlaskClient, url: str, method: str = "GET", **options) -> Answer:
    """One request; the response is read and closed."""
    with client.open(url, method=method, **options) as response:
        return Answer(
            response.status_code,
            response.mimetype or "",
            response.location or "",
            dict(response.headers),
            response.get_data().decode("utf-8", errors="replace"),
        )


def database_state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (read markers left out), to compare before and after."""
    state = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in READ_MARKERS]
            order = list(table.primary_key.columns) or columns
            rows = connection.execute(select(*columns).order_by(*order)).all()
            state[table.name] = [tuple(row) for row in rows]
    return state


def changes_between(before: dict, after: dict) -> list[str]:
    """What differs, table by table, in words; empty when nothing changed."""
    changes = []
    for name, rows in before.items():
        if rows != after[name]:
            added = [row for row in after[name] if row not in rows]
            removed = [row for row in rows if row not in after[name]]
            changes.append(
                f"{name}: {len(rows)} -> {len(after[name])} rows; added/changed {added[:2]}, "
                f"removed/changed {removed[:2]}"
            )
    return changes


def participant_names(*, except_interviewer_id: int) -> list[str]:
    """Names and emails of every participant the interviewer has nothing to do with: not
    assigned to them, and with no appointment with them (an interviewer sees the names of the
    people they interview, whoever is assigned to follow them up)."""
    from fieldwork.scheduling.models import Appointment

    theirs = select(Appointment.participant_id).where(
        Appointment.interviewer_id == except_interviewer_id
    )
    rows = db.session.execute(
        select(Participant.name, Participant.email).where(
            (Participant.interviewer_id != except_interviewer_id)
            | Participant.interviewer_id.is_(None),
            Participant.id.not_in(theirs),
        )
    ).all()
    return sorted({value for row in rows for value in row if value and len(value) > 5})
