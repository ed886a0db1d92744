"""Sessions end: logout, password change and "sign out everywhere" end them server-side, so a
copied session cookie or a "keep me logged in" cookie stops working."""

from __future__ import annotations

from flask.testing import FlaskClient

from fieldwork.extensions import db
from tests.factories import PASSWORD, make_user


def _log_in(app, user, remember: bool = False) -> FlaskClient:
    client = app.test_client()
    data = {"email": user.email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302
    return client


def _copy_of(app, client: FlaskClient, *names: str) -> FlaskClient:
    """Another browser holding copies of `client`'s cookies (a stolen cookie)."""
    thief = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, f"no {name} cookie to copy"
        thief.set_cookie(name, cookie.value, domain="localhost")
    return thief


def _is_logged_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def test_a_copied_session_cookie_stops_working_after_logout(app):
    user = make_user()
    browser = _log_in(app, user)
    thief = _copy_of(app, browser, "session")
    assert _is_logged_in(thief), "the copy works while the session lives"
    browser.post("/logout")
    assert not _is_logged_in(browser)
    assert not _is_logged_in(thief), "a copied cookie outlived the logout"


def test_logout_deletes_the_remember_me_cookie(app):
    """Flask-Login's instruction to clear the remember cookie survives the session's reset."""
    user = make_user()
    browser = _log_in(app, user, remember=True)
    assert browser.get_cookie("remember_token") is not None
    response = browser.post("/logout")
    cleared = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token")]
    assert cleared and "Expires=Thu, 01 Jan 1970" in cleared[0]
    assert browser.get_cookie("remember_token") is None
    assert not _is_logged_in(browser)


def test_a_copied_remember_me_cookie_stops_working_after_logout(app):
    user = make_user()
    browser = _log_in(app, user, remember=True)
    thief = _copy_of(app, browser, "remember_token")  # no session: only the remember cookie
    assert _is_logged_in(thief), "the remember cookie logs in on its own"
    browser.post("/logout")
    fresh_thief = _copy_of(app, browser, "session")  # whatever session the browser holds now
    fresh_thief.set_cookie("remember_token", thief.get_cookie("remember_token").value)
    assert not _is_logged_in(fresh_thief)
    assert not _is_logged_in(_copy_of(app, thief, "remember_token"))


def test_changing_the_password_ends_copied_sessions_but_keeps_this_one(app):
    user = make_user()
    browser = _log_in(app, user)
    thief = _copy_of(app, browser, "session")
    response = browser.post(
        "/account/password",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": "a brand new passphrase",
            "pw-confirm_password": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert _is_logged_in(browser)
    assert not _is_logged_in(thief)


def test_signing_out_everywhere_ends_every_session_of_mine(app):
    user = make_user("interviewer")
    laptop, phone = _log_in(app, user), _log_in(app, user, remember=True)
    response = laptop.post("/account/sign-out-everywhere")
    assert response.status_code == 302 and response.location == "/login"
    assert not _is_logged_in(laptop)
    assert not _is_logged_in(phone)
    assert _is_logged_in(_log_in(app, user)), "logging in again works"


def test_an_administrator_signs_a_user_out_everywhere(app):
    admin = make_user("coordinator")
    user = make_user("interviewer")
    victim_browser = _log_in(app, user, remember=True)
    admin_browser = _log_in(app, admin)
    page = admin_browser.get(f"/users/{user.id}/edit").get_data(as_text=True)
    assert "out everywhere" in page
    response = admin_browser.post(f"/users/{user.id}/sign-out")
    assert response.status_code == 302
    assert "signed out on every device" in admin_browser.get(response.location).get_data(
        as_text=True
    )
    assert not _is_logged_in(victim_browser)
    assert _is_logged_in(admin_browser)


def test_only_administrators_sign_others_out(app):
    coordinator = make_user("coordinator", is_administrator=False)
    user = make_user("interviewer")
    browser = _log_in(app, user)
    assert _log_in(app, coordinator).post(f"/users/{user.id}/sign-out").status_code == 403
    assert _is_logged_in(browser)
    db.session.expire_all()
