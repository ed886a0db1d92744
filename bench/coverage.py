"""Time the coverage dashboard and gaps pages on large synthetic studies against hand-written SQL.

    python bench/coverage.py [--participants 2000 20000 100000] [--repeat 5]
                             [--database-url postgresql://postgres@127.0.0.1:5432/test]

For each size, builds a study (two phases, 50 districts, five roles) with contact attempts,
consents and twice as many appointments as participants in a fresh database: a temporary SQLite
file, then (with --database-url or BENCH_DATABASE_URL) a schema of its own on that PostgreSQL
server, dropped at the end. Then it times, through the app, logged in as a coordinator:

* GET /account, a trivial logged-in page: what any page costs around its own work (session,
  user, memberships, navigation, base template);
* GET /coverage (every figure of the page, rendered) and GET /coverage/gaps, each computed
  afresh (the coverage cache emptied before each run, in this process and in the store every
  worker shares) and served from the cache (nothing written since the previous view);
* our figures' one query alone (`queries.dashboard_rows`), and
* the floor: one hand-written query that computes the same figures as ours, row for row (per
  finest cell: buckets, people interviewed, AAPOR cases, appointments per outcome; and the
  weekly chart's achieved and booked counts per day; honouring the pipeline step), and for
  the gaps page that plus the candidates per cell.

It prints the best time of each over --repeat runs, the pages' ratios to floor + the trivial
page (so a page = its own cost + its figures), our query's ratio to the floor, and checks that
our query's rows equal the hand-written query's (exit status 1 if they differ).
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
from fieldwork.recruitment.contacts import mark_latest_attempts  # noqa: E402
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
from fieldwork.sampling.queries import all_study_ids  # noqa: E402
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

#: Per participant with appointments: held, no-shows, late cancellations, whether one is booked
#: ahead, and when the first held one started.
APPOINTMENT_FACTS_SQL = """
WITH appointment_facts AS (
    SELECT participant_id,
           SUM(CASE WHEN status = 'held' THEN 1 ELSE 0 END) AS held,
           SUM(CASE WHEN status = 'no_show' THEN 1 ELSE 0 END) AS no_shows,
           SUM(CASE WHEN status = 'cancelled_late' THEN 1 ELSE 0 END) AS late_cancellations,
           MAX(CASE WHEN status = 'booked' AND starts_at >= :now THEN 1 ELSE 0 END)
               AS has_future_booking,
           MIN(CASE WHEN status = 'held' THEN starts_at END) AS first_held_at
    FROM appointment
    WHERE study_id = :study
    GROUP BY participant_id
),
"""

#: Everything the dashboard counts, in one hand-written query, row for row what
#: `queries.dashboard_rows` returns: per finest cell (role, phase, district, organisation kind)
#: the participants per bucket, the people interviewed, the AAPOR cases per type and the
#: appointments per outcome; the people achieved by UTC day of their first held interview and
#: the appointments booked ahead by UTC day (the weekly chart). Like ours it honours the
#: study's pipeline step (an interview counts once the step is reached, if the study chose one).
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
step_reached AS (
    SELECT DISTINCT ap.participant_id
    FROM appointment ap
    JOIN pipeline_entry e ON e.appointment_id = ap.id
    JOIN pipeline_setting s ON s.study_id = ap.study_id
    WHERE ap.study_id = :study AND ap.status = 'held'
      AND e.step_id = s.achieved_step_id AND e.undone_at IS NULL
),
latest AS (
    SELECT participant_id, disposition
    FROM (SELECT participant_id, disposition,
                 ROW_NUMBER() OVER (PARTITION BY participant_id
                                    ORDER BY attempted_at DESC, id DESC) AS position
          FROM contact_attempt) ranked
    WHERE position = 1
),
people AS (
    SELECT p.role_id, d.phase_id, p.district_id, o.kind AS organisation_kind, p.status,
           COALESCE(af.held, 0) AS held, COALESCE(af.no_shows, 0) AS no_shows,
           COALESCE(af.late_cancellations, 0) AS late_cancellations,
           COALESCE(af.has_future_booking, 0) AS is_booked, af.first_held_at,
           CASE WHEN COALESCE(af.held, 0) > 0 AND cf.participant_id IS NOT NULL
                THEN 1 ELSE 0 END AS is_interviewed,
           CASE WHEN sr.participant_id IS NOT NULL OR NOT EXISTS (
                    SELECT 1 FROM pipeline_setting s
                    WHERE s.study_id = :study AND s.achieved_step_id IS NOT NULL)
                THEN 1 ELSE 0 END AS has_reached_step,
           l.participant_id IS NOT NULL AS was_tried, l.disposition
    FROM participant p
    JOIN district d ON d.id = p.district_id
    JOIN organisation o ON o.id = p.organisation_id
    LEFT JOIN appointment_facts af ON af.participant_id = p.id
    LEFT JOIN consent_facts cf ON cf.participant_id = p.id
    LEFT JOIN step_reached sr ON sr.participant_id = p.id
    LEFT JOIN latest l ON l.participant_id = p.id
    WHERE p.study_id = :study
),
facts AS (
    SELECT people.*,
           CASE
             WHEN is_interviewed = 1 AND has_reached_step = 1 THEN 'achieved'
             WHEN status IN ('declined', 'ineligible', 'withdrawn') THEN 'closed'
             WHEN is_booked = 1 THEN 'booked'
             WHEN status IN ('agreed', 'scheduled', 'interviewed') THEN 'pipeline'
             WHEN status IN ('approached', 'unreachable') OR was_tried THEN 'approached'
             ELSE 'not_approached'
           END AS bucket,
           CASE
             WHEN is_interviewed = 1 THEN 'I'
             WHEN status = 'ineligible' THEN 'NE'
             WHEN status IN ('declined', 'withdrawn') THEN 'R'
             WHEN is_booked = 1 OR status IN ('agreed', 'scheduled', 'interviewed') THEN 'O'
             WHEN disposition IN ('refused', 'gatekeeper_refused') THEN 'R'
             WHEN disposition IN ('agreed', 'call_back') THEN 'O'
             WHEN disposition IN ('not_eligible', 'moved_on') THEN 'NE'
             WHEN disposition IN ('no_answer', 'left_message', 'not_reachable')
               OR status IN ('approached', 'unreachable') THEN 'NC'
             ELSE 'U'
           END AS case_type
    FROM people
)
SELECT 'cell' AS part, role_id, phase_id, district_id, organisation_kind, NULL AS day,
       COUNT(*) AS participants,
       SUM(CASE WHEN bucket = 'achieved' THEN 1 ELSE 0 END) AS achieved,
       SUM(CASE WHEN bucket = 'booked' THEN 1 ELSE 0 END) AS booked,
       SUM(CASE WHEN bucket = 'pipeline' THEN 1 ELSE 0 END) AS pipeline,
       SUM(CASE WHEN bucket = 'approached' THEN 1 ELSE 0 END) AS approached,
       SUM(CASE WHEN bucket = 'not_approached' THEN 1 ELSE 0 END) AS not_approached,
       SUM(CASE WHEN bucket = 'closed' THEN 1 ELSE 0 END) AS closed,
       SUM(is_interviewed) AS interviewed,
       SUM(CASE WHEN case_type = 'I' THEN 1 ELSE 0 END) AS case_i,
       SUM(CASE WHEN case_type = 'R' THEN 1 ELSE 0 END) AS case_r,
       SUM(CASE WHEN case_type = 'NC' THEN 1 ELSE 0 END) AS case_nc,
       SUM(CASE WHEN case_type = 'O' THEN 1 ELSE 0 END) AS case_o,
       SUM(CASE WHEN case_type = 'U' THEN 1 ELSE 0 END) AS case_u,
       SUM(CASE WHEN case_type = 'NE' THEN 1 ELSE 0 END) AS case_ne,
       SUM(held) AS held_appointments, SUM(no_shows) AS no_show_appointments,
       SUM(late_cancellations) AS late_cancellations
FROM facts
GROUP BY role_id, phase_id, district_id, organisation_kind
UNION ALL
SELECT 'held', NULL, NULL, NULL, NULL, DATE(first_held_at), COUNT(*),
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL
FROM facts WHERE bucket = 'achieved'
GROUP BY DATE(first_held_at)
UNION ALL
SELECT 'booked', NULL, NULL, NULL, NULL, DATE(starts_at), COUNT(*),
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL
FROM appointment
WHERE study_id = :study AND status = 'booked' AND starts_at >= :now
GROUP BY DATE(starts_at)
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
        study_ids=all_study_ids(),
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
    mark_latest_attempts()  # what the service keeps when it logs one attempt at a time
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


def _normalised(rows) -> list[tuple]:
    """Rows of ours or the hand-written query, comparable: whole numbers, days as ISO text,
    organisation kinds as their values, in one order."""

    def plain(value):
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()[:10]
        if isinstance(value, OrganisationKind):
            return value.value
        return int(value)

    return sorted((tuple(plain(value) for value in row) for row in rows), key=repr)


def _check(ours, hand_rows) -> bool:
    """True when our figures query's rows equal the hand-written query's, row for row."""
    mine, theirs = _normalised(ours), _normalised(hand_rows)
    if mine == theirs:
        return True
    for row in sorted(set(mine) ^ set(theirs), key=repr)[:10]:
        print(f"FAIL: {'ours' if row in mine else 'hand SQL'} only: {row}")
    return False


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
            study_ids=all_study_ids(),
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
    so ours and the floors meet the same load on a shared machine: a trivial logged-in page
    (GET /account: the page's own cost), the dashboard and gaps requests computed afresh
    (coverage cache emptied, in this process and in the store every worker shares) and served
    from the cache, our figures' one query alone, and the hand-written queries."""
    client = _client(app)

    def page(url: str):
        def get() -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}")

        return get

    def computed(url: str) -> float:
        """The time of one request with the cache emptied first (the emptying not timed)."""
        with app.app_context():
            cache.clear()
        return _timed(page(url))

    now = sa.bindparam("now", type_=UTCDateTime)
    grid, candidates = (sa.text(sql).bindparams(now) for sql in (HAND_SQL, HAND_CANDIDATES_SQL))

    def run_sql(statement):
        return lambda: db.session.execute(statement, {"now": NOW, "study": study_id}).all()

    ours = lambda: queries.dashboard_rows(study_id, NOW)  # noqa: E731
    floors = {"ours": ours, "grid": run_sql(grid), "candidates": run_sql(candidates)}
    for url in ("/account", "/coverage", "/coverage/gaps"):
        page(url)()  # warm up: templates compiled, statements cached, connections open
    with app.app_context():
        for action in floors.values():
            action()
    best: dict[str, float] = {}
    for _ in range(repeat):
        times = {
            "page": _timed(page("/account")),
            "dashboard": computed("/coverage"),
            "dashboard, cached": _timed(page("/coverage")),
            "gaps": computed("/coverage/gaps"),
            "gaps, cached": _timed(page("/coverage/gaps")),
        }
        with app.app_context():
            times.update({name: _timed(action) for name, action in floors.items()})
        best = {name: min(value, best.get(name, value)) for name, value in times.items()}
    return best


