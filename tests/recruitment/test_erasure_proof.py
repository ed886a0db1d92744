"""Erasure is complete and provable (issue 11, point 1): a person who was imported, contacted,
consented, sent a booking link, booked, moved, reminded, referred, noted and withdrawn, with
every message really delivered to an SMTP server, is erased; then their name, email and phone
are in no column of any table, no backup taken afterwards, no byte of the database files and
no file under the instance folder, while the coverage figures stay the same."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldwork.core.time import set_clock
from fieldwork.coverage import records as coverage_records
from fieldwork.coverage import services as coverage
from fieldwork.extensions import db
from fieldwork.outbox import sending
from fieldwork.outbox.models import OutboxMessage
from fieldwork.recruitment import consent_copy
from fieldwork.recruitment.consent import withdraw
from fieldwork.recruitment.contacts import log_contact_attempt
from fieldwork.recruitment.dispositions import Disposition
from fieldwork.recruitment.erasure import erase_personal_data
from fieldwork.recruitment.links import create_consent_link, give_online_consent
from fieldwork.recruitment.models import ContactChannel
from fieldwork.recruitment.referrals import record_referral
from fieldwork.reminders import jobs
from fieldwork.sampling.models import Participant, Study
from fieldwork.scheduling.booking import book_appointment, reschedule_appointment
from fieldwork.scheduling.checks import BookingRequest
from fieldwork.scheduling.links import send_booking_link
from fieldwork.scheduling.models import AppointmentMode
from tests.erasure_scan import hits_in_backup, hits_in_bytes, hits_in_files, hits_in_tables
from tests.factories import make_frame, make_participant, make_user
from tests.recruitment.helpers import all_yes, make_published_version
from tests.smtp_server import smtp_server  # noqa: F401 - a fixture, used by name

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
NAME = "Imogen Quillfeather-Tarrant"
EMAIL = "imogen.quillfeather@example.net"
PHONE = "020 7946 0999"
NEEDLES = (NAME, EMAIL, PHONE)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(app):
    clock = Clock()
    set_clock(clock)
    yield clock
    set_clock(None)


@pytest.fixture
def instance_folder(app, tmp_path):
    """Uploads kept on disk go to a folder of this test (as they would to instance/imports)."""
    folder = tmp_path / "instance"
    saved = app.config.get("IMPORT_UPLOAD_FOLDER")
    app.config["IMPORT_UPLOAD_FOLDER"] = str(folder / "imports")
    yield folder
    app.config["IMPORT_UPLOAD_FOLDER"] = saved


def frame_csv() -> bytes:
    return (
        "name,email,phone,job_title,role,organisation,district,phase,notes\r\n"
        f"{NAME},{EMAIL},{PHONE},Partnership manager,JCP Third Party Provision Manager,"
        f'Jobcentre Plus North,North,1,"Met {NAME} at the forum; mobile {PHONE}"\r\n'
    ).encode()


def upload(client) -> str:
    """Upload the frame file; returns the token of the upload kept for confirmation."""
    response = client.post(
        "/import",
        data={"file": (io.BytesIO(frame_csv()), "frame.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return re.search(r'name="token"[^>]*value="([^"]+)"', response.get_data(as_text=True)).group(1)


def database_files() -> dict[str, bytes]:
    """The bytes of the SQLite database and its journal files (none on PostgreSQL)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        return {}
    paths = [Path(url.database + suffix) for suffix in ("", "-wal", "-journal")]
    return {str(path): path.read_bytes() for path in paths if path.exists()}


def deliver(clock) -> None:
    sending.send_due(now=clock.now)


def coverage_figures(study) -> list[dict]:
    return coverage_records.records(coverage.dashboard(study, now=NOW))


