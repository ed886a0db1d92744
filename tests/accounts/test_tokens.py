"""Personal API tokens: shown once, stored hashed, revocable."""

from sqlalchemy import select

from fieldwork.accounts import services
from fieldwork.accounts.models import ApiToken
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