def _check_figures(app, study_id: int) -> bool:
    """Whether our figures query's rows equal the hand-written query's."""
    with app.app_context():
        statement = sa.text(HAND_SQL).bindparams(sa.bindparam("now", type_=UTCDateTime))
        hand_rows = db.session.execute(statement, {"now": NOW, "study": study_id}).all()
        cache.clear()
        board = coverage.dashboard(db.session.get(Study, study_id), NOW)
        print(
            f"overall: {board.overall.achieved:,} achieved of {board.total_target:,}; "
            f"{board.overall.booked:,} booked; {len(board.weeks)} weeks charted"
        )
        same = _check(queries.dashboard_rows(study_id, NOW), hand_rows)
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
    page = times["page"]
    print(f"  GET /account (a trivial logged-in page): {page * 1000:8.1f} ms")
    for name, url, floor, label in (
        ("dashboard", "/coverage", times["grid"], "hand SQL, every figure"),
        ("gaps", "/coverage/gaps", gaps_floor, "hand SQL, every figure + candidates"),
    ):
        computed, cached = times[name], times[f"{name}, cached"]
        print(
            f"  GET {url}: {computed * 1000:8.1f} ms computed, {cached * 1000:6.1f} ms cached; "
            f"floor ({label}) {floor * 1000:8.1f} ms; ratio to floor + page "
            f"{computed / (floor + page):5.2f} (cached {cached / (floor + page):4.2f})"
        )
    print(
        f"  the figures' one query alone: {times['ours'] * 1000:8.1f} ms; "
        f"ratio to the hand SQL {times['ours'] / times['grid']:5.2f}"
    )
    if same:
        print("  our figures query's rows equal the hand-written query's")
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
