"""The API's lists and single resources: shapes, pagination, filters, and bad parameters."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from fieldwork.extensions import db
from fieldwork.sampling.models import OrganisationKind
from tests.factories import (
    make_district,
    make_organisation,
    make_participant,
    make_role,
    make_study,
)


@pytest.fixture
def get(api_client, frame, bearer):
    """`get(path, **query)` as the coordinator; paths may use {slug}."""
    headers = bearer(frame["coordinator"])
    slug = frame["study"].slug  # read now: later commits expire the object, and reloading it
    # inside a `count_queries` block would count a query the API did not make

    def call(path: str, **query):
        return api_client.get(path.format(slug=slug), query_string=query, headers=headers)

    return call


def _references(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["reference"] for item in response.json["items"]]


# --- Shapes ----------------------------------------------------------------------------------


def test_a_participant_carries_everything_the_brief_names(get, frame):
    cat = frame["cat"]
    body = get(f"/api/v1/participants/{cat.id}").json
    assert body == {
        "id": cat.id,
        "reference": "P2-001",
        "name": "Cat Clarke",
        "job_title": "",
        "email": cat.email,
        "phone": "020 7946 0001",
        "notes": "Prefers mornings",
        "timezone": "",  # not known until they choose one (or a write sets it)
        "status": "agreed",
        "study": frame["study"].slug,
        "role": {"id": frame["manager"].id, "name": "Lead provider manager"},
        "organisation": {
            "id": frame["provider"].id,
            "name": "Acme Employment",
            "kind": "lead_provider",
        },
        "district": {"id": frame["south"].id, "name": "South"},
        "phase": {"number": 2, "name": "Phase 2"},
        "interviewer": {"id": frame["ben"].id, "name": "Ben Interviewer"},
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    for stamp in ("created_at", "updated_at"):
        parsed = dt.datetime.fromisoformat(body[stamp])
        assert parsed.utcoffset() == dt.timedelta(0)


def test_an_unassigned_participant_has_a_null_interviewer(get, frame):
    assert get(f"/api/v1/participants/{frame['dan'].id}").json["interviewer"] is None


def test_an_organisation_names_its_lead_provider_and_districts(get, frame):
    body = get(f"/api/v1/organisations/{frame['sub'].id}").json
    assert body["kind"] == "subcontractor"
    assert body["lead_provider"] == {"id": frame["provider"].id, "name": "Acme Employment"}
    assert body["district_ids"] == [frame["south"].id]
    provider = get(f"/api/v1/organisations/{frame['provider'].id}").json
    assert provider["lead_provider"] is None
    assert provider["district_ids"] == sorted([frame["north"].id, frame["south"].id])


def test_a_district_carries_its_phase_with_the_go_live_date(get, frame):
    body = get(f"/api/v1/districts/{frame['south'].id}").json
    assert body == {
        "id": frame["south"].id,
        "study_id": frame["study"].id,
        "name": "South",
        "phase": {"number": 2, "name": "Phase 2", "go_live_on": "2008-04-28"},
        "is_placeholder": False,
        "source": "",
    }


def test_a_role_names_its_kind_of_organisation(get, frame):
    body = get(f"/api/v1/roles/{frame['tppm'].id}").json
    assert body["name"] == "JCP Third Party Provision Manager"
    assert body["organisation_kind"] == "jcp"


def test_a_study_lists_its_phases(get, frame):
    body = get("/api/v1/studies/{slug}").json
    assert body["slug"] == frame["study"].slug
    assert body["phases"] == [
        {"number": 1, "name": "Phase 1", "go_live_on": "2007-12-03"},
        {"number": 2, "name": "Phase 2", "go_live_on": "2008-04-28"},
    ]
    assert [p["number"] for p in get("/api/v1/studies/{slug}/phases").json["items"]] == [1, 2]


def test_unknown_slugs_and_ids_answer_404_json(get):
    for path in (
        "/api/v1/studies/no-such-study",
        "/api/v1/studies/no-such-study/phases",
        "/api/v1/studies/no-such-study/districts",
        "/api/v1/studies/no-such-study/organisations",
        "/api/v1/studies/no-such-study/roles",
        "/api/v1/studies/no-such-study/participants",
        "/api/v1/studies/" + "x" * 300,
        "/api/v1/studies/%00",
        "/api/v1/participants/999999",
        "/api/v1/districts/999999",
        "/api/v1/organisations/999999",
        "/api/v1/roles/999999",
        "/api/v1/participants/99999999999999999999999999",
        "/api/v1/roles/0",
        "/api/v1/districts/-1",
        "/api/v1/organisations/abc",
    ):
        response = get(path)
        assert response.status_code == 404, path
        assert response.json["error"]["code"] == 404
        assert response.json["error"]["message"]


# --- Pagination ------------------------------------------------------------------------------


def test_a_list_answers_the_page_envelope_with_links_that_keep_the_filters(get, frame):
    first = get("/api/v1/studies/{slug}/participants", per_page=3, q="a")
    assert first.status_code == 200
    body = first.json
    assert set(body) == {"items", "page", "per_page", "total", "pages", "next", "prev"}
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 3, 4, 2)
    assert [p["reference"] for p in body["items"]] == ["P1-001", "P1-002", "P2-001"]
    assert body["prev"] is None
    link = urlsplit(body["next"])
    assert link.scheme == "http" and link.netloc
    assert link.path == f"/api/v1/studies/{frame['study'].slug}/participants"
    assert parse_qs(link.query) == {"per_page": ["3"], "q": ["a"], "page": ["2"]}

    second = get(link.path, **{k: v[0] for k, v in parse_qs(link.query).items()}).json
    assert [p["reference"] for p in second["items"]] == ["P2-002"]
    assert second["next"] is None
    assert parse_qs(urlsplit(second["prev"]).query)["page"] == ["1"]


def test_per_page_defaults_to_50(get, frame):
    body = get("/api/v1/studies/{slug}/participants").json
    assert (body["per_page"], body["pages"], body["next"]) == (50, 1, None)


def test_a_page_past_the_end_answers_the_last_page(get):
    body = get("/api/v1/studies/{slug}/participants", per_page=3, page=9).json
    assert body["page"] == 2
    assert len(body["items"]) == 1


def test_an_empty_list_has_one_empty_page(get):
    body = get("/api/v1/studies/{slug}/participants", q="nobody at all").json
    assert body == {
        "items": [],
        "page": 1,
        "per_page": 50,
        "total": 0,
        "pages": 1,
        "next": None,
        "prev": None,
    }


@pytest.mark.parametrize(
    ("path", "query", "parameter"),
    [
        ("/api/v1/studies", {"page": "abc"}, "page"),
        ("/api/v1/studies", {"page": "0"}, "page"),
        ("/api/v1/studies", {"page": "-1"}, "page"),
        ("/api/v1/studies", {"page": "1.5"}, "page"),
        ("/api/v1/studies", {"page": "99999999999999999999999"}, "page"),
        ("/api/v1/studies/{slug}/phases", {"per_page": "1000"}, "per_page"),
        ("/api/v1/studies/{slug}/roles", {"per_page": "0"}, "per_page"),
        ("/api/v1/studies/{slug}/roles", {"per_page": "ten"}, "per_page"),
        ("/api/v1/studies/{slug}/roles", {"kind": "council"}, "kind"),
        ("/api/v1/studies/{slug}/districts", {"phase": "one"}, "phase"),
        ("/api/v1/studies/{slug}/districts", {"q": "x" * 201}, "q"),
        ("/api/v1/studies/{slug}/organisations", {"kind": "bogus"}, "kind"),
        ("/api/v1/studies/{slug}/organisations", {"district": "north"}, "district"),
        ("/api/v1/studies/{slug}/participants", {"status": "bogus"}, "status"),
        ("/api/v1/studies/{slug}/participants", {"phase": "2a"}, "phase"),
        ("/api/v1/studies/{slug}/participants", {"district": "-3"}, "district"),
        ("/api/v1/studies/{slug}/participants", {"role": "9" * 30}, "role"),
        ("/api/v1/studies/{slug}/participants", {"kind": "JCP"}, "kind"),
        ("/api/v1/studies/{slug}/participants", {"interviewer": "me"}, "interviewer"),
        ("/api/v1/studies/{slug}/participants", {"q": "a\x00b"}, "q"),
        ("/api/v1/studies/{slug}/participants", {"page": "\u0661"}, "page"),
        ("/api/v1/studies/{slug}/participants", {"status": ""}, "status"),
        ("/api/v1/studies/{slug}/participants", {"phase": ""}, "phase"),
        ("/api/v1/studies", {"per_page": ""}, "per_page"),
    ],
)
def test_a_bad_parameter_answers_400_naming_it(get, path, query, parameter):
    response = get(path, **query)
    assert response.status_code == 400
    assert response.json["error"]["code"] == 400
    assert response.json["error"]["message"].startswith(f"{parameter}:")


# --- Filters ---------------------------------------------------------------------------------


def test_participants_filter_by_each_field_as_the_page_does(get, frame):
    url = "/api/v1/studies/{slug}/participants"
    assert _references(get(url, phase=1)) == ["P1-001", "P1-002"]
    assert _references(get(url, phase=2)) == ["P2-001", "P2-002"]
    assert _references(get(url, phase=3)) == []
    assert _references(get(url, district=frame["south"].id)) == ["P2-001", "P2-002"]
    assert _references(get(url, role=frame["tppm"].id)) == ["P1-001"]
    assert _references(get(url, kind="lead_provider")) == ["P1-002", "P2-001"]
    assert _references(get(url, kind="subcontractor")) == ["P2-002"]
    assert _references(get(url, status="agreed")) == ["P2-001"]
    assert _references(get(url, status="identified")) == ["P1-002", "P2-002"]
    assert _references(get(url, interviewer=frame["alice"].id)) == ["P1-001", "P1-002"]
    assert _references(get(url, interviewer=frame["ben"].id)) == ["P2-001"]
    assert _references(get(url, q="CLARKE")) == ["P2-001"]
    assert _references(get(url, q="p1-00")) == ["P1-001", "P1-002"]
    assert _references(get(url, q="partnership")) == ["P1-001"]
    assert _references(get(url, q=frame["dan"].email)) == ["P2-002"]
    assert _references(get(url, q="100%")) == []
    assert _references(get(url, phase=2, kind="lead_provider", status="agreed")) == ["P2-001"]
    assert _references(get(url, phase=1, district=frame["south"].id)) == []
    assert _references(get(url, q="")) == ["P1-001", "P1-002", "P2-001", "P2-002"]


def test_the_phase_filter_counts_only_this_studys_phases(get, frame):
    """Phase 1 of another study is not phase 1 of this one."""
    other = make_study("Other study")
    make_participant(other, district=make_district(other, "Elsewhere", phase=1))
    assert _references(get("/api/v1/studies/{slug}/participants", phase=1)) == ["P1-001", "P1-002"]


def test_districts_filter_by_phase_number_and_name(get, frame):
    url = "/api/v1/studies/{slug}/districts"
    names = lambda response: [d["name"] for d in response.json["items"]]  # noqa: E731
    assert names(get(url)) == ["North", "South"]
    assert names(get(url, phase=2)) == ["South"]
    assert names(get(url, q="nor")) == ["North"]
    assert names(get(url, phase=2, q="nor")) == []


def test_organisations_filter_by_kind_district_and_name(get, frame):
    url = "/api/v1/studies/{slug}/organisations"
    names = lambda response: [o["name"] for o in response.json["items"]]  # noqa: E731
    assert names(get(url)) == ["Acme Employment", "Jobcentre Plus North", "Small Steps Ltd"]
    assert names(get(url, kind="jcp")) == ["Jobcentre Plus North"]
    assert names(get(url, district=frame["south"].id)) == ["Acme Employment", "Small Steps Ltd"]
    assert names(get(url, district=frame["north"].id, kind="lead_provider")) == ["Acme Employment"]
    assert names(get(url, q="steps")) == ["Small Steps Ltd"]


def test_roles_filter_by_kind_and_name(get, frame):
    url = "/api/v1/studies/{slug}/roles"
    names = lambda response: [r["name"] for r in response.json["items"]]  # noqa: E731
    assert names(get(url, kind="jcp")) == ["JCP Third Party Provision Manager"]
    assert names(get(url, kind="lead_provider")) == ["Lead provider manager"]
    assert names(get(url, q="provision")) == ["JCP Third Party Provision Manager"]
    assert names(get(url, kind="dwp")) == []


def test_studies_are_listed_by_name_and_searchable(get, frame):
    make_study("Another study", slug="another")
    assert [s["slug"] for s in get("/api/v1/studies").json["items"]] == [
        "another",
        frame["study"].slug,
    ]
    assert [s["slug"] for s in get("/api/v1/studies", q="anoth").json["items"]] == ["another"]


def test_lists_only_show_their_own_studys_frame(get, frame):
    other = make_study("Other study", slug="other")
    district = make_district(other, "North")
    make_participant(other, district=district, reference="P1-001")
    body = get("/api/v1/studies/other/organisations").json
    assert body["total"] == 1
    assert get("/api/v1/studies/{slug}/organisations").json["total"] == 3
    assert get("/api/v1/studies/other/participants").json["total"] == 1
    assert get("/api/v1/studies/{slug}/districts").json["total"] == 2


# --- Query counts ----------------------------------------------------------------------------


def _grow(frame, count: int) -> None:
    """Add `count` participants spread over districts, organisations and roles."""
    study = frame["study"]
    for number in range(count):
        make_participant(
            study,
            district=frame["north" if number % 2 else "south"],
            organisation=frame["provider"],
            role=frame["manager"],
            interviewer_id=frame["alice"].id if number % 3 else None,
            reference=f"P9-{number:04d}",
            commit=False,
        )
    db.session.commit()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/studies/{slug}/participants",
        "/api/v1/studies/{slug}/organisations",
        "/api/v1/studies/{slug}/districts",
        "/api/v1/studies/{slug}/roles",
        "/api/v1/studies",
    ],
)
def test_a_list_costs_the_same_queries_at_any_page_size(get, frame, count_queries, path):
    """Everything a row shows is eager-loaded, so a page of 40 costs what a page of 2 does."""
    _grow(frame, 40)
    study = frame["study"]
    for number in range(40):
        make_district(study, f"Extra district {number}", phase=1 + number % 2)
    for number in range(40):
        make_organisation(
            study,
            f"Extra organisation {number}",
            OrganisationKind.SUBCONTRACTOR,
            [frame["north"], frame["south"]],
            lead_provider_id=frame["provider"].id,
        )
        make_role(study, f"Extra role {number}")
        make_study(f"Extra study {number}")
    counts = []
    for per_page in (2, 40):
        with count_queries() as counter:
            response = get(path, per_page=per_page)
        assert response.status_code == 200
        assert len(response.json["items"]) == min(per_page, response.json["total"])
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
