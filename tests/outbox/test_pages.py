"""The outbox page: coordinators see every message, filter them, and resend failed ones."""

from __future__ import annotations

import sqlalchemy as sa

from fieldwork.extensions import db
from fieldwork.outbox import services as outbox
from fieldwork.outbox.models import OutboxMessage, OutboxState
from tests.factories import make_study, make_user
from tests.outbox.test_delivery import make_message
from tests.pagecheck import require_vnu, vnu_errors


def queue(number: int, kind: str, state: OutboxState = OutboxState.PENDING, **fields) -> int:
    row = outbox.enqueue(make_message(number), kind=kind, study_id=None)
    db.session.flush()
    db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == row.id).values(state=state, **fields)
    )
    db.session.commit()
    return row.id


def test_coordinator_sees_every_message_with_its_state(app, client, auth):
    make_study()
    queue(1, "invite", OutboxState.SENT)
    queue(2, "reminder", OutboxState.FAILED, attempts=8, last_error="Connection refused")
    auth.login(make_user("coordinator"))
    page = client.get("/outbox").get_data(as_text=True)
    assert "Message 1" in page and "Message 2" in page
    assert "Connection refused" in page
    assert "bob@example.org" in page
    assert "<caption>" in page


def test_list_filters_by_state_and_kind(app, client, auth):
    queue(1, "invite", OutboxState.SENT)
    queue(2, "reminder", OutboxState.FAILED)
    queue(3, "reminder", OutboxState.SENT)
    auth.login(make_user("coordinator"))
    failed = client.get("/outbox?state=failed").get_data(as_text=True)
    assert "Message 2" in failed and "Message 1" not in failed and "Message 3" not in failed
    reminders = client.get("/outbox?kind=reminder&state=sent").get_data(as_text=True)
    assert "Message 3" in reminders and "Message 1" not in reminders
    assert "Message 2" not in reminders


def test_nonsense_filters_are_reported_not_a_crash(app, client, auth):
    queue(1, "invite")
    auth.login(make_user("coordinator"))
    response = client.get("/outbox?state=exploded&kind=%3Cb%3E&page=-4")
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_message_page_shows_headers_parts_and_text(app, client, auth):
    message_id = queue(1, "invite")
    auth.login(make_user("coordinator"))
    page = client.get(f"/outbox/{message_id}").get_data(as_text=True)
    assert "Message-ID" in page and "&lt;message-1@fieldwork.test&gt;" in page
    assert "this is message 1" in page
    assert "text/plain" in page
    assert client.get("/outbox/999999").status_code == 404


def test_retry_requeues_a_failed_message_for_the_scheduler(app, client, auth):
    """ "Send again" queues the same message (same Message-ID) for the scheduler and says it
    may already have arrived; the request itself sends nothing."""
    message_id = queue(1, "reminder", OutboxState.FAILED, attempts=8, last_error="boom")
    auth.login(make_user("coordinator"))
    assert "Send again" in client.get(f"/outbox/{message_id}").get_data(as_text=True)
    app.config["SMTP_PORT"], saved = 1, app.config["SMTP_PORT"]  # a request would fail
    try:
        response = client.post(f"/outbox/{message_id}/retry", follow_redirects=True)
    finally:
        app.config["SMTP_PORT"] = saved
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "queued to be sent again" in page
    assert "may already have arrived" in page
    db.session.expire_all()
    row = db.session.get(OutboxMessage, message_id)
    assert row.state == OutboxState.PENDING
    assert row.attempts == 0  # nobody tried in the request; a fresh series of attempts
    assert row.message_id == "<message-1@fieldwork.test>"


def test_retry_of_a_sent_message_is_refused_with_a_message(app, client, auth):
    message_id = queue(1, "invite", OutboxState.SENT)
    auth.login(make_user("coordinator"))
    page = client.post(f"/outbox/{message_id}/retry", follow_redirects=True)
    assert "cannot be retried" in page.get_data(as_text=True)
    assert "Send again" not in page.get_data(as_text=True)


def test_retry_needs_a_csrf_token(app, client, auth):
    message_id = queue(1, "reminder", OutboxState.FAILED)
    auth.login(make_user("coordinator"))
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post(f"/outbox/{message_id}/retry").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message_id).state == OutboxState.FAILED


def test_interviewers_may_not_see_or_retry_messages(app, client, auth):
    message_id = queue(1, "reminder", OutboxState.FAILED)
    auth.login(make_user("interviewer"))
    assert client.get("/outbox").status_code == 403
    assert client.get(f"/outbox/{message_id}").status_code == 403
    assert client.post(f"/outbox/{message_id}/retry").status_code == 403


def test_visitors_are_sent_to_the_login_page(app, client):
    assert client.get("/outbox").status_code == 302


def test_outbox_pages_are_valid_html(app, client, auth, tmp_path):
    require_vnu()
    failed = queue(1, "reminder", OutboxState.FAILED, attempts=3, last_error="550 <no> & more")
    queue(2, "invite", OutboxState.SENT)
    auth.login(make_user("coordinator"))
    pages = {
        url: client.get(url).get_data(as_text=True)
        for url in ("/outbox", "/outbox?state=failed", f"/outbox/{failed}", "/outbox?state=x")
    }
    assert vnu_errors(pages, tmp_path) == []
