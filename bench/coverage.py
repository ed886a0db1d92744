"""Time the coverage dashboard and gaps pages on large synthetic studies against hand-written SQL.

    python bench/coverage.py [--participants 2000 20000 100000] [--repeat 5]
                             [--database-url postgresql://postgres@127.0.0.1:5432/test]

For each size, builds a study (two phases, 50 districts, five roles) with contact attempts,
consents and twice as many appointments as participants in a fresh database: a temporary SQLite
file, then (with --database-url or BENCH_DATABASE_URL) a schema of its own on that PostgreSQL
server, dropped at the end. Then it times, through the app, logged in as a coordinator:

* GET /coverage (every figure of the page, rendered) and GET /coverage/gaps, each computed
  afresh (the coverage cache emptied before each run) and served from the cache (nothing
  written since the previous view), and
* the floor: hand-written SQL for the role × phase figures the dashboard shows (buckets and
  AAPOR case counts per cell), and for the gaps page that plus the candidates per cell,

prints the best time of each over --repeat runs with the ratios, and checks that the
dashboard's figures equal the hand-written query's (exit status 1 if they differ).
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
from fieldwork.coverage import cache, queries  # noqa: E402
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

#: Per participant with appointments: held, no-shows, and whether one is booked ahead.
APPOINTMENT_FACTS_SQL = """
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
"""

#: The role × phase figures in one hand-written query: what the dashboard's grid shows.
HAND_SQL = (
    APPOINTMENT_FACTS_SQL
    + """
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
)


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


#: Up to five candidates per role × phase cell, nearest an interview first: what the gaps page
#: lists beside each cell (it asks for the cells behind target; this asks for all of them).
HAND_CANDIDATES_SQL = (
    APPOINTMENT_FACTS_SQL
    + """
ranked AS (
    SELECT p.id, p.reference, p.role_id, d.phase_id,
           CASE
             WHEN COALESCE(af.has_future_booking, 0) = 1 THEN 1
             WHEN p.status IN ('agreed', 'scheduled', 'interviewed') THEN 2
             WHEN p.status IN ('approached', 'unreachable') OR EXISTS (
                 SELECT 1 FROM contact_attempt a WHERE a.participant_id = p.id) THEN 3
             ELSE 4
           END AS rank
    FROM participant p
    JOIN district d ON d.id = p.district_id
    LEFT JOIN appointment_facts af ON af.participant_id = p.id
    WHERE p.study_id = :study
      AND p.status NOT IN ('declined', 'ineligible', 'withdrawn')
      AND NOT (COALESCE(af.held, 0) > 0 AND EXISTS (
          SELECT 1 FROM consent c
          JOIN consent_answer ca ON ca.consent_id = c.id
          JOIN consent_item i ON i.id = ca.item_id
          WHERE c.participant_id = p.id AND i.key = 'take_part' AND ca.is_agreed
            AND (c.withdrawn_at IS NULL OR c.data_handling = 'keep_anonymised')))
)
SELECT * FROM (
    SELECT ranked.*, ROW_NUMBER() OVER (PARTITION BY role_id, phase_id
                                        ORDER BY rank, reference) AS position
    FROM ranked
) ordered
WHERE position <= 5
"""
)


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _check(board, hand_rows) -> bool:
    """True when the dashboard's role × phase figures equal the hand-written query's."""
    same = True
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
            print(f"FAIL: cell {row.role_id}×{row.phase_id}: dashboard {ours}, hand SQL {theirs}")
            same = False
    return same


def _build(app, participants: int, appointments: int) -> int:
    """Build the bench study and its coordinator; the study's id."""
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        study_id = build_study(participants, appointments).id
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
    return study_id


def _client(app):
    """A test client logged in as the coordinator."""
    client = app.test_client()
    login = client.post(
        "/login", data={"email": "coordinator@bench.example.org", "password": PASSWORD}
    )
    if login.status_code != 302:
        raise RuntimeError("could not log in")
    return client


