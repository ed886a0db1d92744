"""Time the coverage dashboard on a large synthetic study against one hand-written SQL query.

    python bench/coverage.py [--participants 20000] [--appointments 40000] [--repeat 5]
                             [--database-url postgresql://postgres@127.0.0.1:5432/test]

Builds a study of 20,000 participants (two phases, 50 districts, five roles) with contact
attempts, consents and 40,000 appointments in a fresh database: a temporary SQLite file by
default, or a schema of its own on the PostgreSQL server named by --database-url (dropped at the
end). Then it times

* the dashboard request (GET /coverage through the app, logged in as a coordinator: every
  figure of the page, rendered), and
* one hand-written SQL query computing the role × phase figures the dashboard shows (buckets
  and AAPOR case counts per cell),

prints the best time of each over --repeat runs and their ratio, and checks that both give the
same figures (exit status 1 if they differ).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchdb import FreshDatabase  # noqa: E402

from fieldwork import create_app  # noqa: E402
from fieldwork.accounts import services as accounts  # noqa: E402
from fieldwork.core.time import UTC, UTCDateTime, set_clock  # noqa: E402
from fieldwork.coverage import services as coverage  # noqa: E402
from fieldwork.coverage.models import Quota, cell_key  # noqa: E402
from fieldwork.extensions import db  # noqa: E402
from fieldwork.recruitment.models import (  # noqa: E402
    Consent,
    ConsentAnswer,
    ConsentForm,
    ConsentFormVersion,
    ConsentItem,
    ContactAttempt,
)
from fieldwork.sampling.models import (  # noqa: E402
    District,
    Organisation,
    OrganisationKind,
    Participant,
    Phase,
    Role,
    Study,
)
from fieldwork.scheduling.models import Appointment  # noqa: E402

NOW = dt.datetime(2008, 7, 2, 12, 0, tzinfo=UTC)
PASSWORD = "bench password 1"
ROLES = [
    ("DWP Contract Manager", OrganisationKind.DWP, 4),
    ("JCP Third Party Provision Manager", OrganisationKind.JCP, 8),
    ("Lead provider manager", OrganisationKind.LEAD_PROVIDER, 8),
    ("Lead provider adviser", OrganisationKind.LEAD_PROVIDER, 10),
    ("Sub-contractor manager", OrganisationKind.SUBCONTRACTOR, 6),
]
STATUSES = [
    "identified",
    "approached",
    "agreed",
    "scheduled",
    "interviewed",
    "interviewed",
    "declined",
    "unreachable",
    "ineligible",
    "withdrawn",
]
DISPOSITIONS = [
    "agreed",
    "call_back",
    "no_answer",
    "left_message",
    "refused",
    "gatekeeper_refused",
    "not_eligible",
    "moved_on",
    "not_reachable",
]
APPOINTMENT_STATUSES = ["held", "held", "booked", "cancelled", "no_show", "cancelled_late"]

#: The role × phase figures in one hand-written query: what the dashboard's grid shows.
HAND_SQL = """
WITH appointment_facts AS (
    SELECT participant_id,
           SUM(CASE WHEN status = 'held' THEN 1 ELSE 0 END) AS held,
           SUM(CASE WHEN status = 'no_show' THEN 1 ELSE 0 END) AS no_shows,
           MAX(CASE WHEN status = 'booked' AND starts_at >= :now THEN 1 ELSE 0 END)
               AS has_future_booking
    FROM appointment
    WHERE study_id = :study
    GROUP BY participant_id
),
consent_facts AS (
    SELECT c.participant_id
    FROM consent c
    JOIN consent_answer a ON a.consent_id = c.id
    JOIN consent_item i ON i.id = a.item_id
    WHERE i.key = 'take_part' AND a.is_agreed
      AND (c.withdrawn_at IS NULL OR c.data_handling = 'keep_anonymised')
    GROUP BY c.participant_id
),
latest AS (
    SELECT participant_id, disposition
    FROM (SELECT participant_id, disposition,
                 ROW_NUMBER() OVER (PARTITION BY participant_id
                                    ORDER BY attempted_at DESC, id DESC) AS position
          FROM contact_attempt) ranked
    WHERE position = 1
),
facts AS (
    SELECT p.role_id, d.phase_id,
           COALESCE(af.held, 0) AS held, COALESCE(af.no_shows, 0) AS no_shows,
           CASE
             WHEN COALESCE(af.held, 0) > 0 AND cf.participant_id IS NOT NULL THEN 'achieved'
             WHEN p.status IN ('declined', 'ineligible', 'withdrawn') THEN 'closed'
             WHEN COALESCE(af.has_future_booking, 0) = 1 THEN 'booked'
             WHEN p.status IN ('agreed', 'scheduled', 'interviewed') THEN 'pipeline'
             WHEN p.status IN ('approached', 'unreachable') OR l.participant_id IS NOT NULL
               THEN 'approached'
             ELSE 'not_approached'
           END AS bucket,
           CASE
             WHEN COALESCE(af.held, 0) > 0 AND cf.participant_id IS NOT NULL THEN 'I'
             WHEN p.status = 'ineligible' THEN 'NE'
             WHEN p.status IN ('declined', 'withdrawn') THEN 'R'
             WHEN COALESCE(af.has_future_booking, 0) = 1
               OR p.status IN ('agreed', 'scheduled', 'interviewed') THEN 'O'
             WHEN l.disposition IN ('refused', 'gatekeeper_refused') THEN 'R'
             WHEN l.disposition IN ('agreed', 'call_back') THEN 'O'
             WHEN l.disposition IN ('not_eligible', 'moved_on') THEN 'NE'
             WHEN l.disposition IN ('no_answer', 'left_message', 'not_reachable')
               OR p.status IN ('approached', 'unreachable') THEN 'NC'
             ELSE 'U'
           END AS case_type
    FROM participant p
    JOIN district d ON d.id = p.district_id
    LEFT JOIN appointment_facts af ON af.participant_id = p.id
    LEFT JOIN consent_facts cf ON cf.participant_id = p.id
    LEFT JOIN latest l ON l.participant_id = p.id
    WHERE p.study_id = :study
)
SELECT role_id, phase_id, COUNT(*) AS participants,
       SUM(CASE WHEN bucket = 'achieved' THEN 1 ELSE 0 END) AS achieved,
       SUM(CASE WHEN bucket = 'booked' THEN 1 ELSE 0 END) AS booked,
       SUM(CASE WHEN bucket = 'pipeline' THEN 1 ELSE 0 END) AS pipeline,
       SUM(CASE WHEN bucket = 'approached' THEN 1 ELSE 0 END) AS approached,
       SUM(CASE WHEN bucket = 'not_approached' THEN 1 ELSE 0 END) AS not_approached,
       SUM(CASE WHEN bucket = 'closed' THEN 1 ELSE 0 END) AS closed,
       SUM(CASE WHEN case_type = 'I' THEN 1 ELSE 0 END) AS case_i,
       SUM(CASE WHEN case_type = 'R' THEN 1 ELSE 0 END) AS case_r,
       SUM(CASE WHEN case_type = 'NC' THEN 1 ELSE 0 END) AS case_nc,
       SUM(CASE WHEN case_type = 'O' THEN 1 ELSE 0 END) AS case_o,
       SUM(CASE WHEN case_type = 'U' THEN 1 ELSE 0 END) AS case_u,
       SUM(CASE WHEN case_type = 'NE' THEN 1 ELSE 0 END) AS case_ne,
       SUM(held) AS held_appointments, SUM(no_shows) AS no_show_appointments
