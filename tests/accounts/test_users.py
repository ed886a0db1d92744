"""Users: created from the command line or by a coordinator; roles decide what they may do."""

from fieldwork.accounts import services
from fieldwork.accounts.models import User, UserRole
from fieldwork.extensions import db
from tests.factories import PASSWORD, make_user


def test_create_user_command_makes_a_user_who_can_log_in(runner, app, client):
    result = runner.invoke(
        args=[
            "create-user",
            "Ana@Example.org",
            "--name",
            "Ana Ruiz",
            "--role",
            "interviewer",
            "--password",
            "s3cret-pass",
        ]
    )
    assert result.exit_code == 0, result.output
    user = services.find_user_by_email("ana@example.org")
    assert user.role == UserRole.INTERVIEWER
    assert user.password_hash != "s3cret-pass"
    assert services.authenticate("ana@example.org", "s3cret-pass") is not None


def test_create_user_command_refuses_a_duplicate_and_a_bad_role(runner, app):
    make_user(email="ana@example.org")
    assert (
        runner.invoke(
            args=[
                "create-user",
                "ana@example.org",
                "--name",
                "A",
                "--role",
                "coordinator",
                "--password",
                "longenough",
            ]
        ).exit_code
        != 0
    )
    assert (
        runner.invoke(
            args=[
                "create-user",
                "b@example.org",
                "--name",
                "B",
                "--role",
                "admin",
                "--password",
                "longenough",
            ]
        ).exit_code
        != 0
    )


def test_coordinator_adds_a_user_and_sees_errors_beside_fields(app, client, auth):
    auth.login(make_user("coordinator"))
    bad = client.post(
        "/users/new",
        data={
            "name": "",
            "email": "nope",
            "role": "interviewer",
            "timezone": "Europe/London",
            "password": "short",
        },
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Enter the person&#39;s name." in text and "Use at least 10 characters." in text
    good = client.post(
        "/users/new",
        data={
            "name": "Iris",
            "email": "iris@example.org",
            "role": "interviewer",
            "timezone": "Europe/Paris",
            "is_enabled": "y",
            "password": "long-enough",
        },
    )
    assert good.status_code == 302
    assert services.find_user_by_email("iris@example.org").timezone == "Europe/Paris"


def test_bad_time_zone_is_refused(app, client, auth):
    auth.login(make_user("coordinator"))
    response = client.post(
        "/users/new",
        data={
            "name": "X",
            "email": "x@example.org",
            "role": "interviewer",
            "timezone": "Mars/Base",
            "password": "long-enough",
        },
    )
    assert response.status_code == 422


def test_interviewer_cannot_manage_users(app, client, auth):
    auth.login(make_user("interviewer"))
    assert client.get("/users").status_code == 403
    assert client.post("/users/new", data={}).status_code == 403


def test_coordinator_cannot_lock_themselves_out(app, client, auth):
    me = make_user("coordinator")
    auth.login(me)
    response = client.post(
        f"/users/{me.id}/edit",
        data={
            "name": me.name,
            "email": me.email,
            "role": "interviewer",
            "timezone": "Europe/London",
        },
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, me.id).role == UserRole.COORDINATOR


def test_changing_the_password_ends_other_sessions(app, client, auth):
    user = make_user()
    other_client = app.test_client()
    other_client.post("/login", data={"email": user.email, "password": PASSWORD})
    auth.login(user)
    response = client.post(
        "/account/password",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": "brand-new-pass",
            "pw-confirm_password": "brand-new-pass",
        },
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other_client.get("/account").status_code == 302


def test_wrong_current_password_is_refused(app, client, auth):
    user = make_user()
    auth.login(user)
    response = client.post(
        "/account/password",
        data={
            "pw-current_password": "wrong",
            "pw-new_password": "brand-new-pass",
            "pw-confirm_password": "brand-new-pass",
        },
    )
    assert response.status_code == 422
    assert "current password is not right" in response.get_data(as_text=True)


def test_preferences_change_the_zone_times_are_shown_in(app, client, auth):
    user = make_user()
    auth.login(user)
    response = client.post(
        "/account", data={"prefs-name": "New Name", "prefs-timezone": "America/New_York"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).timezone == "America/New_York"


def test_editing_a_user_saves_everything_or_nothing(app, client, auth):
    """A new password the policy refuses leaves the other changes unsaved too, so what the
    form shows again is what is still to be saved."""
    auth.login(make_user("coordinator"))
    colleague = make_user("interviewer", name="Ivy Old")
    form = {
        "name": "Ivy New",
        "email": colleague.email,
        "role": "interviewer",
        "timezone": "Europe/Paris",
        "is_enabled": "y",
    }
    refused = client.post(f"/users/{colleague.id}/edit", data={**form, "password": "short"})
    assert refused.status_code == 422
    db.session.expire_all()
    unchanged = db.session.get(User, colleague.id)
    assert (unchanged.name, unchanged.timezone) == ("Ivy Old", "Europe/London")
    saved = client.post(f"/users/{colleague.id}/edit", data=form)
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, colleague.id).name == "Ivy New"


def test_a_user_created_disabled_cannot_log_in(app, client, auth):
    auth.login(make_user("coordinator"))
    created = client.post(
        "/users/new",
        data={
            "name": "Dora",
            "email": "dora@example.org",
            "role": "interviewer",
            "timezone": "Europe/London",
            "password": "long-enough",
        },
    )
    assert created.status_code == 302
    assert services.find_user_by_email("dora@example.org").is_enabled is False
    assert services.authenticate("dora@example.org", "long-enough") is None
