"""The rules of the sample frame's scaffolding: studies, phases, districts, organisations, roles."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from fieldwork.extensions import db
from fieldwork.sampling.frame import common, districts, organisations, phases, roles, studies
from fieldwork.sampling.models import (
    District,
    Organisation,
    OrganisationKind,
    Participant,
    Phase,
    Role,
    Study,
    organisation_district,
)
from fieldwork.sampling.services import FrameError
from tests.factories import (
    make_district,
    make_frame,
    make_organisation,
    make_participant,
    make_role,
    make_study,
    phase_of,
)

LEAD = OrganisationKind.LEAD_PROVIDER
SUB = OrganisationKind.SUBCONTRACTOR


def study_fields(**changes) -> dict:
    fields = {
        "name": "Employment pathways",
        "slug": "employment-pathways",
        "description": "A study.",
        "timezone": "Europe/London",
        "fieldwork_starts_on": dt.date(2008, 5, 1),
        "fieldwork_ends_on": dt.date(2008, 9, 30),
        "organiser_name": "Research team",
        "organiser_email": "team@example.org",
        "interview_minutes": 60,
    }
    fields.update(changes)
    return fields


def refusal(call, *args, **kwargs) -> common.FrameFieldError:
    """Run a service call that must refuse, and return its error (field and message)."""
    with pytest.raises(FrameError) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    return caught.value


# --- Studies ---------------------------------------------------------------------------------


def test_a_study_is_created_with_its_settings(app):
    study = studies.save_study(None, **study_fields())
    assert db.session.get(Study, study.id).slug == "employment-pathways"
    assert study.interview_minutes == 60


@pytest.mark.parametrize(
    "slug", ["Upper", "with space", "-leading", "trailing-", "under_score", "é", "x" * 61]
)
def test_a_study_slug_has_lower_case_letters_digits_and_inner_hyphens_only(app, slug):
    error = refusal(studies.save_study, None, **study_fields(slug=slug))
    assert error.field == "slug"
    assert "lower-case letters, digits and hyphens" in str(error)


def test_a_study_slug_is_unique_and_not_a_reserved_word(app):
    make_study(slug="taken")
    assert refusal(studies.save_study, None, **study_fields(slug="taken")).field == "slug"
    assert "reserved" in str(refusal(studies.save_study, None, **study_fields(slug="new")))


def test_a_study_keeps_its_own_slug_when_edited(app):
    study = make_study(slug="mine")
    studies.save_study(study, **study_fields(slug="mine", name="Renamed"))
    assert db.session.get(Study, study.id).name == "Renamed"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../../etc/passwd"])
def test_a_study_time_zone_must_be_a_real_iana_zone(app, zone):
    assert refusal(studies.save_study, None, **study_fields(timezone=zone)).field == "timezone"


def test_fieldwork_cannot_end_before_it_starts(app):
    error = refusal(
        studies.save_study,
        None,
        **study_fields(
            fieldwork_starts_on=dt.date(2008, 5, 2), fieldwork_ends_on=dt.date(2008, 5, 1)
        ),
    )
    assert error.field == "fieldwork_ends_on"
    studies.save_study(
        None,
        **study_fields(
            fieldwork_starts_on=dt.date(2008, 5, 1), fieldwork_ends_on=dt.date(2008, 5, 1)
        ),
    )


@pytest.mark.parametrize(
    "minutes, allowed", [(14, False), (15, True), (480, True), (481, False), (None, False)]
)
def test_an_interview_lasts_between_15_and_480_minutes(app, minutes, allowed):
    if allowed:
        assert studies.save_study(None, **study_fields(interview_minutes=minutes)).id
    else:
        error = refusal(studies.save_study, None, **study_fields(interview_minutes=minutes))
        assert error.field == "interview_minutes"


@pytest.mark.parametrize("email", ["not-an-email", "team@", "", "a b@example.org"])
def test_the_organiser_email_must_be_valid(app, email):
    assert (
        refusal(studies.save_study, None, **study_fields(organiser_email=email)).field
        == "organiser_email"
    )


def test_deleting_a_study_needs_its_name_typed_exactly(app):
    study = make_study(name="Keep me")
    assert refusal(studies.delete_study, study, "keep me").field == "confirm_name"
    assert refusal(studies.delete_study, study, "").field == "confirm_name"
    assert db.session.get(Study, study.id) is not None


def test_deleting_a_study_removes_its_whole_frame_and_nothing_of_other_studies(app):
    doomed = make_frame()
    kept = make_frame(make_study(name="Other"))
    make_participant(
        doomed["study"], district=doomed["north"], organisation=doomed["jcp"], role=doomed["tppm"]
    )
    make_organisation(doomed["study"], "Sub", SUB, lead_provider_id=doomed["provider"].id)
    survivor = make_participant(
        kept["study"], district=kept["north"], organisation=kept["jcp"], role=kept["tppm"]
    )
    doomed_id = doomed["study"].id

    studies.delete_study(doomed["study"], "Test study")

    assert db.session.get(Study, doomed_id) is None
    for model in (Phase, District, Organisation, Role, Participant):
        assert not db.session.scalar(
            select(func.count()).select_from(model).where(model.study_id == doomed_id)
        )
    assert db.session.get(Participant, survivor.id) is not None
    assert db.session.scalar(select(func.count()).select_from(organisation_district)) == 3


# --- Phases ----------------------------------------------------------------------------------


def test_a_phase_number_is_unique_within_a_study(app):
    study = make_study(phases=2)
    error = refusal(phases.save_phase, study, None, number=2, name="Again")
    assert error.field == "number" and "already has a phase 2" in str(error)
    other = make_study(phases=1)
    assert phases.save_phase(other, None, number=2, name="Phase 2").study_id == other.id


def test_a_phase_cannot_be_deleted_while_participants_are_in_its_districts(app):
    f = make_frame()
    for _ in range(2):
        make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    phase = phase_of(f["study"], 1)
    assert "2 participants are in the districts of Phase 1" in str(
        refusal(phases.delete_phase, phase)
    )


def test_a_phase_with_districts_but_no_participants_cannot_be_deleted_either(app):
    f = make_frame()
    message = str(refusal(phases.delete_phase, phase_of(f["study"], 2)))
    assert "still has 1 district" in message


def test_an_empty_phase_is_deleted(app):
    study = make_study(phases=3)
    phase = phase_of(study, 3)
    phases.delete_phase(phase)
    assert [row.phase.number for row in phases.phase_rows(study)] == [1, 2]


def test_phase_rows_count_districts_and_participants_per_phase(app):
    f = make_frame()
    make_district(f["study"], "East", phase=2)
    make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    rows = phases.phase_rows(f["study"])
    assert [(r.phase.number, r.districts, r.participants) for r in rows] == [(1, 1, 1), (2, 2, 0)]


# --- Districts -------------------------------------------------------------------------------


def test_a_district_name_is_unique_in_a_study_whatever_the_case(app):
    f = make_frame()
    phase = phase_of(f["study"], 1)
    error = refusal(districts.save_district, f["study"], None, name="  north ", phase_id=phase.id)
    assert error.field == "name"


def test_a_district_must_be_in_a_phase_of_its_own_study(app):
    study, other = make_study(), make_study()
    error = refusal(districts.save_district, study, None, name="X", phase_id=phase_of(other, 1).id)
    assert error.field == "phase_id"
    assert (
        refusal(districts.save_district, study, None, name="X", phase_id=None).field == "phase_id"
    )


def test_a_placeholder_district_is_renamed_and_marked_identified(app):
    study = make_study()
    placeholder = make_district(
        study, "UNKNOWN phase-2 district 1 of 6", phase=2, is_placeholder=True
    )
    districts.save_district(
        study,
        placeholder,
        name="Leeds",
        phase_id=placeholder.phase_id,
        is_placeholder=False,
        source="DWP press release",
    )
    renamed = db.session.get(District, placeholder.id)
    assert (renamed.name, renamed.is_placeholder, renamed.source) == (
        "Leeds",
        False,
        "DWP press release",
    )


def test_a_district_in_use_cannot_be_deleted_and_the_message_says_how_many(app):
    f = make_frame()
    make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    assert "1 participant is still in North" in str(refusal(districts.delete_district, f["north"]))


def test_deleting_a_district_stops_organisations_covering_it(app):
    f = make_frame()
    south_id = f["south"].id
    districts.delete_district(f["south"])
    assert db.session.get(District, south_id) is None
    provider = organisations.get_organisation(f["study"], f["provider"].id)
    assert [d.name for d in provider.districts] == ["North"]


def test_the_district_page_lists_filter_by_phase_and_name_and_count_what_uses_them(app):
    f = make_frame()
    make_district(f["study"], "Northampton", phase=2)
    make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    everything = districts.district_page(f["study"], 1, 50)
    assert [(r.district.name, r.organisations, r.participants) for r in everything.items] == [
        ("North", 2, 1),
        ("Northampton", 0, 0),
        ("South", 1, 0),
    ]
    found = districts.district_page(
        f["study"], 1, 50, search="NORTH", phase_id=phase_of(f["study"], 2).id
    )
    assert [r.district.name for r in found.items] == ["Northampton"]
    assert districts.district_page(f["study"], 1, 50, search="100%_").total == 0


# --- Organisations ---------------------------------------------------------------------------


def organisation(study, **changes) -> Organisation:
    fields = {
        "name": "New organisation",
        "kind": OrganisationKind.OTHER,
        "lead_provider_id": None,
        "district_ids": [],
        "notes": "",
    }
    fields.update(changes)
    return organisations.save_organisation(study, None, **fields)


def test_a_sub_contractor_must_name_its_lead_provider(app):
    f = make_frame()
    error = refusal(organisation, f["study"], kind=SUB)
    assert error.field == "lead_provider_id" and "Choose the lead provider" in str(error)
    sub = organisation(f["study"], kind=SUB, lead_provider_id=f["provider"].id)
    assert sub.lead_provider_id == f["provider"].id


def test_a_lead_provider_must_be_a_lead_provider_of_the_same_study(app):
    f = make_frame()
    other = make_frame(make_study())
    error = refusal(organisation, f["study"], kind=SUB, lead_provider_id=f["jcp"].id)
    assert error.field == "lead_provider_id" and "not a lead provider" in str(error)
    error = refusal(organisation, f["study"], kind=SUB, lead_provider_id=other["provider"].id)
    assert error.field == "lead_provider_id" and "of this study" in str(error)


def test_an_organisation_cannot_be_its_own_lead_provider(app):
    f = make_frame()
    sub = make_organisation(f["study"], "Sub", SUB, lead_provider_id=f["provider"].id)
    sub = organisations.get_organisation(f["study"], sub.id)
    error = refusal(
        organisations.save_organisation,
        f["study"],
        sub,
        name="Sub",
        kind=SUB,
        lead_provider_id=sub.id,
    )
    assert "its own lead provider" in str(error)


def test_only_a_sub_contractor_names_a_lead_provider(app):
    f = make_frame()
    error = refusal(organisation, f["study"], kind=LEAD, lead_provider_id=f["provider"].id)
    assert error.field == "lead_provider_id" and "Only a sub-contractor" in str(error)


def test_an_organisation_name_is_unique_in_a_study(app):
    f = make_frame()
    assert refusal(organisation, f["study"], name="acme employment").field == "name"
    assert organisation(make_study(), name="Acme Employment").id


def test_an_organisation_covers_districts_of_its_own_study_only(app):
    f = make_frame()
    other = make_frame(make_study())
    error = refusal(organisation, f["study"], district_ids=[f["north"].id, other["north"].id])
    assert error.field == "district_ids"
    made = organisation(f["study"], district_ids=[f["north"].id, f["south"].id])
    assert [d.name for d in organisations.get_organisation(f["study"], made.id).districts] == [
        "North",
        "South",
    ]


def test_editing_an_organisation_replaces_its_districts(app):
    f = make_frame()
    provider = organisations.get_organisation(f["study"], f["provider"].id)
    organisations.save_organisation(
        f["study"],
        provider,
        name="Acme Employment",
        kind=LEAD,
        district_ids=[f["south"].id],
        notes="Now south only",
    )
    db.session.expire_all()
    provider = organisations.get_organisation(f["study"], f["provider"].id)
    assert [d.name for d in provider.districts] == ["South"]
    assert provider.notes == "Now south only"


def test_an_organisation_kind_cannot_change_while_its_people_hold_roles_for_the_old_kind(app):
    f = make_frame()
    make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    jcp = organisations.get_organisation(f["study"], f["jcp"].id)
    error = refusal(organisations.save_organisation, f["study"], jcp, name=jcp.name, kind=LEAD)
    assert error.field == "kind" and "1 participant is at Jobcentre Plus North" in str(error)


def test_a_lead_provider_stays_one_while_sub_contractors_name_it(app):
    f = make_frame()
    make_organisation(f["study"], "Sub", SUB, lead_provider_id=f["provider"].id)
    provider = organisations.get_organisation(f["study"], f["provider"].id)
    error = refusal(
        organisations.save_organisation,
        f["study"],
        provider,
        name=provider.name,
        kind=OrganisationKind.OTHER,
    )
    assert error.field == "kind" and "1 sub-contractor names Acme Employment" in str(error)


def test_an_organisation_in_use_cannot_be_deleted_and_the_message_says_how_many(app):
    f = make_frame()
    for _ in range(3):
        make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    assert "3 participants are still at Jobcentre Plus North" in str(
        refusal(organisations.delete_organisation, f["jcp"])
    )


def test_a_lead_provider_named_by_sub_contractors_cannot_be_deleted(app):
    f = make_frame()
    for name in ("Sub A", "Sub B"):
        make_organisation(f["study"], name, SUB, lead_provider_id=f["provider"].id)
    assert "2 sub-contractors name Acme Employment" in str(
        refusal(organisations.delete_organisation, f["provider"])
    )


def test_deleting_an_organisation_removes_its_coverage_not_the_districts(app):
    f = make_frame()
    provider_id = f["provider"].id
    organisations.delete_organisation(f["provider"])
    assert db.session.get(Organisation, provider_id) is None
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(organisation_district)
            .where(organisation_district.c.organisation_id == provider_id)
        )
        == 0
    )
    assert db.session.get(District, f["south"].id) is not None


def test_the_organisation_list_filters_by_name_kind_and_district_with_counts(app):
    f = make_frame()
    sub = make_organisation(
        f["study"], "Acme Sub", SUB, [f["south"]], lead_provider_id=f["provider"].id
    )
    make_participant(f["study"], district=f["north"], organisation=f["provider"], role=f["manager"])
    rows = organisations.organisation_page(f["study"], 1, 50).items
    assert [(r.organisation.name, r.districts, r.participants) for r in rows] == [
        ("Acme Employment", 2, 1),
        ("Acme Sub", 1, 0),
        ("Jobcentre Plus North", 1, 0),
    ]
    assert rows[1].organisation.lead_provider.name == "Acme Employment"
    assert [
        r.organisation.id
        for r in organisations.organisation_page(f["study"], 1, 50, search="acme", kind=SUB).items
    ] == [sub.id]
    assert [
        r.organisation.name
        for r in organisations.organisation_page(f["study"], 1, 50, district_id=f["north"].id).items
    ] == ["Acme Employment", "Jobcentre Plus North"]


def test_the_organisation_list_pages_through_the_study(app):
    study = make_study()
    for number in range(7):
        make_organisation(study, f"Org {number:02d}")
    make_organisation(make_study(), "Elsewhere")
    second = organisations.organisation_page(study, 2, 5)
    assert (second.total, second.pages, [r.organisation.name for r in second.items]) == (
        7,
        2,
        ["Org 05", "Org 06"],
    )
    assert organisations.organisation_page(study, 99, 5).page == 2


# --- Roles -----------------------------------------------------------------------------------


def test_a_role_name_is_unique_in_a_study(app):
    f = make_frame()
    error = refusal(
        roles.save_role, f["study"], None, name="Lead Provider Manager", organisation_kind=LEAD
    )
    assert error.field == "name"


def test_a_role_needs_a_known_kind_of_organisation(app):
    study = make_study()
    error = refusal(roles.save_role, study, None, name="Adviser", organisation_kind="council")
    assert error.field == "organisation_kind"


def test_a_role_kind_cannot_change_while_people_hold_it_at_organisations_of_the_old_kind(app):
    f = make_frame()
    make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    error = refusal(
        roles.save_role,
        f["study"],
        f["tppm"],
        name=f["tppm"].name,
        organisation_kind=OrganisationKind.DWP,
    )
    assert error.field == "organisation_kind" and "1 participant is in this role" in str(error)
    unused = make_role(f["study"], "Unused", OrganisationKind.JCP)
    assert (
        roles.save_role(
            f["study"], unused, name="Unused", organisation_kind=OrganisationKind.DWP
        ).organisation_kind
        == "dwp"
    )


def test_a_role_in_use_cannot_be_deleted_and_the_message_says_how_many(app):
    f = make_frame()
    make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    assert "1 participant is still in the role" in str(refusal(roles.delete_role, f["tppm"]))
    role_id = f["manager"].id
    roles.delete_role(f["manager"])
    assert db.session.get(Role, role_id) is None


def test_role_rows_count_participants_and_search_by_name(app):
    f = make_frame()
    make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    assert [(r.role.name, r.participants) for r in roles.role_rows(f["study"])] == [
        ("JCP Third Party Provision Manager", 1),
        ("Lead provider manager", 0),
    ]
    assert [r.role.name for r in roles.role_rows(f["study"], "provider MAN")] == [
        "Lead provider manager"
    ]
