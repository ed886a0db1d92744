"""The pages for studies, phases, districts, organisations and roles, used through the client."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from fieldwork.extensions import db
from fieldwork.sampling.models import (
    District,
    Organisation,
    OrganisationKind,
    Phase,
    Role,
    Study,
)
from tests.factories import (
    id_of,
    make_district,
    make_frame,
    make_organisation,
    make_participant,
    make_role,
    make_study,
    make_user,
    phase_of,
)


def error_beside(response, field_id: str) -> str:
    """The message shown beside a field (empty when there is none)."""
    match = re.search(
        rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>',
        response.get_data(as_text=True),
        re.S,
    )
    if match is None:
        return ""
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).replace("Error:", "").strip()


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def coordinator(auth):
    user = make_user("coordinator")
    auth.login(user)
    return user


@pytest.fixture
def interviewer(auth):
    user = make_user("interviewer")
    auth.login(user)
    return user


# --- Studies ---------------------------------------------------------------------------------


STUDY_FORM = {
    "name": "Employment pathways",
    "slug": "employment-pathways",
    "description": "",
    "timezone": "Europe/London",
    "fieldwork_starts_on": "2008-05-01",
    "fieldwork_ends_on": "2008-09-30",
    "organiser_name": "Research team",
    "organiser_email": "team@example.org",
    "interview_minutes": "60",
}


def test_a_coordinator_creates_a_study_and_starts_working_on_it(client, coordinator):
    make_study(name="Older study")
    response = client.post("/studies/new", data=STUDY_FORM)
    assert response.status_code == 302
    assert response.headers["Location"] == "/studies/employment-pathways"
    page = client.get("/studies/employment-pathways")
    assert "Current study" in text_of(page)
    assert "Employment pathways" in text_of(client.get("/studies"))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("slug", "Not A Slug", "lower-case letters, digits and hyphens"),
        ("timezone", "Mars/Olympus", "Not a valid choice"),
        ("fieldwork_ends_on", "2008-04-01", "on or after its start"),
        ("fieldwork_starts_on", "31/02/2008", "Enter a real date"),
        ("interview_minutes", "600", "between 15 and 480 minutes"),
        ("interview_minutes", "an hour", "whole number of minutes"),
        ("organiser_email", "team@", "like research@example.org"),
        ("name", "", "Enter the study's name"),
    ],
)
def test_a_bad_study_is_refused_with_the_message_beside_the_field(
    client, coordinator, field, value, message
):
    response = client.post("/studies/new", data={**STUDY_FORM, field: value})
    assert response.status_code == 422
    assert message in error_beside(response, field)
    assert db.session.scalar(select(Study)) is None


def test_a_coordinator_edits_a_study_and_its_address_follows_the_slug(client, coordinator):
    study = make_study(slug="old-slug")
    response = client.post("/studies/old-slug/edit", data={**STUDY_FORM, "slug": "new-slug"})
    assert response.headers["Location"] == "/studies/new-slug"
    assert db.session.get(Study, study.id).slug == "new-slug"
    assert client.get("/studies/old-slug").status_code == 404


def test_a_study_edit_cannot_take_another_studys_slug(client, coordinator):
    make_study(slug="taken")
    make_study(slug="mine")
    response = client.post("/studies/mine/edit", data={**STUDY_FORM, "slug": "taken"})
    assert response.status_code == 422
    assert "already uses the short name taken" in error_beside(response, "slug")


def test_deleting_a_study_asks_for_its_name_to_be_typed(client, coordinator):
    study = make_study(name="Pathways study")
    assert "Type “Pathways study” exactly" in text_of(client.get(f"/studies/{study.slug}/delete"))
    response = client.post(f"/studies/{study.slug}/delete", data={"confirm_name": "pathways"})
    assert response.status_code == 422
    assert "exactly as shown" in error_beside(response, "confirm_name")
    assert db.session.get(Study, study.id) is not None

    response = client.post(f"/studies/{study.slug}/delete", data={"confirm_name": "Pathways study"})
    assert response.headers["Location"] == "/studies"
    db.session.expire_all()
    assert db.session.get(Study, id_of(study)) is None


# --- Phases ----------------------------------------------------------------------------------


def test_a_coordinator_adds_edits_and_deletes_a_phase(client, coordinator):
    study = make_study(phases=2)
    form = client.get("/phases/new")
    assert 'value="3"' in form.get_data(as_text=True)  # the next number is proposed
    response = client.post(
        "/phases/new", data={"number": "3", "name": "Phase 3", "go_live_on": "2008-10-06"}
    )
    phase = db.session.scalar(select(Phase).where(Phase.study_id == study.id, Phase.number == 3))
    assert response.headers["Location"] == f"/phases/{phase.id}"
    assert "6 October 2008" in text_of(client.get(f"/phases/{phase.id}"))

    client.post(f"/phases/{phase.id}/edit", data={"number": "3", "name": "Third wave"})
    db.session.expire_all()
    assert db.session.get(Phase, phase.id).name == "Third wave"

    assert "Delete Third wave?" in text_of(client.get(f"/phases/{phase.id}/delete"))
    assert client.post(f"/phases/{phase.id}/delete").headers["Location"] == "/districts"
    db.session.expire_all()
    assert db.session.get(Phase, id_of(phase)) is None


def test_a_phase_with_a_taken_number_is_refused_beside_the_number(client, coordinator):
    make_study(phases=2)
    response = client.post("/phases/new", data={"number": "2", "name": "Duplicate"})
    assert response.status_code == 422
    assert "already has a phase 2" in error_beside(response, "number")


def test_a_phase_whose_districts_hold_participants_is_not_deleted(client, coordinator):
    f = make_frame()
    make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    phase = phase_of(f["study"], 1)
    page = client.get(f"/phases/{phase.id}/delete")
    assert "1 participant is in the districts of Phase 1" in text_of(page)
    assert "Yes, delete" not in text_of(page)
    response = client.post(f"/phases/{phase.id}/delete")
    assert response.status_code == 409
    assert db.session.get(Phase, phase.id) is not None


# --- Districts -------------------------------------------------------------------------------


def test_a_coordinator_adds_a_district_to_a_phase(client, coordinator):
    study = make_study()
    phase = phase_of(study, 2)
    response = client.post(
        "/districts/new",
        data={"name": "Leeds", "phase_id": str(phase.id), "source": "DWP announcement"},
    )
    district = db.session.scalar(select(District).where(District.name == "Leeds"))
    assert response.headers["Location"] == f"/districts/{district.id}"
    assert (district.phase_id, district.is_placeholder) == (phase.id, False)


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "", "phase_id": "PHASE"}, "name", "Enter the district's name"),
        ({"name": "North", "phase_id": "PHASE"}, "name", "already has a district called North"),
        ({"name": "Leeds", "phase_id": ""}, "phase_id", "Choose a phase"),
        ({"name": "Leeds", "phase_id": "999999"}, "phase_id", "Not a valid choice"),
    ],
)
def test_a_bad_district_is_refused_with_the_message_beside_the_field(
    client, coordinator, data, field, message
):
    f = make_frame()
    data = {k: str(phase_of(f["study"], 1).id) if v == "PHASE" else v for k, v in data.items()}
    response = client.post("/districts/new", data=data)
    assert response.status_code == 422
    assert message in error_beside(response, field)


def test_a_placeholder_district_shows_its_tag_and_can_be_renamed(client, coordinator):
    study = make_study()
    placeholder = make_district(
        study,
        "UNKNOWN phase-2 district 3 of 6",
        phase=2,
        is_placeholder=True,
        source="Not in the public record",
    )
    page = client.get(f"/districts/{placeholder.id}")
    assert '<span class="tag tag--placeholder">Still to be identified</span>' in (
        page.get_data(as_text=True)
    )
    assert f'href="/participants?district={placeholder.id}"' in page.get_data(as_text=True)
    assert "tag--placeholder" in client.get("/districts").get_data(as_text=True)

    form = client.get(f"/districts/{placeholder.id}/edit").get_data(as_text=True)
    assert re.search(
        r'<input[^>]*checked[^>]*id="is_placeholder"|<input[^>]*id="is_placeholder"'
        r"[^>]*checked",
        form,
    )
    response = client.post(
        f"/districts/{placeholder.id}/edit",
        data={"name": "Bradford", "phase_id": str(placeholder.phase_id), "source": "Found it"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    renamed = db.session.get(District, placeholder.id)
    assert (renamed.name, renamed.is_placeholder) == ("Bradford", False)
    assert "tag--placeholder" not in client.get(f"/districts/{placeholder.id}").get_data(
        as_text=True
    )


def test_the_district_page_shows_its_phase_source_and_the_organisations_covering_it(
    client, interviewer
):
    f = make_frame()
    page = text_of(client.get(f"/districts/{f['north'].id}"))
    assert "Phase 1" in page
    assert "Jobcentre Plus North" in page and "Acme Employment" in page


def test_a_coordinator_deletes_an_unused_district(client, coordinator):
    f = make_frame()
    assert "Delete South?" in text_of(client.get(f"/districts/{f['south'].id}/delete"))
    response = client.post(f"/districts/{f['south'].id}/delete")
    assert response.headers["Location"] == "/districts"
    db.session.expire_all()
    assert db.session.get(District, id_of(f["south"])) is None


def test_a_district_with_participants_is_not_deleted_and_the_page_says_how_many(
    client, coordinator
):
    f = make_frame()
    for _ in range(2):
        make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    assert "2 participants are still in North" in text_of(
        client.get(f"/districts/{f['north'].id}/delete")
    )
    response = client.post(f"/districts/{f['north'].id}/delete")
    assert response.status_code == 409
    assert "2 participants are still in North" in text_of(response)
    assert db.session.get(District, f["north"].id) is not None


def test_the_district_list_shows_the_phases_and_filters_by_phase_and_name(client, interviewer):
    f = make_frame()
    make_district(f["study"], "Northampton", phase=2)
    page = client.get("/districts").get_data(as_text=True)
    for phase in (phase_of(f["study"], 1), phase_of(f["study"], 2)):
        assert f'href="/phases/{phase.id}"' in page
    filtered = text_of(client.get(f"/districts?q=north&phase={phase_of(f['study'], 2).id}"))
    assert "Northampton" in filtered and ">North<" not in filtered and "South" not in filtered


def test_a_district_list_with_odd_filters_still_answers(client, interviewer):
    make_frame()
    for query in ("?phase=abc", "?phase=99999", "?page=-3", "?q=" + "x" * 500, "?q=%25_%5C"):
        assert client.get("/districts" + query).status_code == 200


# --- Organisations ---------------------------------------------------------------------------


def test_a_coordinator_adds_a_sub_contractor_with_its_lead_provider_and_districts(
    client, coordinator
):
    f = make_frame()
    form = client.get("/organisations/new").get_data(as_text=True)
    assert '<fieldset class="fieldset"' in form and 'type="checkbox"' in form
    response = client.post(
        "/organisations/new",
        data={
            "name": "Skills Works",
            "kind": "subcontractor",
            "lead_provider_id": str(f["provider"].id),
            "district_ids": [str(f["north"].id), str(f["south"].id)],
            "notes": "",
        },
    )
    sub = db.session.scalar(select(Organisation).where(Organisation.name == "Skills Works"))
    assert response.headers["Location"] == f"/organisations/{sub.id}"
    page = text_of(client.get(f"/organisations/{sub.id}"))
    assert "Sub-contractor" in page and "Acme Employment" in page
    assert "North" in page and "South" in page
    assert "Skills Works" in text_of(client.get(f"/organisations/{f['provider'].id}"))


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "Sub", "kind": "subcontractor"}, "lead_provider_id", "Choose the lead provider"),
        (
            {"name": "Sub", "kind": "subcontractor", "lead_provider_id": "JCP"},
            "lead_provider_id",
            "Not a valid choice",
        ),
        (
            {"name": "Other", "kind": "other", "lead_provider_id": "PROVIDER"},
            "lead_provider_id",
            "Only a sub-contractor has a lead provider",
        ),
        (
            {"name": "Acme employment", "kind": "lead_provider"},
            "name",
            "already has an organisation",
        ),
        ({"name": "Nameless", "kind": ""}, "kind", "Choose the kind of organisation"),
        ({"name": "", "kind": "other"}, "name", "Enter the organisation's name"),
    ],
)
def test_a_bad_organisation_is_refused_with_the_message_beside_the_field(
    client, coordinator, data, field, message
):
    f = make_frame()
    data = {
        k: {"JCP": str(f["jcp"].id), "PROVIDER": str(f["provider"].id)}.get(v, v)
        for k, v in data.items()
    }
    response = client.post("/organisations/new", data=data)
    assert response.status_code == 422
    assert message in error_beside(response, field)


def test_a_coordinator_edits_the_districts_an_organisation_covers(client, coordinator):
    f = make_frame()
    form = client.get(f"/organisations/{f['provider'].id}/edit").get_data(as_text=True)
    ticked = re.findall(r'<input[^>]*type="checkbox"[^>]*>', form)
    assert len([box for box in ticked if "checked" in box]) == 2
    response = client.post(
        f"/organisations/{f['provider'].id}/edit",
        data={
            "name": "Acme Employment",
            "kind": "lead_provider",
            "district_ids": [str(f["south"].id)],
        },
    )
    assert response.status_code == 302
    page = client.get(f"/districts/{f['north'].id}").get_data(as_text=True)
    assert f'href="/organisations/{f["provider"].id}"' not in page
    assert f'href="/organisations/{f["jcp"].id}"' in page


def test_an_organisation_whose_people_hold_its_roles_keeps_its_kind(client, coordinator):
    f = make_frame()
    make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    response = client.post(
        f"/organisations/{f['jcp'].id}/edit", data={"name": "Jobcentre Plus North", "kind": "dwp"}
    )
    assert response.status_code == 422
    assert "1 participant is at Jobcentre Plus North" in error_beside(response, "kind")


def test_a_coordinator_deletes_an_unused_organisation(client, coordinator):
    f = make_frame()
    other = make_organisation(f["study"], "Unused")
    response = client.post(f"/organisations/{other.id}/delete")
    assert response.headers["Location"] == "/organisations"
    db.session.expire_all()
    assert db.session.get(Organisation, id_of(other)) is None


def test_an_organisation_with_participants_is_not_deleted(client, coordinator):
    f = make_frame()
    make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    response = client.post(f"/organisations/{f['jcp'].id}/delete")
    assert response.status_code == 409
    assert "1 participant is still at Jobcentre Plus North" in text_of(response)
    assert db.session.get(Organisation, f["jcp"].id) is not None


def test_the_organisation_page_shows_its_participant_count_and_links_to_them(client, interviewer):
    f = make_frame()
    make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    page = client.get(f"/organisations/{f['jcp'].id}").get_data(as_text=True)
    assert f'href="/participants?organisation={f["jcp"].id}"' in page
    assert "<dt>Participants</dt><dd>1 " in page


def test_the_organisation_list_filters_by_kind_district_and_name(client, interviewer):
    f = make_frame()
    make_organisation(
        f["study"],
        "Acme Sub",
        OrganisationKind.SUBCONTRACTOR,
        [f["south"]],
        lead_provider_id=f["provider"].id,
    )
    by_kind = text_of(client.get("/organisations?kind=subcontractor"))
    assert "Acme Sub" in by_kind and "Jobcentre Plus North" not in by_kind
    by_district = text_of(client.get(f"/organisations?district={f['north'].id}"))
    assert "Jobcentre Plus North" in by_district and "Acme Sub" not in by_district
    by_name = text_of(client.get("/organisations?q=ACME"))
    assert "Acme Sub" in by_name and "Jobcentre Plus North" not in by_name
    assert client.get("/organisations?kind=council&district=x").status_code == 200


def build_organisations(study, count: int) -> None:
    """`count` organisations, each covering two districts and employing two participants."""
    districts = [make_district(study, f"District {n}") for n in range(3)]
    role = make_role(study, "Manager", OrganisationKind.JCP)
    for number in range(count):
        organisation = make_organisation(study, f"Org {number:04d}", districts=districts[:2])
        for _ in range(2):
            make_participant(
                study, district=districts[0], organisation=organisation, role=role, commit=False
            )
    db.session.commit()


@pytest.mark.parametrize("sizes", [(3, 120)])
def test_the_organisation_list_costs_the_same_queries_at_any_size(
    client, coordinator, count_queries, sizes
):
    """One query for the rows and one COUNT, whatever the number of organisations."""
    small, large = sizes
    studies = {size: make_study(name=f"Size {size}") for size in (small, large)}
    counts = []
    for size, study in studies.items():
        build_organisations(study, size)
        client.post("/study/select", data={"study_id": study.id})
        with count_queries() as counter:
            response = client.get("/organisations")
        assert response.status_code == 200
        assert "Org 0002" in text_of(response)
        counts.append(counter.count)
    assert counts[0] == counts[1]


# --- Roles -----------------------------------------------------------------------------------


def test_a_coordinator_adds_edits_and_deletes_a_role(client, coordinator):
    make_study()
    response = client.post(
        "/roles/new",
        data={"name": "Adviser", "organisation_kind": "jcp", "description": "Front-line staff"},
    )
    role = db.session.scalar(select(Role).where(Role.name == "Adviser"))
    assert response.headers["Location"] == f"/roles/{role.id}"
    assert "Jobcentre Plus" in text_of(client.get(f"/roles/{role.id}"))
    client.post(
        f"/roles/{role.id}/edit",
        data={"name": "Personal adviser", "organisation_kind": "lead_provider"},
    )
    db.session.expire_all()
    assert (role.name, role.organisation_kind) == ("Personal adviser", "lead_provider")
    assert "Personal adviser" in text_of(client.get("/roles"))
    assert client.post(f"/roles/{role.id}/delete").headers["Location"] == "/roles"
    db.session.expire_all()
    assert db.session.get(Role, id_of(role)) is None


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "", "organisation_kind": "jcp"}, "name", "Enter the role's name"),
        (
            {"name": "Lead provider manager", "organisation_kind": "jcp"},
            "name",
            "already has a role called",
        ),
        ({"name": "Adviser", "organisation_kind": ""}, "organisation_kind", "Choose the kind"),
        (
            {"name": "Adviser", "organisation_kind": "council"},
            "organisation_kind",
            "Not a valid choice",
        ),
    ],
)
def test_a_bad_role_is_refused_with_the_message_beside_the_field(
    client, coordinator, data, field, message
):
    make_frame()
    response = client.post("/roles/new", data=data)
    assert response.status_code == 422
    assert message in error_beside(response, field)


def test_a_role_held_by_participants_is_not_deleted(client, coordinator):
    f = make_frame()
    make_participant(f["study"], district=f["north"], organisation=f["jcp"], role=f["tppm"])
    assert "1 participant is still in the role" in text_of(
        client.get(f"/roles/{f['tppm'].id}/delete")
    )
    assert client.post(f"/roles/{f['tppm'].id}/delete").status_code == 409
    assert db.session.get(Role, f["tppm"].id) is not None


# --- Who may do what -------------------------------------------------------------------------


def changing_urls(f: dict) -> list[str]:
    study, phase = f["study"], phase_of(f["study"], 1)
    return [
        "/studies/new",
        f"/studies/{study.slug}/edit",
        f"/studies/{study.slug}/delete",
        "/phases/new",
        f"/phases/{phase.id}/edit",
        f"/phases/{phase.id}/delete",
        "/districts/new",
        f"/districts/{f['north'].id}/edit",
        f"/districts/{f['north'].id}/delete",
        "/organisations/new",
        f"/organisations/{f['jcp'].id}/edit",
        f"/organisations/{f['jcp'].id}/delete",
        "/roles/new",
        f"/roles/{f['tppm'].id}/edit",
        f"/roles/{f['tppm'].id}/delete",
    ]


def test_an_interviewer_cannot_create_edit_or_delete_anything_in_the_frame(client, interviewer):
    f = make_frame()
    for url in changing_urls(f):
        assert client.get(url).status_code == 403, url
        assert (
            client.post(url, data={"name": "Hacked", "confirm_name": "Test study"}).status_code
            == 403
        ), url
    assert db.session.get(District, f["north"].id) is not None
    assert db.session.get(Study, f["study"].id).name == "Test study"


def test_an_interviewer_reads_every_list_and_detail_page(client, interviewer):
    f = make_frame()
    study, phase = f["study"], phase_of(f["study"], 1)
    for url in (
        "/studies",
        f"/studies/{study.slug}",
        "/districts",
        f"/phases/{phase.id}",
        f"/districts/{f['north'].id}",
        "/organisations",
        f"/organisations/{f['provider'].id}",
        "/roles",
        f"/roles/{f['tppm'].id}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Delete" not in text_of(response), url


def test_the_frame_pages_need_a_login(client):
    make_frame()
    for url in ("/studies", "/districts", "/organisations", "/roles"):
        assert client.get(url).headers["Location"].startswith("/login"), url


def test_another_studys_records_answer_404(client, coordinator):
    make_frame()  # the first study is the current one
    other = make_frame(make_study(name="Other study"))
    other_phase = phase_of(other["study"], 1)
    for url in (
        f"/districts/{other['north'].id}",
        f"/districts/{other['north'].id}/edit",
        f"/districts/{other['north'].id}/delete",
        f"/phases/{other_phase.id}",
        f"/organisations/{other['jcp'].id}",
        f"/roles/{other['tppm'].id}",
        "/districts/999999",
        "/studies/no-such-study",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/districts/{other['north'].id}/delete").status_code == 404
    assert db.session.get(District, other["north"].id) is not None


def test_pages_of_the_current_study_need_a_study(client, coordinator):
    assert client.get("/districts").status_code == 404
    assert client.get("/studies").status_code == 200


# --- Escaping --------------------------------------------------------------------------------


SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize("page", ["organisation", "district", "role", "study"])
def test_names_are_escaped_on_detail_pages(client, coordinator, page):
    study = make_study(name=SCRIPT if page == "study" else "Safe study")
    thing = {
        "organisation": lambda: make_organisation(study, SCRIPT, notes=SCRIPT),
        "district": lambda: make_district(study, SCRIPT, source=SCRIPT),
        "role": lambda: make_role(study, SCRIPT),
        "study": lambda: study,
    }[page]()
    url = {
        "organisation": lambda: f"/organisations/{thing.id}",
        "district": lambda: f"/districts/{thing.id}",
        "role": lambda: f"/roles/{thing.id}",
        "study": lambda: f"/studies/{thing.slug}",
    }[page]()
    body = client.get(url).get_data(as_text=True)
    assert SCRIPT not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_name_that_looks_like_markup_is_escaped_in_the_lists_and_forms(client, coordinator):
    f = make_frame()
    client.post(
        "/organisations/new",
        data={"name": SCRIPT, "kind": "other", "district_ids": [str(f["north"].id)]},
    )
    organisation_id = db.session.scalar(select(Organisation.id).where(Organisation.name == SCRIPT))
    for url in (
        "/organisations",
        f"/districts/{f['north'].id}",
        f"/organisations/{organisation_id}/edit",
    ):
        body = client.get(url).get_data(as_text=True)
        assert SCRIPT not in body, url