FROM facts
GROUP BY role_id, phase_id
"""


def build_study(participants: int, appointments: int) -> Study:
    """The synthetic study, written with bulk inserts (a few seconds, not minutes)."""
    study = Study(
        slug="bench",
        name="Bench study",
        organiser_name="Bench",
        organiser_email="bench@example.org",
    )
    db.session.add(study)
    db.session.flush()
    phases = [Phase(study_id=study.id, number=n, name=f"Phase {n}") for n in (1, 2)]
    roles = [Role(study_id=study.id, name=name, organisation_kind=kind) for name, kind, _ in ROLES]
    db.session.add_all(phases + roles)
    db.session.flush()
    districts = [
        District(study_id=study.id, phase_id=phases[n // 25].id, name=f"District {n:02d}")
        for n in range(50)
    ]
    organisations = {
        kind: [
            Organisation(study_id=study.id, name=f"{kind.label} {n}", kind=kind) for n in range(10)
        ]
        for _, kind, _ in ROLES
    }
    db.session.add_all(districts + [o for group in organisations.values() for o in group])
    db.session.flush()
    for role in roles:
        for phase in phases:
            target = next(t for name, _, t in ROLES if name == role.name)
            db.session.add(
                Quota(
                    study_id=study.id,
                    role_id=role.id,
                    phase_id=phase.id,
                    cell_key=cell_key(role_id=role.id, phase_id=phase.id),
                    target=target * 40,
                )
            )
    form = ConsentForm(study_id=study.id, title="Consent")
    db.session.add(form)
    db.session.flush()
    version = ConsentFormVersion(form_id=form.id, number=1, text="Bench", published_at=NOW)
    db.session.add(version)
    db.session.flush()
    item = ConsentItem(version_id=version.id, key="take_part", text="Take part", is_required=True)
    db.session.add(item)
    interviewer = accounts.create_user(
        "interviewer@bench.example.org",
        "Interviewer",
        "interviewer",
        PASSWORD,
        study_ids=accounts.all_study_ids(),
    )
    db.session.flush()

    people = []
    for number in range(participants):
        role = roles[number % len(roles)]
        kind = next(k for name, k, _ in ROLES if name == role.name)
        people.append(
            {
                "study_id": study.id,
                "reference": f"B{number:06d}",
                "name": f"Person {number}",
                "role_id": role.id,
                "district_id": districts[number % 50].id,
                "organisation_id": organisations[kind][number % 10].id,
                "status": STATUSES[(number * 7) % len(STATUSES)],
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    db.session.execute(sa.insert(Participant), people)
    ids = list(
        db.session.scalars(
            sa.select(Participant.id)
            .where(Participant.study_id == study.id)
            .order_by(Participant.id)
        )
    )
    db.session.execute(
        sa.insert(ContactAttempt),
        [
            {
                "participant_id": pid,
                "attempted_at": NOW - dt.timedelta(days=30 + n % 20),
                "channel": "email",
                "disposition": DISPOSITIONS[n % len(DISPOSITIONS)],
                "created_at": NOW,
            }
            for n, pid in enumerate(ids)
            if n % 10
        ],
    )
    db.session.execute(
        sa.insert(Consent),
        [
            {
                "participant_id": pid,
                "version_id": version.id,
                "method": "written",
                "given_at": NOW - dt.timedelta(days=40),
                "created_at": NOW,
                "withdrawn_at": NOW if n % 11 == 0 else None,
                "data_handling": ("keep_anonymised" if n % 2 else "destroy")
                if n % 11 == 0
                else None,
            }
            for n, pid in enumerate(ids)
            if n % 5 < 3
        ],
    )
    consent_ids = list(db.session.scalars(sa.select(Consent.id)))
    db.session.execute(
        sa.insert(ConsentAnswer),
        [
            {"consent_id": cid, "item_id": item.id, "is_agreed": n % 13 != 0}
            for n, cid in enumerate(consent_ids)
        ],
    )
    rows = []
    for n in range(appointments):
        starts = NOW + dt.timedelta(days=(n % 120) - 90, hours=n % 8)
        status = APPOINTMENT_STATUSES[n % len(APPOINTMENT_STATUSES)]
        if status == "booked" and starts < NOW:
            status = "held"
        rows.append(
            {
                "study_id": study.id,
                "participant_id": ids[(n * 7919) % len(ids)],
                "interviewer_id": interviewer.id,
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(hours=1),
                "busy_from": starts,
                "busy_until": starts + dt.timedelta(hours=1),
                "timezone": "Europe/London",
                "mode": "telephone",
                "status": status,
                "ical_uid": f"bench-{n}@example.org",
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    db.session.execute(sa.insert(Appointment), rows)
    db.session.commit()
    return study


def best_of(repeat: int, action) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    return best, result


def run(participants: int, appointments: int, repeat: int, database_url: str | None) -> int:
    database = FreshDatabase.create(database_url)
    app = create_app(
        {
            **database.config,
            "SECRET_KEY": "bench",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "RATELIMIT_ENABLED": False,
        }
    )
    set_clock(lambda: NOW)
    failed = False
    try:
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            study = build_study(participants, appointments)
            study_id = study.id
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as connection:
                    connection.execute(sa.text("ANALYZE"))
            print(
                f"{db.engine.dialect.name}: {participants:,} participants, "
                f"{appointments:,} appointments built in {time.perf_counter() - started:.1f} s"
            )
            accounts.create_user(
                "coordinator@bench.example.org",
                "Coordinator",
                "coordinator",
                PASSWORD,
                study_ids=accounts.all_study_ids(),
                is_administrator=True,
            )
            db.session.commit()
        client = app.test_client()
        login = client.post(
            "/login", data={"email": "coordinator@bench.example.org", "password": PASSWORD}
        )
        if login.status_code != 302:
            print("FAIL: could not log in")
            return 1

        def request_dashboard():
            response = client.get("/coverage")
            if response.status_code != 200:
                raise RuntimeError(f"GET /coverage answered {response.status_code}")
            return response

        request_dashboard()  # warm up: templates compiled, connections open
        page_time, _ = best_of(repeat, request_dashboard)

        with app.app_context():
            statement = sa.text(HAND_SQL).bindparams(sa.bindparam("now", type_=UTCDateTime))

            def hand_query():
                return db.session.execute(statement, {"now": NOW, "study": study_id}).all()

            hand_query()
            sql_time, hand_rows = best_of(repeat, hand_query)
            board = coverage.dashboard(db.session.get(Study, study_id), NOW)
            for row in hand_rows:
                figures = board.grid[(row.role_id, row.phase_id)]
                c = figures.cases
                ours = (
                    figures.participants,
                    figures.achieved,
                    figures.booked,
                    figures.pipeline,
                    figures.approached,
                    figures.not_approached,
                    figures.closed,
                    c.interviews,
                    c.refusals,
                    c.non_contacts,
                    c.others,
                    c.unknown,
                    c.not_eligible,
                    c.held_appointments,
                    c.no_show_appointments,
                )
                theirs = tuple(int(value) for value in row[2:])
                if ours != theirs:
                    print(
                        f"FAIL: cell {row.role_id}×{row.phase_id}: dashboard {ours}, "
                        f"hand-written SQL {theirs}"
                    )
                    failed = True
            print(
                f"overall: {board.overall.achieved:,} achieved of {board.total_target:,}; "
                f"{board.overall.booked:,} booked; {len(board.weeks)} weeks charted"
            )
            db.session.remove()
            db.engine.dispose()
        print(f"dashboard request (GET /coverage, rendered): {page_time * 1000:8.1f} ms")
        print(f"hand-written SQL query (role × phase):       {sql_time * 1000:8.1f} ms")
        print(f"ratio dashboard / hand-written SQL:          {page_time / sql_time:8.2f}")
        if not failed:
            print("the dashboard's figures equal the hand-written query's")
    finally:
        set_clock(None)
        database.drop()
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=20_000)
    parser.add_argument("--appointments", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each; the best counts")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a PostgreSQL URL; default: a temporary SQLite file",
    )
    parser.add_argument(
        "database_url_positional",
        nargs="?",
        metavar="DATABASE_URL",
        help="the same as --database-url",
    )
    arguments = parser.parse_args()
    return run(
        arguments.participants,
        arguments.appointments,
        arguments.repeat,
        arguments.database_url_positional or arguments.database_url,
    )


if __name__ == "__main__":
    sys.exit(main())
