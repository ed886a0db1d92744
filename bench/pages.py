"""Pages under load: each page's requests per second as a share of /healthz's, in one run.

    python bench/pages.py [--sizes 20000 100000] [--database sqlite postgresql]
                          [--postgresql-url URL] [--seconds 10] [--rounds 3]
                          [--pages home ...]

For each database, builds a study (bench/benchdb.py) at every size (participants, contact
attempts, appointments and outbox messages), serves each with its own gunicorn -w 2 on
loopback, logs in as the coordinator and as an interviewer, drives every page for two seconds
unmeasured, and then, `--rounds` times, drives every size in turn: each page with `wrk -t2 -c16
-d10s` carrying the session cookie, right after /healthz (the floor) for half as long. The
sizes are driven in the same rounds so they meet the same machine. Prints one table per
database: page, requests/s, share of the /healthz run just before it, median latency (p50), at
each size (medians over the rounds; the /healthz row is the median of all its runs); then the
rate at the largest size over the rate at the smallest, and the same for the share.
`--pages` keeps only the pages whose label contains one of the words given (`--pages home` for
both home pages), so one fix can be measured without driving every page. Issue 15 asks for a
share of at least 10% at 20,000 participants, and for no paginated page to lose more than half
its rate from 20,000 to 100,000 (a ratio of at least 0.5).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(BENCH))
sys.path.insert(0, BENCH)

from benchdb import FreshDatabase, add_rows, build_frame  # noqa: E402

PASSWORD = "bench-password-long-enough"  # noqa: S105 (a throwaway bench account)
#: The appointments inside the booking link's four weeks (issue 15's figure).
BOOKED_IN_LINK_RANGE = 5000
#: How long each page is driven, unmeasured, before the rounds.
WARM_UP_SECONDS = 2


@dataclass(frozen=True)
class Page:
    label: str
    path: str
    #: Who asks: "coordinator", "interviewer" or "" (a public page).
    viewer: str
    is_paginated: bool


def pages(participant_id: int, token: str) -> list[Page]:
    return [
        Page("/participants", "/participants", "coordinator", True),
        Page("/participants?q=smith", "/participants?q=smith", "coordinator", True),
        Page("a participant's page", f"/participants/{participant_id}", "coordinator", False),
        Page("/appointments", "/appointments", "coordinator", True),
        Page("/follow-ups", "/follow-ups", "coordinator", True),
        Page("/outbox", "/outbox", "coordinator", True),
        Page("/coverage", "/coverage", "coordinator", False),
        Page("/coverage/gaps", "/coverage/gaps", "coordinator", True),
        Page(f"/book/<token> ({BOOKED_IN_LINK_RANGE:,} booked)", f"/book/{token}", "", False),
        Page(
            "/api/v1/studies/{slug}/participants",
            "/api/v1/studies/bench/participants",
            "coordinator",
            True,
        ),
        Page("home (coordinator)", "/", "coordinator", False),
        Page("home (interviewer)", "/", "interviewer", False),
        Page("calendar week (interviewer)", "/appointments/calendar", "interviewer", False),
    ]


# --- the study -----------------------------------------------------------------------------


def build(size: int) -> tuple[int, str]:
    """The bench study at `size` participants (committed); (a participant's id, a booking
    link's token)."""
    from sqlalchemy import text, update

    from fieldwork.accounts.models import Membership, User, UserRole
    from fieldwork.core.time import now_utc
    from fieldwork.core.tokens import hash_token, new_token
    from fieldwork.extensions import db
    from fieldwork.outbox.models import OutboxKind, OutboxMessage, OutboxState
    from fieldwork.recruitment.contacts import mark_latest_attempts
    from fieldwork.recruitment.dispositions import Disposition
    from fieldwork.recruitment.models import ContactAttempt, ContactChannel
    from fieldwork.sampling.models import Participant, RecruitmentStatus
    from fieldwork.scheduling.models import (
        Appointment,
        AppointmentMode,
        AppointmentStatus,
        AvailabilityWindow,
        BookingLink,
    )

    statuses = list(RecruitmentStatus)
    frame = build_frame(
        "Pages benchmark",
        size,
        # One in forty is a Smith (the search page's query); statuses spread evenly.
        lambda n: {
            "name": f"Alex Smith {n}" if n % 40 == 0 else f"Person {n}",
            "status": statuses[n % len(statuses)],
        },
    )
    study, interviewer = frame.study, frame.interviewer
    interviewer.set_password(PASSWORD)
    coordinator = User(
        email="coordinator@bench.example",
        name="Bench Coordinator",
        role=UserRole.COORDINATOR,
        password_hash="!",
        timezone="Europe/London",
    )
    coordinator.set_password(PASSWORD)
    db.session.add(coordinator)
    db.session.flush()
    db.session.add(Membership(user_id=coordinator.id, study_id=study.id, role=UserRole.COORDINATOR))
    ids = [p.id for p in frame.participants]
    # A quarter of the frame is the interviewer's own (their home page and calendar).
    db.session.execute(
        update(Participant)
        .where(Participant.id.in_(ids[::4]))
        .values(interviewer_id=interviewer.id)
    )
    for weekday in range(5):
        db.session.add(
            AvailabilityWindow(
                interviewer_id=interviewer.id,
                weekday=weekday,
                starts_time=dt.time(9),
                ends_time=dt.time(17),
                timezone="Europe/London",
            )
        )
    now = now_utc().replace(microsecond=0)
    today = now.date()
    # Half the frame has been tried twice; the latest try of one in four is due today or before.
    attempts = []
    for n, participant_id in enumerate(ids[::2]):
        first_at = now - dt.timedelta(days=60 + n % 90)
        latest_at = now - dt.timedelta(days=1 + n % 30, minutes=n % 600)
        for attempted_at, next_on in (
            (first_at, first_at.date() + dt.timedelta(days=3)),
            (
                latest_at,
                today - dt.timedelta(days=n % 20) if n % 2 == 0 else today + dt.timedelta(days=5),
            ),
        ):
            attempts.append(
                {
                    "participant_id": participant_id,
                    "recorded_by_id": coordinator.id,
                    "attempted_at": attempted_at,
                    "channel": ContactChannel.TELEPHONE,
                    "disposition": Disposition.CALL_BACK,
                    "next_action_on": next_on,
                }
            )
    add_rows(ContactAttempt, attempts)
    mark_latest_attempts()  # what the service keeps when it logs one attempt at a time

    def appointment(n: int, starts_at: dt.datetime, status: AppointmentStatus) -> dict:
        ends_at = starts_at + dt.timedelta(minutes=60)
        return {
            "study_id": study.id,
            "participant_id": ids[n % len(ids)],
            "interviewer_id": interviewer.id,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "busy_from": starts_at,
            "busy_until": ends_at,
            "timezone": "Europe/London",
            "mode": AppointmentMode.TELEPHONE,
            "status": status,
            "ical_uid": f"bench-{n}@bench.example",
            "created_by_id": coordinator.id,
        }

    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(9), tzinfo=dt.UTC)
    in_range = [
        appointment(
            n, tomorrow + dt.timedelta(minutes=(n * 37) % (28 * 24 * 60)), AppointmentStatus.BOOKED
        )
        for n in range(BOOKED_IN_LINK_RANGE)
    ]
    history = [
        appointment(
            BOOKED_IN_LINK_RANGE + n,
            now - dt.timedelta(days=1 + n % 365, hours=n % 8),
            AppointmentStatus.HELD if n % 3 else AppointmentStatus.CANCELLED,
        )
        for n in range(size // 10)
    ]
    add_rows(Appointment, in_range + history)
    add_rows(
        OutboxMessage,
        (
            {
                "study_id": study.id,
                "kind": OutboxKind.REMINDER,
                "subject": f"Reminder {n}",
                "sender": "team@bench.example",
                "recipients": f"person{n}@bench.example",
                "message_id": f"<bench-{n}@bench.example>",
                "raw": b"Subject: Reminder\r\n\r\nSee you soon.\r\n",
                "state": OutboxState.SENT if n % 50 else OutboxState.FAILED,
                "attempts": 1,
                "due_at": now - dt.timedelta(minutes=n),
                "next_attempt_at": now - dt.timedelta(minutes=n),
                "sent_at": now - dt.timedelta(minutes=n),
                "created_at": now - dt.timedelta(minutes=n),
            }
            for n in range(size // 2)
        ),
    )
    token = new_token()
    db.session.add(
        BookingLink(
            participant_id=ids[1],
            interviewer_id=interviewer.id,
            mode=AppointmentMode.TELEPHONE,
            token_hash=hash_token(token),
            expires_at=now + dt.timedelta(days=60),
            created_by_id=coordinator.id,
        )
    )
    db.session.commit()
    # Fresh statistics, as autovacuum (PostgreSQL) or a routine ANALYZE would leave them:
    # without them the planner takes every table for a few rows. On PostgreSQL autovacuum also
    # vacuums a table after many inserts, and only VACUUM refreshes a GIN index's own figures:
    # the trigram search index, built empty before the rows went in, would be costed as empty
    # and never used.
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in db.metadata.sorted_tables:
                connection.execute(text(f'VACUUM ANALYZE "{table.name}"'))
            # The build's writes flushed to disk now, not by the checkpointer during the runs.
            connection.execute(text("CHECKPOINT"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return ids[len(ids) // 2], token


# --- serving and driving -------------------------------------------------------------------


def wsgi_app():
    """gunicorn's entry ("pages:wsgi_app()"): the app on the bench database in the environment."""
    from fieldwork import create_app

    return create_app(json.loads(os.environ["PAGES_BENCH_CONFIG"]))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(config: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    environment = {**os.environ, "PAGES_BENCH_CONFIG": json.dumps(config)}
    server = subprocess.Popen(  # noqa: S603 (our own argv)
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}"]
        # gthread with one thread serves one request at a time per worker, as sync does, but
        # does not block on a connection the load tool opened and dropped unused at the end
        # of a run (a sync worker waits on it until its 30 s timeout kills it).
        + ["-k", "gthread", "--threads", "1", "--timeout", "600"]
        + ["--chdir", BENCH, "--log-level", "warning", "pages:wsgi_app()"],
        env=environment,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if request(port, "/healthz")[0] == 200:
                return server, port
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not answer /healthz within a minute")


def request(
    port: int, path: str, *, cookie: str = "", form: dict | None = None
) -> tuple[int, dict[str, str], str, list[str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request("POST" if form is not None else "GET", path, body=body, headers=headers)
    response = connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    cookies = response.headers.get_all("Set-Cookie") or []
    connection.close()
    return response.status, dict(response.headers), text, cookies


def session_cookie(cookies: list[str]) -> str:
    for cookie in cookies:
        name_value = cookie.split(";", 1)[0]
        if name_value.startswith("session="):
            return name_value
    raise SystemExit("no session cookie was set")


def log_in(port: int, email: str) -> str:
    """The session cookie of `email` after a real login through the form."""
    status, _, page, cookies = request(port, "/login")
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    if status != 200 or csrf is None:
        raise SystemExit("the login form did not render")
    status, _, _, cookies = request(
        port,
        "/login",
        cookie=session_cookie(cookies),
        form={"email": email, "password": PASSWORD, "csrf_token": csrf.group(1)},
    )
    if status != 302:
        raise SystemExit(f"login as {email} answered {status}")
    return session_cookie(cookies)


def drain(port: int) -> None:
    """Wait out the requests the load tool left queued when it stopped: gunicorn still serves
    them, and they would eat into the next page's run. A /healthz queued behind them returns
    once they are done (twice, one per worker)."""
    for _ in range(2):
        request(port, "/healthz")


@dataclass
class Figure:
    rps: float
    p50_ms: float


def drive(port: int, path: str, cookie: str, seconds: int) -> Figure:
    """wrk -t2 -c16 for `seconds` on one path; every answer must be a success."""
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "60s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(  # noqa: S603 (our own argv)
        command + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx or 3xx responses" in output or "Socket errors" in output:
        raise SystemExit(f"{path} answered errors under load:\n{output}")
    drain(port)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    value, unit = re.search(r"\n\s+50%\s+([\d.]+)(us|ms|s)\b", output).groups()
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return Figure(rps, float(value) * scale)


def drive_bounded(port: int, path: str, cookie: str, seconds: int) -> Figure:
    """Where wrk is absent: 16 threads, each one request at a time, for `seconds`."""
    import threading

    stop = time.monotonic() + seconds
    latencies: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            status = request(port, path, cookie=cookie)[0]
            if status != 200:
                raise SystemExit(f"{path} answered {status} under load")
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Figure(len(latencies) / seconds, statistics.median(latencies) * 1000)


@dataclass
class Served:
    """One size's study, served by its own gunicorn, with its viewers logged in."""

    size: int
    database: FreshDatabase
    server: subprocess.Popen
    port: int
    cookies: dict[str, str]
    pages: list[Page]


def start(database_url: str | None, size: int, wanted: list[str]) -> Served:
    """Build the study at `size`, serve it, log in, and warm every page (failing early on an
    error page); only the pages whose label contains a word of `wanted` (all when empty)."""
    from fieldwork import create_app
    from fieldwork.extensions import db

    database = FreshDatabase.create(database_url)
    config = {
        "SECRET_KEY": "bench-" + "x" * 40,
        "SCHEDULER_IN_PROCESS": False,
        "RATELIMIT_ENABLED": False,
        **database.config,
    }
    app = create_app(config)
    started = time.perf_counter()
    with app.app_context():
        db.create_all()
        participant_id, token = build(size)
        db.engine.dispose()
    print(f"  built {size:,} participants in {time.perf_counter() - started:.0f} s", flush=True)
    server, port = serve(config)
    served = Served(size, database, server, port, {}, [])
    try:
        served.cookies = {
            "coordinator": log_in(port, "coordinator@bench.example"),
            "interviewer": log_in(port, "interviewer@bench.example"),
            "": "",
        }
        served.pages = [
            page
            for page in pages(participant_id, token)
            if not wanted or any(word in page.label for word in wanted)
        ]
        for page in served.pages:
            status = request(port, page.path, cookie=served.cookies[page.viewer])[0]
            if status != 200:
                raise SystemExit(f"{page.path} answered {status}")
    except BaseException:
        stop(served)
        raise
    return served


def stop(served: Served) -> None:
    served.server.send_signal(signal.SIGTERM)
    try:
        served.server.wait(timeout=60)
    except subprocess.TimeoutExpired:  # a worker still busy with an abandoned request
        served.server.kill()
        served.server.wait()
    served.database.drop()


def measure(
    database_url: str | None, sizes: list[int], seconds: int, rounds: int, wanted: list[str]
) -> dict[int, dict[str, tuple]]:
    """size → page label → (median rps, median share of /healthz, median p50 ms), and the
    floor. Every size is built and served first, then each round drives every size in turn,
    so the sizes meet the same machine and a change in its load between them does not pass
    for a page slowing down as the study grows.

    Every page is first driven for a few seconds unmeasured (fresh workers run slower for their
    first seconds), and each page's share is taken against /healthz driven just before it
    (for half as long): this machine's speed moves by half within a minute, and a floor
    measured once per round made a page's share swing with it."""
    run = drive if shutil.which("wrk") else drive_bounded
    floor_seconds = max(2, seconds // 2)
    served: list[Served] = []
    try:
        for size in sizes:
            print(f"  {size:,} participants", flush=True)
            served.append(start(database_url, size, wanted))
        for each in served:
            print(f"  warming up {each.size:,} participants", flush=True)
            run(each.port, "/healthz", "", WARM_UP_SECONDS)
            for page in each.pages:
                run(each.port, page.path, each.cookies[page.viewer], WARM_UP_SECONDS)
        samples: dict[int, dict[str, list[tuple[float, float, float]]]] = {
            each.size: {"/healthz": []} for each in served
        }
        for number in range(1, rounds + 1):
            for each in served:
                print(f"  round {number}, {each.size:,} participants", flush=True)
                for page in each.pages:
                    floor = run(each.port, "/healthz", "", floor_seconds)
                    samples[each.size]["/healthz"].append((floor.rps, 1.0, floor.p50_ms))
                    figure = run(each.port, page.path, each.cookies[page.viewer], seconds)
                    print(
                        f"    {page.label}: {figure.rps:.1f}/s, p50 {figure.p50_ms:.0f} ms "
                        f"(/healthz just before: {floor.rps:.1f}/s)",
                        flush=True,
                    )
                    samples[each.size].setdefault(page.label, []).append(
                        (figure.rps, figure.rps / floor.rps, figure.p50_ms)
                    )
    finally:
        for each in served:
            stop(each)
    return {
        size: {
            label: tuple(statistics.median(values[i] for values in runs) for i in range(3))
            for label, runs in by_label.items()
        }
        for size, by_label in samples.items()
    }


def print_table(name: str, sizes: list[int], results: dict[int, dict[str, tuple]]) -> None:
    labels = list(next(iter(results.values())))
    paginated = {page.label for page in pages(0, "") if page.is_paginated}
    header = "| page |" + "".join(
        f" rps {size:,} | share {size:,} | p50 {size:,} |" for size in sizes
    )
    if len(sizes) > 1:
        header += f" rate {sizes[0]:,}→{sizes[-1]:,} | share {sizes[0]:,}→{sizes[-1]:,} |"
    print(f"\n{name}\n{header}\n|" + "---|" * (header.count("|") - 1))
    for label in labels:
        cells = [label + (" (paginated)" if label in paginated else "")]
        for size in sizes:
            rps, share, p50 = results[size][label]
            cells += [f"{rps:.1f}", f"{share:.1%}", f"{p50:.0f} ms"]
        if len(sizes) > 1:
            for i in (0, 1):  # the rate's ratio, then the share's
                smallest, largest = results[sizes[0]][label][i], results[sizes[-1]][label][i]
                cells.append(f"{largest / smallest:.2f}" if smallest else "–")
        print("| " + " | ".join(cells) + " |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument(
        "--database", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get(
            "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pages", nargs="+", default=[], help="only pages whose label contains one of these"
    )
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    for name in args.database:
        url = args.postgresql_url if name == "postgresql" else None
        print(name, flush=True)
        results = measure(url, sizes, args.seconds, args.rounds, args.pages)
        print_table(f"{name} (median of {args.rounds} rounds)", sizes, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