@pytest.fixture
def erased_story(app, client, auth, clock, smtp_server, instance_folder):  # noqa: F811
    """Everything that can happen to a person, then the withdrawal; returns the names."""
    frame = make_frame()
    study = frame["study"]
    coordinator = make_user("coordinator", email="cora@example.org", name="Cora Coordinator")
    interviewer = make_user("interviewer", email="ivan@example.org", name="Ivan Interviewer")
    friend = make_participant(
        study, district=frame["north"], organisation=frame["jcp"], role=frame["tppm"]
    )
    auth.login(coordinator)
    token = upload(client)
    response = client.post(
        "/import/confirm", data={"token": token, "study_id": str(study.id), "filename": "f.csv"}
    )
    assert response.status_code == 302
    upload(client)  # a second upload left waiting for confirmation, kept on disk
    person = db.session.scalars(select(Participant).where(Participant.email == EMAIL)).one()

    log_contact_attempt(
        person,
        coordinator,
        attempted_at=NOW - dt.timedelta(days=1),
        channel=ContactChannel.TELEPHONE,
        disposition=Disposition.AGREED,
        note=f"Spoke to {NAME} on {PHONE}; confirm to {EMAIL}",
    )
    version = make_published_version(study, coordinator)
    link, _ = create_consent_link(person, version, coordinator)
    give_online_consent(link, all_yes(), NAME)
    assert consent_copy.queue_consent_copy(link.id) == EMAIL  # the copy names them
    db.session.commit()
    send_booking_link(
        person,
        interviewer,
        coordinator,
        lambda token: f"https://fieldwork.example/book/{token}",
        mode=AppointmentMode.IN_PERSON,
        location=f"{NAME}'s office, 1 High Street",
    )
    deliver(clock)
    start = NOW + dt.timedelta(days=4)
    appointment = book_appointment(
        study,
        person,
        interviewer,
        BookingRequest(
            starts_at=start,
            minutes=60,
            mode=AppointmentMode.IN_PERSON,
            location=f"Ask for {NAME} at reception",
            notes=f"{NAME} prefers mornings; mobile {PHONE}",
        ),
        coordinator,
        confirmed=True,
    )
    deliver(clock)
    appointment = reschedule_appointment(
        appointment, start + dt.timedelta(days=1), 60, coordinator, confirmed=True
    )
    deliver(clock)
    clock.now = start + dt.timedelta(days=1) - dt.timedelta(hours=1)
    jobs.sweep_due_reminders(now=clock.now)
    deliver(clock)
    record_referral(friend, person, f"{NAME} ({EMAIL}) suggested them", coordinator)
    withdraw(person, coordinator, reason=f"{NAME} has moved on")
    deliver(clock)

    received = [m.message for m in smtp_server.messages]
    kinds = {str(m["Subject"]).split(":")[0] for m in received}
    to_person = [m for m in received if EMAIL in str(m["To"])]
    to_interviewer_naming = [
        m
        for m in received
        if "ivan@example.org" in str(m["To"])
        and NAME in m.as_string()
        or "ivan@example.org" in str(m["To"])
        and NAME in str(m.get_body(("plain",)).get_content())
    ]
    # consent copy, booking link, invite, update, reminders, cancellation
    assert len(to_person) >= 6, kinds
    assert to_interviewer_naming, "the interviewer's invitation names the participant"
    return {"study": study, "person": person, "coordinator": coordinator}


def test_an_erased_person_is_nowhere_in_the_database_backups_files_or_disk(
    app, erased_story, runner, tmp_path, instance_folder
):
    study, person = erased_story["study"], erased_story["person"]
    assert hits_in_tables(NEEDLES), "the set-up spreads the details around"
    assert hits_in_files(instance_folder, NEEDLES), "an upload waits on disk"
    assert all(hits_in_bytes(data, NEEDLES) for data in database_files().values())
    figures_before = coverage_figures(study)
    study_id = study.id
    messages_before = db.session.scalar(select(func.count()).select_from(OutboxMessage))

    result = runner.invoke(args=["erase-participant", person.reference, "--yes"])
    assert result.exit_code == 0, result.output
    assert "Erased" in result.output

    db.session.remove()
    assert hits_in_tables(NEEDLES) == []
    assert coverage_figures(db.session.get(Study, study_id)) == figures_before
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == messages_before
    backup = tmp_path / "after.jsonl.gz"
    result = runner.invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert hits_in_backup(backup, NEEDLES) == []
    assert hits_in_files(instance_folder, NEEDLES) == {}
    assert hits_in_files(app.instance_path, NEEDLES) == {}
    for path, data in database_files().items():
        assert hits_in_bytes(data, NEEDLES) == [], path


def test_the_messages_keep_their_shape_and_say_what_was_removed(app, erased_story, runner):
    person = erased_story["person"]
    erase_personal_data(person, erased_story["coordinator"])
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert rows
    for row in rows:
        assert row.subject and row.raw
        assert "erased@erased.invalid" in row.recipients or "@example.org" in row.recipients
    assert any("[name removed]" in row.subject or b"[name removed]" in row.raw for row in rows)


def test_sqlite_connections_overwrite_deleted_content(app):
    """Free pages hold zeros, not old values (PRAGMA secure_delete on every connection)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_the_command_withdraws_and_erases_after_asking(app, runner):
    frame = make_frame()
    person = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        name=NAME,
        email=EMAIL,
        phone=PHONE,
    )
    reference, person_id = person.reference, person.id
    result = runner.invoke(args=["erase-participant", reference], input="n\n")
    assert result.exit_code != 0 and "cannot be undone" in result.output
    assert hits_in_tables(NEEDLES)
    result = runner.invoke(args=["erase-participant", reference], input="y\n")
    assert result.exit_code == 0, result.output
    assert "withdrawn" in result.output and hits_in_tables(NEEDLES) == []
    db.session.remove()
    kept = db.session.get(Participant, person_id)
    assert kept.reference == reference and kept.status.value == "withdrawn"
    result = runner.invoke(args=["erase-participant", reference, "--yes"])
    assert result.exit_code != 0 and "already erased" in result.output
    result = runner.invoke(args=["erase-participant", "NOPE-1", "--yes"])
    assert result.exit_code != 0 and "No participant" in result.output
