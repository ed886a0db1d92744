"""An empty database for one benchmark run: a temporary SQLite file, or a schema of its own on
a PostgreSQL server (dropped afterwards), so runs never meet each other's rows."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa


@dataclass
class FreshDatabase:
    #: SQLALCHEMY_DATABASE_URI and SQLALCHEMY_ENGINE_OPTIONS for create_app.
    config: dict = field(default_factory=dict)
    #: The PostgreSQL schema to drop at the end, if any.
    schema: str | None = None

    @classmethod
    def create(cls, database_url: str | None) -> FreshDatabase:
        if not database_url:
            folder = tempfile.mkdtemp(prefix="fieldwork-bench-")
            url = f"sqlite:///{os.path.join(folder, 'bench.sqlite')}"
            return cls({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {}})
        url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        schema = f"fw_bench_{secrets.token_hex(4)}"
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        options = {"connect_args": {"options": f"-csearch_path={schema}"}}
        return cls({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options}, schema)

    def drop(self) -> None:
        """Drop the PostgreSQL schema (a SQLite file stays in its temporary folder)."""
        if not self.schema:
            return
        engine = sa.create_engine(self.config["SQLALCHEMY_DATABASE_URI"])
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        engine.dispose()


@dataclass
class BenchFrame:
    """The smallest study a benchmark books in: one of each frame row, an interviewer who is a
    member of the study, and `count` participants."""

    study: object
    interviewer: object
    participants: list


def build_frame(name: str, count: int, fields: Callable[[int], dict] | None = None) -> BenchFrame:
    """Add (and flush, not commit) a bench study named `name` with `count` participants.

    `fields(n)` may give the n-th participant other values (a name, a status)."""
    from fieldwork.accounts.models import Membership, User, UserRole
    from fieldwork.extensions import db
    from fieldwork.sampling.models import (
        District,
        Organisation,
        OrganisationKind,
        Participant,
        Phase,
        Role,
        Study,
    )

    study = Study(
        slug="bench", name=name, organiser_name="Bench team", organiser_email="team@bench.example"
    )
    db.session.add(study)
    db.session.flush()
    phase = Phase(study_id=study.id, number=1, name="Phase 1")
    db.session.add(phase)
    db.session.flush()
    district = District(study_id=study.id, phase_id=phase.id, name="Bench district")
    organisation = Organisation(study_id=study.id, name="Bench JCP", kind=OrganisationKind.JCP)
    role = Role(study_id=study.id, name="Bench role", organisation_kind=OrganisationKind.JCP)
    interviewer = User(
        email="interviewer@bench.example",
        name="Bench Interviewer",
        role=UserRole.INTERVIEWER,
        password_hash="!",
        timezone="Europe/London",
    )
    db.session.add_all([district, organisation, role, interviewer])
    db.session.flush()
    db.session.add(Membership(user_id=interviewer.id, study_id=study.id, role=UserRole.INTERVIEWER))
    participants = [
        Participant(
            **{
                "study_id": study.id,
                "reference": f"P1-{n:03d}",
                "district_id": district.id,
                "organisation_id": organisation.id,
                "role_id": role.id,
                "name": f"Person {n}",
                "email": f"person{n}@bench.example",
                **(fields(n) if fields else {}),
            }
        )
        for n in range(count)
    ]
    db.session.add_all(participants)
    db.session.flush()
    return BenchFrame(study, interviewer, participants)


def add_rows(model: type, rows: Iterable[dict], batch: int = 5000) -> None:
    """Insert many rows of `model` in batches of executemany (no ORM objects), for the large
    tables a benchmark fills (contact attempts, appointments, outbox messages)."""
    from sqlalchemy import insert

    from fieldwork.extensions import db

    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            db.session.execute(insert(model), chunk)
            chunk = []
    if chunk:
        db.session.execute(insert(model), chunk)
