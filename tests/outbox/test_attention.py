"""Mail is honest: the booking message says what became of the invitations, and coordinators
see a banner on every page while messages wait for a mail server, failed, are late, or were
interrupted mid-send."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from fieldwork.extensions import db
from fieldwork.outbox import services as outbox
from fieldwork.outbox import smtp
from fieldwork.outbox.models import OutboxMessage, OutboxState
from fieldwork.reminders import jobs
from tests.factories import make_study
from tests.scheduling.conftest import NOW


def _booking_form(world) -> dict:
    return {
        "interviewer_id": world["kathryn"].id,
        "starts_on": "2026-03-30",
        "starts_time": "10:00",
        "minutes": "60",
        "mode": "telephone",
        "location": "",
        "video_link": "",
        "travel_minutes_before": "0",
        "travel_minutes_after": "0",
        "notes": "",
    }


@pytest.fixture
def no_mail_server(app):
    saved = app.config["SMTP_HOST"]
    app.config["SMTP_HOST"] = ""
    yield
    app.config["SMTP_HOST"] = saved


def _message(number: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "team@example.org"
    message["To"] = f"person{number}@example.org"
    message["Subject"] = f"Message {number}"
    message.set_content("hello")
    return message


def _queue(study_id: int | None, state: OutboxState, **fields) -> int:
    row = outbox.enqueue(_message(fields.pop("number", 1)), kind="other", study_id=study_id)
    db.session.flush()
    db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == row.id).values(state=state, **fields)
    )
    db.session.commit()
    return row.id


def test_without_a_mail_server_the_booking_says_its_mail_is_kept_and_the_banner_says_why(
    world, client, auth, no_mail_server
):
    auth.login(world["coordinator"])
    response = client.post(
        f"/appointments/new?participant={world['first'].id}",
        data=_booking_form(world),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Interview booked." in page
    assert "2 messages to kathryn@example.org, sian@example.org kept in the outbox" in page
    assert "not sent: no mail server is configured" in page
    assert "on their way" not in page

    jobs.sweep()  # what the scheduler does: nothing can be sent, each message says why
    rows = db.session.scalars(sa.select(OutboxMessage)).all()
    assert {row.state for row in rows} == {OutboxState.PENDING}
    assert {row.last_error for row in rows} == {smtp.NOT_CONFIGURED}

    other_page = client.get("/appointments").get_data(as_text=True)
    assert "Mail needs your attention" in other_page
    assert "2 messages not sent: no mail server is configured" in other_page
    assert 'href="/outbox"' in other_page
    # The message itself stays readable in full on the outbox page.
    detail = client.get(f"/outbox/{rows[0].id}").get_data(as_text=True)
    assert "not sent: no mail server configured" in detail
    assert "Subject" in detail


def test_with_a_mail_server_the_booking_says_queued_for_sending(world, client, auth, smtp_server):
    auth.login(world["coordinator"])
    response = client.post(
        f"/appointments/new?participant={world['first'].id}",
        data=_booking_form(world),
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "2 messages to kathryn@example.org, sian@example.org queued for sending" in page
    assert smtp_server.messages == []  # the request sent nothing
    jobs.sweep()
    assert len(smtp_server.messages) == 2
    assert "Mail needs your attention" not in client.get("/appointments").get_data(as_text=True)


@pytest.mark.parametrize(
    ("state", "fields", "reason"),
    [
        (OutboxState.FAILED, {"last_error": "550 no such user"}, "1 message could not be sent"),
        (
            OutboxState.PENDING,
            {"due_at": NOW - dt.timedelta(minutes=30), "attempts": 3, "last_error": "refused"},
            "1 message waiting longer than it should",
        ),
        (
            OutboxState.SENDING,
            {"claimed_at": NOW - dt.timedelta(minutes=20), "attempts": 1},
            "1 message interrupted while being sent",
        ),
        (
            OutboxState.SENDING,
            {"claimed_at": NOW, "attempts": 1, "last_error": "never confirmed; may have arrived"},
            "1 message interrupted while being sent",
        ),
    ],
)
def test_coordinators_see_the_banner_on_every_page_with_a_plain_reason(
    world, client, auth, state, fields, reason
):
    _queue(world["study"].id, state, **fields)
    auth.login(world["coordinator"])
    for url in ("/", "/appointments", "/participants", "/outbox"):
        page = client.get(url, follow_redirects=True).get_data(as_text=True)
        assert "Mail needs your attention" in page, url
        assert reason in page, url


def test_interviewers_and_other_studies_messages_raise_no_banner(world, client, auth):
    other = make_study(slug="other-study", name="Another study")
    _queue(other.id, OutboxState.FAILED, last_error="550 no such user")
    auth.login(world["coordinator"])
    assert "Mail needs your attention" not in client.get("/appointments").get_data(as_text=True)
    _queue(world["study"].id, OutboxState.FAILED, number=2, last_error="550 no such user")
    auth.logout()
    auth.login(world["kathryn"])
    assert "Mail needs your attention" not in client.get("/appointments").get_data(as_text=True)


def test_the_banner_costs_one_query_whatever_the_number_of_messages(
    world, client, auth, count_queries
):
    auth.login(world["coordinator"])
    client.get("/appointments")
    with count_queries() as few:
        client.get("/appointments")
    for number in range(30):
        _queue(world["study"].id, OutboxState.FAILED, number=number + 10, last_error="550")
    with count_queries() as many:
        page = client.get("/appointments").get_data(as_text=True)
    assert "30 messages could not be sent" in page
    assert len(many.statements) == len(few.statements)


def test_the_banner_reads_only_the_unsent_messages_through_their_index_on_sqlite(world):
    """Most messages are sent; SQLite's statistics know only the average rows per state (half
    the table for two states), so without a hint it read every message for the banner, on
    every coordinator's page. The statistics here are those of 50,000 messages."""
    from fieldwork.outbox.attention import mail_attention

    if db.engine.dialect.name != "sqlite":
        pytest.skip("a hint to SQLite's planner; PostgreSQL's statistics see the skew")
    _queue(world["study"].id, OutboxState.SENT, number=1)
    _queue(world["study"].id, OutboxState.FAILED, number=2, last_error="550")
    db.session.execute(sa.text("ANALYZE"))
    db.session.execute(
        sa.text(
            "UPDATE sqlite_stat1 SET stat = CASE idx WHEN 'ix_outbox_message_state' "
            "THEN '50000 25000' WHEN 'ix_outbox_message_study_id' THEN '50000 50000' "
            "ELSE '50000 1' END WHERE tbl = 'outbox_message'"
        )
    )
    db.session.execute(sa.text("ANALYZE sqlite_schema"))  # the planner rereads them
    db.session.commit()
    seen: list[tuple[str, tuple]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert mail_attention([world["study"].id]).failed == 1
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)
    statement, parameters = next(item for item in seen if "outbox_message" in item[0])
    plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    assert any("USING INDEX ix_outbox_message_state" in row[-1] for row in plan), statement
