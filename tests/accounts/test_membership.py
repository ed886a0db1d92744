"""Studies are the unit of access: memberships with a role per study, the study switcher,
and `flask create-user --study`."""

from __future__ import annotations

from fieldwork.accounts import services
from fieldwork.accounts.models import UserRole
from fieldwork.extensions import db
from tests.factories import (
    PASSWORD,
    make_membership,
    make_participant,
    make_study,
    make_user,
)

LONG_PASSWORD = "a long unusual passphrase"


def _create_user(runner, *extra: str):
    return runner.invoke(
        args=[
            "create-user",
            "ana@example.org",
            "--name",
            "Ana Ruiz",
            "--role",
            "interviewer",
            "--password",
            LONG_PASSWORD,
            *extra,
        ]
    )


def test_create_user_without_study_joins_every_study_and_says_which(runner, app):
    first = make_study("First study", slug="first")
    second = make_study("Second study", slug="second")
    result = _create_user(runner)
    assert result.exit_code == 0, result.output
    assert "every existing study" in result.output
    assert "first  First study" in result.output and "second  Second study" in result.output
    user = services.find_user_by_email("ana@example.org")
    assert user.study_roles == {first.id: UserRole.INTERVIEWER, second.id: UserRole.INTERVIEWER}
    assert not user.is_administrator


def test_create_user_with_study_joins_only_the_named_studies(runner, app):
    make_study("First study", slug="first")
    second = make_study("Second study", slug="second")
    third = make_study("Third study", slug="third")
    result = _create_user(runner, "--study", "second", "--study", "third")
    assert result.exit_code == 0, result.output
    assert "First study" not in result.output
    user = services.find_user_by_email("ana@example.org")
    assert set(user.study_roles) == {second.id, third.id}


def test_create_user_refuses_an_unknown_study_and_creates_nobody(runner, app):
    make_study("First study", slug="first")
    result = _create_user(runner, "--study", "nope")
    assert result.exit_code != 0
    assert "No study with the short name nope" in result.output
    assert "first" in result.output
    assert services.find_user_by_email("ana@example.org") is None


def test_a_coordinator_created_on_the_command_line_is_an_administrator(runner, app):
    make_study(slug="first")
    result = runner.invoke(
        args=["create-user", "lead@example.org", "--name", "Lead", "--role", "coordinator"]
        + ["--password", LONG_PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert "Administrator" in result.output
    assert services.find_user_by_email("lead@example.org").is_administrator


def test_the_study_switcher_offers_only_member_studies(app, client, auth):
    mine = make_study("My study", members=[])
    theirs = make_study("Their study", members=[])
    user = make_user("coordinator", studies=[mine], is_administrator=False)
    auth.login(user)
    page = client.get("/study").get_data(as_text=True)
    assert "My study" in page and "Their study" not in page
    # Choosing a study by id that is not theirs changes nothing.
    client.post("/study/select", data={"study_id": theirs.id})
    page = client.get("/study").get_data(as_text=True)
    assert "Their study" not in page


def test_a_coordinator_here_is_an_interviewer_there(app, client, auth):
    """Access follows the membership: coordinating study A gives no coordinator rights in B,
    where the user sees only the participants assigned to them."""
    study_a = make_study("Study A", members=[])
    study_b = make_study("Study B", members=[])
    user = make_user("coordinator", studies=[study_a], is_administrator=False)
    make_membership(user, study_b, "interviewer")
    assigned = make_participant(study_b, name="Assigned Person", interviewer_id=user.id)
    other = make_participant(study_b, name="Someone Else")
    a_person = make_participant(study_a, name="Person In A")
    auth.login(user)
    assert client.get(f"/participants/{a_person.id}").status_code == 200
    assert client.get(f"/participants/{assigned.id}").status_code == 200
    assert client.get(f"/participants/{other.id}").status_code == 404
    client.post("/study/select", data={"study_id": study_b.id})
    listing = client.get("/participants").get_data(as_text=True)
    assert "Assigned Person" in listing and "Someone Else" not in listing
    assert client.get("/participants/new").status_code == 403
    client.post("/study/select", data={"study_id": study_a.id})
    assert client.get("/participants/new").status_code == 200


def test_a_user_in_no_study_is_told_so(app, client, auth):
    make_study("Somebody's study", members=[])
    user = make_user("interviewer", studies=[])
    auth.login(user)
    page = client.get("/study").get_data(as_text=True)
    assert "You belong to no study yet" in page
    assert "Somebody" not in page


def test_users_page_lists_the_members_of_the_current_study(app, client, auth):
    study = make_study("Study", members=[])
    coordinator = make_user("coordinator", studies=[study], is_administrator=False)
    member = make_user("interviewer", name="Member Person", studies=[study])
    stranger = make_user("interviewer", name="Stranger Person", studies=[])
    auth.login(coordinator)
    page = client.get("/users").get_data(as_text=True)
    assert "Member Person" in page and "Stranger Person" not in page
    assert client.get(f"/users/{stranger.id}/edit").status_code == 404
    assert client.get(f"/users/{member.id}/edit").status_code == 200


def test_a_new_user_from_the_users_page_joins_the_current_study(app, client, auth):
    study = make_study("Study", members=[])
    make_study("Other", members=[])
    coordinator = make_user("coordinator", studies=[study], is_administrator=False)
    auth.login(coordinator)
    page = client.get("/users/new").get_data(as_text=True)
    assert '<option selected value="interviewer">' in page, "the role defaults to interviewer"
    response = client.post(
        "/users/new",
        data={
            "name": "New Person",
            "email": "new@example.org",
            "role": "interviewer",
            "timezone": "Europe/London",
            "is_enabled": "y",
            "password": LONG_PASSWORD,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    user = services.find_user_by_email("new@example.org")
    assert user.study_roles == {study.id: UserRole.INTERVIEWER}
    assert not user.is_administrator


def test_the_demo_gives_its_users_memberships(app):
    from fieldwork.demo import load_demo_study

    study = load_demo_study()
    coordinator = services.find_user_by_email("coordinator@example.org")
    interviewer = services.find_user_by_email("interviewer@example.org")
    assert coordinator.study_roles == {study.id: UserRole.COORDINATOR}
    assert coordinator.is_administrator
    assert interviewer.study_roles == {study.id: UserRole.INTERVIEWER}
    assert not interviewer.is_administrator
    db.session.expire_all()
    assert PASSWORD
