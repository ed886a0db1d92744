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


def test_failed_logins_are_limited_per_account_with_a_clear_message(client, app):
    user = make_user()
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 3
    try:
        for _ in range(3):
            response = client.post("/login", data={"email": user.email, "password": "wrong"})
            assert response.status_code == 422
        locked = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert locked.status_code == 429
        assert "Too many failed logins" in locked.get_data(as_text=True)
        other = make_user()
        assert (
            client.post("/login", data={"email": other.email, "password": PASSWORD}).status_code
            == 302
        )
    finally:
        app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 10


def test_failed_logins_are_limited_per_address(client, app):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = 4
    try:
        for number in range(4):
            client.post("/login", data={"email": f"nobody{number}@example.org", "password": "x"})
        response = client.post("/login", data={"email": "someone@example.org", "password": "x"})
        assert response.status_code == 429
    finally:
        app.config["LOGIN_FAILURES_PER_ADDRESS"] = 50


def test_successful_logins_do_not_count_towards_the_limit(client, auth, app):
    user = make_user()
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 2
    try:
        for _ in range(4):
            auth.login(user)
            auth.logout()
    finally:
        app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 10


def test_login_starts_a_new_session(client, app):
    """No session fixation: whatever the visitor's session held before login is dropped."""
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("_user_id")
