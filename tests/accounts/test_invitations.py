"""Invitations and "forgot password": set-password links by email, through the outbox; the
token is long, random, stored hashed, expiring and single-use."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes
from email.policy import default

from sqlalchemy import select

from fieldwork.accounts import services
from fieldwork.accounts.models import PasswordLink, UserRole
from fieldwork.core.time import now_utc, set_clock
from fieldwork.extensions import db
from fieldwork.outbox.models import OutboxMessage
from tests.factories import make_study, make_user

NEW_PASSWORD = "tea kettle on the moor"
LINK = re.compile(r"https?://\S+/password/set/([A-Za-z0-9_-]+)")


def _mails_to(address: str) -> list:
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    messages = [message_from_bytes(row.raw, policy=default) for row in rows]
    return [m for m in messages if address in str(m["To"])]


def _link_in(message) -> tuple[str, str]:
    body = message.get_body(("plain",)).get_content()
    match = LINK.search(body)
    assert match, body
    return match.group(0), match.group(1)


def _invite(client, **fields):
    data = {
        "name": "Ivy Newcomer",
        "email": "ivy@example.org",
        "role": "interviewer",
        "timezone": "Europe/London",
        **fields,
    }
    return client.post("/users/invite", data=data)


def test_a_coordinator_invites_a_user_who_sets_a_password_and_joins_the_study(app, client, auth):
    study = make_study("Pathways", members=[])
    make_study("Elsewhere", members=[])
    coordinator = make_user("coordinator", name="Cora Lead", studies=[study])
    auth.login(coordinator)
    form = client.get("/users/invite").get_data(as_text=True)
    assert '<option selected value="interviewer">' in form, "the role defaults to interviewer"
    response = _invite(client)
    assert response.status_code == 302
    assert "is invited to Pathways" in client.get(response.location).get_data(as_text=True)
    user = services.find_user_by_email("ivy@example.org")
    assert user.study_roles == {study.id: UserRole.INTERVIEWER}

    [mail] = _mails_to("ivy@example.org")
    assert mail["Subject"] == "You are invited to Pathways on Fieldwork"
    assert "Cora Lead has invited you" in mail.get_body(("plain",)).get_content()
    url, token = _link_in(mail)
    assert len(token) >= 43
    stored = db.session.scalars(select(PasswordLink)).one()
    assert stored.token_hash != token and token not in stored.token_hash
    assert stored.expires_at - now_utc() > dt.timedelta(days=6)

    auth.logout()
    page = client.get(f"/password/set/{token}")
    assert page.status_code == 200 and "ivy@example.org" in page.get_data(as_text=True)
    weak = client.post(
        f"/password/set/{token}",
        data={"password": "password123", "confirm_password": "password123"},
    )
    assert weak.status_code == 422 and "most common" in weak.get_data(as_text=True)
    done = client.post(
        f"/password/set/{token}", data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert done.status_code == 302 and done.location == "/login"
    assert (
        client.post(
            "/login", data={"email": "ivy@example.org", "password": NEW_PASSWORD}
        ).status_code
        == 302
    )
    overview = client.get("/study").get_data(as_text=True)
    assert "Pathways" in overview and "Elsewhere" not in overview
    again = client.get(f"/password/set/{token}")
    assert again.status_code == 410, "a link works once"


def test_inviting_someone_who_has_an_account_adds_them_to_the_study(app, client, auth):
    study = make_study("Pathways", members=[])
    other = make_study("Other", members=[])
    existing = make_user("interviewer", email="ivy@example.org", studies=[other])
    auth.login(make_user("coordinator", studies=[study]))
    assert _invite(client, role="coordinator").status_code == 302
    existing.forget_study_roles()
    assert existing.study_roles == {
        other.id: UserRole.INTERVIEWER,
        study.id: UserRole.COORDINATOR,
    }
    assert _mails_to("ivy@example.org") == []


def test_forgot_password_says_the_same_for_any_address_and_mails_only_real_users(app, client):
    user = make_user("interviewer", email="sam@example.org")
    answers = []
    for email in ("sam@example.org", "nobody@example.org"):
        response = client.post("/password/forgot", data={"email": email})
        assert response.status_code == 302
        answers.append(client.get(response.location).get_data(as_text=True))
    assert "If an account uses that address" in answers[0]
    assert answers[0].replace("sam@", "x@") == answers[1].replace("nobody@", "x@")
    assert _mails_to("nobody@example.org") == []
    [mail] = _mails_to("sam@example.org")
    _, token = _link_in(mail)
    browser = app.test_client()
    assert (
        browser.post(
            "/login", data={"email": user.email, "password": "correct horse battery"}
        ).status_code
        == 302
    )
    response = client.post(
        f"/password/set/{token}", data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert browser.get("/account").status_code == 302, "setting a password ends old sessions"
    db.session.expire_all()
    assert services.authenticate(user.email, NEW_PASSWORD) is not None


def test_a_reset_link_expires_and_a_newer_one_replaces_it(app, client):
    make_user("interviewer", email="sam@example.org")
    client.post("/password/forgot", data={"email": "sam@example.org"})
    client.post("/password/forgot", data={"email": "sam@example.org"})
    first, second = (_link_in(mail)[1] for mail in _mails_to("sam@example.org"))
    assert client.get(f"/password/set/{first}").status_code == 410, "replaced by the newer"
    assert client.get(f"/password/set/{second}").status_code == 200
    set_clock(lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=3))
    try:
        expired = client.get(f"/password/set/{second}")
        assert expired.status_code == 410
        assert "Ask for a new link" in expired.get_data(as_text=True)
    finally:
        set_clock(None)


def test_an_unknown_or_garbage_token_answers_410_never_500(app, client):
    for token in ("x", "A" * 43, "%00", "a" * 300):
        assert client.get(f"/password/set/{token}").status_code in (404, 410)


def test_interviewers_cannot_invite(app, client, auth):
    auth.login(make_user("interviewer"))
    assert client.get("/users/invite").status_code == 403


def test_the_invitation_uses_the_studys_own_words(app, client, auth):
    """A coordinator who rewrote the user invitation (Admin › Message texts) sends that text,
    with the set-password link still in it."""
    from fieldwork.messaging.services import save_template

    study = make_study("Pathways", members=[])
    coordinator = make_user("coordinator", name="Cora Lead", studies=[study])
    save_template(
        study,
        "user_invitation",
        "Join {{ study_name }}, {{ recipient_name }}",
        "Welcome aboard as {{ role }}. Start here: {{ url }}",
        coordinator,
    )
    auth.login(coordinator)
    assert _invite(client).status_code == 302
    [mail] = _mails_to("ivy@example.org")
    assert mail["Subject"].startswith("Join Pathways, ")
    assert "Welcome aboard as interviewer." in mail.get_body(("plain",)).get_content()
    _, token = _link_in(mail)
    assert client.get(f"/password/set/{token}").status_code == 200
