"""The health check other tools poll."""

import datetime as dt

import sqlalchemy as sa

from fieldwork import config


def _beat(app) -> None:
    from fieldwork.core.time import now_utc
    from fieldwork.reminders import health

    health.beat("holder-1", "scheduler-host", 4242, now_utc())


def test_healthz_says_only_ok_to_anonymous_callers(app, client):
    """With a live scheduler and nothing wrong: "ok", and not a word about the database's
    kind or the scheduler's host and process."""
    _beat(app)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "scheduler-host" not in response.get_data(as_text=True)


def test_healthz_says_what_is_wrong_without_details(app, client):
    """No scheduler has ever beaten: anonymous callers learn that, and only that."""
    body = client.get("/healthz").get_json()
    assert body["status"] == "error"
    assert body["problems"] == ["scheduler: not running (no heartbeat)"]
    assert set(body) == {"status", "problems"}


def test_healthz_counts_interrupted_sends_as_needing_attention(app, client):
    """A message claimed and never confirmed (the server took it and fell silent) shows at
    once, not ten minutes later."""
    from email.message import EmailMessage

    from fieldwork.core.time import now_utc
    from fieldwork.extensions import db
    from fieldwork.outbox import services as outbox
    from fieldwork.outbox.models import OutboxMessage, OutboxState

    _beat(app)
    message = EmailMessage()
    message["From"] = "team@example.org"
    message["To"] = "bob@example.org"
    message["Subject"] = "Hello"
    message.set_content("hello")
    row = outbox.enqueue(message, kind="other", study_id=None)
    db.session.flush()
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == row.id)
        .values(
            state=OutboxState.SENDING,
            claimed_at=now_utc() - dt.timedelta(seconds=5),
            last_error="the server took the message but never confirmed it; it may have arrived",
        )
    )
    db.session.commit()
    body = client.get("/healthz").get_json()
    assert body["status"] == "error"
    assert any("1 message(s) interrupted mid-send" in problem for problem in body["problems"])


def test_healthz_details_need_a_coordinator_or_a_token(app, client, auth):
    from fieldwork.accounts.services import create_api_token
    from fieldwork.extensions import db
    from tests.factories import make_user

    _beat(app)
    coordinator = make_user("coordinator")
    interviewer = make_user("interviewer")
    _, coordinator_token = create_api_token(coordinator, "monitor")
    _, interviewer_token = create_api_token(interviewer, "monitor")
    db.session.commit()

    def details(**headers) -> dict:
        return client.get("/healthz", headers=headers).get_json()

    assert "database" not in details(Authorization=f"Bearer {interviewer_token}")
    assert "database" not in details(Authorization="Bearer wrong")
    body = details(Authorization=f"Bearer {coordinator_token}")
    assert body["database"] == {"ok": True, "dialect": db.engine.dialect.name}
    assert body["scheduler"]["holder"] == "scheduler-host:4242"
    app.config["HEALTHZ_TOKEN"] = "a-monitoring-secret-of-some-length"
    try:
        assert "scheduler" in details(Authorization="Bearer a-monitoring-secret-of-some-length")
    finally:
        app.config["HEALTHZ_TOKEN"] = config.default("HEALTHZ_TOKEN")
    auth.login(interviewer)
    assert "database" not in details()
    auth.logout()
    auth.login(coordinator)
    assert details()["scheduler"]["alive"] is True


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_page_is_a_404_page_not_a_crash(client, auth, app):
    from tests.factories import make_user

    auth.login(make_user())
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Not Found" in response.get_data(as_text=True)


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    response.close()