def _timings(app, study_id: int, repeat: int) -> dict[str, float]:
    """Best times over `repeat` rounds. Each round times everything once, one after the other,
    so ours and the floors meet the same load on a shared machine: the dashboard and gaps
    requests computed afresh (coverage cache emptied) and served from the cache, our figures'
    one query alone, and the hand-written queries."""
    client = _client(app)

    def page(url: str):
        def get() -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}")

        return get

    def computed(url: str):
        def get() -> None:
            with app.app_context():
                cache.clear()
            page(url)()

        return get

    now = sa.bindparam("now", type_=UTCDateTime)
    grid, candidates = (sa.text(sql).bindparams(now) for sql in (HAND_SQL, HAND_CANDIDATES_SQL))

    def run_sql(statement):
        return lambda: db.session.execute(statement, {"now": NOW, "study": study_id}).all()

    ours = lambda: queries.dashboard_rows(study_id, NOW)  # noqa: E731
    floors = {"ours": ours, "grid": run_sql(grid), "candidates": run_sql(candidates)}
    page("/coverage")()  # warm up: templates compiled, statements cached, connections open
    page("/coverage/gaps")()
    with app.app_context():
        for action in floors.values():
            action()
    best: dict[str, float] = {}
    for _ in range(repeat):
        times = {
            "dashboard": _timed(computed("/coverage")),
            "dashboard, cached": _timed(page("/coverage")),
            "gaps": _timed(computed("/coverage/gaps")),
            "gaps, cached": _timed(page("/coverage/gaps")),
        }
        with app.app_context():
            times.update({name: _timed(action) for name, action in floors.items()})
        best = {name: min(value, best.get(name, value)) for name, value in times.items()}
    return best


def _check_figures(app, study_id: int) -> bool:
    """Whether the dashboard's role × phase figures equal the hand-written query's."""
    with app.app_context():
        statement = sa.text(HAND_SQL).bindparams(sa.bindparam("now", type_=UTCDateTime))
        hand_rows = db.session.execute(statement, {"now": NOW, "study": study_id}).all()
        cache.clear()
        board = coverage.dashboard(db.session.get(Study, study_id), NOW)
        print(
            f"overall: {board.overall.achieved:,} achieved of {board.total_target:,}; "
            f"{board.overall.booked:,} booked; {len(board.weeks)} weeks charted"
        )
        same = _check(board, hand_rows)
        db.session.remove()
        db.engine.dispose()
    return same


def run(participants: int, appointments: int, repeat: int, database_url: str | None) -> int:
    """Build a study of this size in a fresh database, time ours and the floors, print them."""
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
    try:
        study_id = _build(app, participants, appointments)
        times = _timings(app, study_id, repeat)
        same = _check_figures(app, study_id)
    finally:
        set_clock(None)
        database.drop()
    gaps_floor = times["grid"] + times["candidates"]
    for name, url, floor, label in (
        ("dashboard", "/coverage", times["grid"], "hand SQL, role × phase"),
        ("gaps", "/coverage/gaps", gaps_floor, "hand SQL, role × phase + candidates"),
    ):
        computed, cached = times[name], times[f"{name}, cached"]
        print(
            f"  GET {url}: {computed * 1000:8.1f} ms computed, {cached * 1000:6.1f} ms cached; "
            f"floor ({label}) {floor * 1000:8.1f} ms; ratio {computed / floor:5.2f} "
            f"(cached {cached / floor:4.2f})"
        )
    print(
        f"  the dashboard's one query alone: {times['ours'] * 1000:8.1f} ms; "
        f"ratio to the hand SQL {times['ours'] / times['grid']:5.2f}"
    )
    if same:
        print("  the dashboard's figures equal the hand-written query's")
    return 0 if same else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--participants",
        type=int,
        nargs="+",
        default=[2_000, 20_000, 100_000],
        help="study sizes to run (each with twice as many appointments)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of each; the best counts")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="a PostgreSQL URL: each size runs on SQLite, then on it",
    )
    parser.add_argument(
        "--sqlite-only", action="store_true", help="skip PostgreSQL even with a URL"
    )
    arguments = parser.parse_args()
    urls = [None]
    if arguments.database_url and not arguments.sqlite_only:
        urls.append(arguments.database_url)
    failed = 0
    for participants in arguments.participants:
        for url in urls:
            failed |= run(participants, 2 * participants, arguments.repeat, url)
    return failed


if __name__ == "__main__":
    sys.exit(main())
