"""Passwords: at least 10 characters, not a common one, not the user's own email or name,
wherever a password is chosen (command line, user forms, password change)."""

from __future__ import annotations

import pytest

from fieldwork.accounts import services
from fieldwork.accounts.passwords import common_passwords, password_problem
from tests.factories import PASSWORD, make_user


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("12345678", "at least 10 characters"),
        ("password", "at least 10 characters"),
        ("password123", "most common"),
        ("1234567890", "most common"),
        ("QWERTYUIOP", "most common"),
        ("ana.ruiz@example.org", "email address or name"),
        ("Ana Ruiz 1", "email address or name"),
        ("ANA-RUIZ", "at least 10 characters"),
        ("anaruiz...", "email address or name"),
        ("zzzzzzzzzzzz", "two different characters"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, words):
    problem = password_problem(password, email="ana.ruiz@example.org", name="Ana Ruiz 1")
    assert problem is not None and words in problem


def test_the_shipped_list_is_the_common_one_and_spares_the_demo_password():
    common = common_passwords()
    assert len(common) >= 10_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= common
    assert password_problem("fieldwork-demo", email="coordinator@example.org") is None
    assert password_problem(PASSWORD, email="x@example.org", name="X") is None


def test_create_user_command_refuses_a_weak_password_and_creates_nobody(runner, app):
    for password in ("12345678", "password123", "ana@example.org"):
        result = runner.invoke(
            args=["create-user", "ana@example.org", "--name", "Ana", "--role", "interviewer"]
            + ["--password", password]
        )
        assert result.exit_code != 0
    assert services.find_user_by_email("ana@example.org") is None


def test_the_user_form_refuses_a_common_password_beside_the_field(app, client, auth):
    auth.login(make_user("coordinator"))
    response = client.post(
        "/users/new",
        data={
            "name": "Ben Ode",
            "email": "ben@example.org",
            "role": "interviewer",
            "timezone": "Europe/London",
            "password": "password123",
        },
    )
    assert response.status_code == 422
    assert "most common" in response.get_data(as_text=True)
    assert services.find_user_by_email("ben@example.org") is None


def test_a_password_change_to_the_own_email_is_refused(app, client, auth):
    user = make_user("interviewer")
    auth.login(user)
    response = client.post(
        "/account/password",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": user.email,
            "pw-confirm_password": user.email,
        },
    )
    assert response.status_code == 422
    assert "email address or name" in response.get_data(as_text=True)
    assert services.authenticate(user.email, PASSWORD) is not None
