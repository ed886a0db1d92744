"""The demo study: what `flask demo` and a new development database load."""

from sqlalchemy import func, select

from fieldwork.extensions import db
from fieldwork.sampling.demo import load_demo
from fieldwork.sampling.models import District, Organisation, OrganisationKind, Participant, Role


def test_demo_has_31_districts_in_two_phases_with_six_placeholders(app):
    load_demo()
    rows = db.session.execute(
        select(District.phase_id, func.count())
        .group_by(District.phase_id)
        .order_by(District.phase_id)
    ).all()
    assert [count for _, count in rows] == [15, 16]
    placeholders = db.session.scalar(select(func.count()).where(District.is_placeholder.is_(True)))
    assert placeholders == 6


def test_demo_phases_went_live_on_the_documented_dates(app):
    study = load_demo()
    from fieldwork.sampling.services import phases_of

    assert [(p.number, p.go_live_on.isoformat()) for p in phases_of(study)] == [
        (1, "2007-12-03"),
        (2, "2008-04-28"),
    ]


def test_demo_has_the_study_roles_and_lead_providers(app):
    load_demo()
    roles = set(db.session.scalars(select(Role.name)))
    assert roles == {
        "DWP Contract Manager",
        "JCP Third Party Provision Manager",
        "Lead provider manager",
        "Lead provider adviser",
        "Sub-contractor manager",
    }
    providers = set(
        db.session.scalars(
            select(Organisation.name).where(Organisation.kind == OrganisationKind.LEAD_PROVIDER)
        )
    )
    assert {"A4e", "Shaw Trust", "WorkDirections (Ingeus)", "Working Links", "Remploy"} <= providers
    assert not any("customer-choice" in name for name in providers)


def test_every_demo_participant_fits_their_organisation_and_uses_example_org(app):
    load_demo()
    people = db.session.execute(
        select(Participant.email, Role.organisation_kind, Organisation.kind)
        .join(Role, Participant.role_id == Role.id)
        .join(Organisation, Participant.organisation_id == Organisation.id)
    ).all()
    assert len(people) > 100
    assert all(role_kind == org_kind for _, role_kind, org_kind in people)
    assert all(email.endswith(".example.org") for email, _, _ in people)


def test_demo_command_loads_once_and_prints_the_logins(runner, app):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "coordinator@example.org" in result.output
    again = runner.invoke(args=["demo"])
    assert again.exit_code != 0
    assert "empty database" in again.output
