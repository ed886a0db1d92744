"""Personal API tokens: shown once, stored hashed, revocable, read only or read and write."""

import re

from sqlalchemy import func, select

from fieldwork.accounts import services
from fieldwork.accounts.models import ApiToken, TokenScope
from fieldwork.audit.models import AuditEvent
from fieldwork.extensions import db
from tests.factories import make_user


def test_token_is_long_random_and_stored_only_as_a_hash(app):
    user = make_user()
    row, token = services.create_api_token(user, "script")
    assert len(token) >= 40
    stored = db.session.scalars(select(ApiToken)).one()
    assert token not in (stored.token_hash, stored.prefix)
    assert stored.token_hash == services.hash_token(token)
    assert services.user_for_api_token(token).id == user.id


def test_revoked_token_no_longer_works(app):
    user = make_user()
    row, token = services.create_api_token(user)
    services.revoke_api_token(user, row.id)
    assert services.user_for_api_token(token) is None


def test_token_of_a_disabled_user_does_not_work(app):
    user = make_user()
    _, token = services.create_api_token(user)
    user.is_enabled = False
    db.session.commit()
    assert services.user_for_api_token(token) is None


def test_account_page_creates_shows_once_and_revokes_a_token(app, client, auth):
    user = make_user()
    auth.login(user)
    page = client.post("/account", data={"token-label": "laptop"}).get_data(as_text=True)
    row = db.session.scalars(select(ApiToken)).one()
    assert row.prefix in page
    assert "shown only once" in page
    listing = client.get("/account").get_data(as_text=True)
    assert "laptop" in listing and "Active" in listing
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 302
    db.session.expire_all()
    assert row.is_revoked


def test_nobody_revokes_another_users_token(app, client, auth):
    owner, other = make_user(), make_user()
    row, token = services.create_api_token(owner)
    auth.login(other)
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 404
    assert services.user_for_api_token(token) is not None


def test_create_token_command_prints_a_working_token(runner, app):
    user = make_user()
    result = runner.invoke(args=["create-token", user.email])
    assert result.exit_code == 0
    assert services.user_for_api_token(result.output.strip()).id == user.id
    missing = runner.invoke(args=["create-token", "nobody@example.org"])
    assert missing.exit_code != 0


def test_create_token_command_issues_read_and_write_by_default_and_read_on_request(runner, app):
    """The documented command keeps issuing tokens that may write (scripts rely on it);
    `--scope read` issues a reader."""
    user = make_user()
    default = runner.invoke(args=["create-token", user.email])
    reader = runner.invoke(args=["create-token", user.email, "--scope", "read"])
    assert default.exit_code == 0 and reader.exit_code == 0
    assert services.live_api_token(default.output.strip()).scope == TokenScope.WRITE
    assert services.live_api_token(reader.output.strip()).scope == TokenScope.READ
    wrong = runner.invoke(args=["create-token", user.email, "--scope", "admin"])
    assert wrong.exit_code != 0


def test_account_page_issues_read_only_tokens_unless_write_is_chosen(app, client, auth):
    """Least privilege where a person chooses: read only is preselected, write is asked for;
    the list says what each token may do."""
    user = make_user()
    auth.login(user)
    form = client.get("/account").get_data(as_text=True)
    radios = re.findall(r'<input[^>]*name="token-scope"[^>]*>', form)
    assert [("checked" in radio, 'value="read"' in radio) for radio in radios] == [
        (True, True),
        (False, False),
    ]
    client.post("/account", data={"token-label": "reader"})
    client.post("/account", data={"token-label": "writer", "token-scope": "write"})
    scopes = {row.label: row.scope for row in db.session.scalars(select(ApiToken))}
    assert scopes == {"reader": TokenScope.READ, "writer": TokenScope.WRITE}
    listing = client.get("/account").get_data(as_text=True)
    assert "Read only" in listing and "Read and write" in listing
    refused = client.post("/account", data={"token-label": "odd", "token-scope": "admin"})
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count(ApiToken.id))) == 2


def test_a_new_token_and_its_scope_are_in_the_audit_trail(app):
    user = make_user()
    services.create_api_token(user, "reader", TokenScope.READ)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "token.created")).one()
    assert event.after["scope"] == "read" and event.after["label"] == "reader"
