"""Logging in and out, and what anonymous visitors may reach."""

from tests.factories import PASSWORD, make_user


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get("/participants")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/participants")


def test_login_with_the_right_password_opens_the_app(app, client):
    user = make_user("coordinator", email="Sam@Example.org")
    response = client.post("/login", data={"email": "sam@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert user.name in client.get("/").get_data(as_text=True)


def test_wrong_password_is_refused_with_a_message_beside_the_field(client, app):
    make_user("coordinator", email="sam@example.org")
    response = client.post("/login", data={"email": "sam@example.org", "password": "nope"})
    assert response.status_code == 422
    assert "The email address or password is not right." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_only_follows_local_next_urls(client, app):
    user = make_user()
    response = client.post(
        "/login?next=https://evil.example.com/", data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_logout_ends_the_session(client, auth, app):
    auth.login(make_user())
    auth.logout()
    assert client.get("/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client, app):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_disabled_user_cannot_log_in(client, app):
    from fieldwork.extensions import db

    user = make_user()
    user.is_enabled = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 422


def test_passwords_are_hashed_with_scrypt_by_default():
    """Outside the tests' cheap setting, werkzeug's scrypt hashes passwords."""
    from fieldwork import create_app
    from fieldwork.accounts.models import User

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        user = User(email="x@example.org", name="X", role="coordinator")
        user.set_password("a long password")
        assert user.password_hash.startswith("scrypt:")
        assert user.check_password("a long password")


def test_a_nul_character_in_a_query_is_refused_plainly(client, auth, app):
    auth.login(make_user())
    assert client.get("/participants", query_string={"q": "a\x00b"}).status_code == 400
