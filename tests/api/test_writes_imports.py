"""Bulk import through the API: the CSV import's rows and rules, as JSON rows or the CSV file
itself, all written or none, every problem named by row and column."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fieldwork.audit.models import AuditEvent
from fieldwork.extensions import db
from fieldwork.sampling.models import Participant


@pytest.fixture
def writer(frame, bearer) -> dict[str, str]:
    return bearer(frame["coordinator"])


def _url(frame) -> str:
    return f"/api/v1/studies/{frame['study'].slug}/imports"


def _row(**values) -> dict:
    return {
        "name": "Gail Green",
        "email": "gail@example.org",
        "role": "Lead provider manager",
        "organisation": "Acme Employment",
        "district": "South",
        "phase": 2,
        **values,
    }


def _count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Participant.id)))


def test_json_rows_are_imported_together_and_audited_as_one_import(api_client, frame, writer):
    rows = [
        _row(),
        _row(name="Hal Hughes", email="hal@example.org", phone=None),
        _row(
            reference="P1-001",
            name="Ann Adams",
            email="ann.adams@example.org",
            role="JCP Third Party Provision Manager",
            organisation="Jobcentre Plus North",
            district="North",
            phase="1",
        ),
    ]
    response = api_client.post(_url(frame), json=rows, headers=writer)
    assert response.status_code == 201, response.json
    assert response.json == {
        "created": 2,
        "updated": 1,
        "organisations_created": 0,
        "districts_created": 0,
        "total": 3,
    }
    assert _count() == 6
    assert db.session.get(Participant, frame["ann"].id).email == "ann.adams@example.org"
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "import.completed")
        )
        == 1
    )


def test_a_csv_file_is_imported_as_the_upload_would(api_client, frame, writer):
    csv = (
        "name,email,role,organisation,organisation_kind,district,phase\n"
        "Ivy Irwin,ivy@example.org,Lead provider manager,New Start Ltd,lead_provider,West,2\n"
    )
    response = api_client.post(
        _url(frame), data=csv.encode(), content_type="text/csv", headers=writer
    )
    assert response.status_code == 201, response.json
    assert response.json["created"] == 1
    assert response.json["organisations_created"] == 1
    assert response.json["districts_created"] == 1


def test_any_problem_writes_nothing_and_every_problem_is_named_by_row_and_column(
    api_client, frame, writer
):
    rows = [
        _row(),
        _row(name="", email="no-at-sign"),
        _row(name="Jo Jones", email="gail@example.org"),
        _row(name="Kim King", email="kim@example.org", role="Astronaut"),
    ]
    response = api_client.post(_url(frame), json=rows, headers=writer)
    assert response.status_code == 422
    problems = {(e["row"], e["field"]) for e in response.json["error"]["rows"]}
    assert {(2, "name"), (2, "email"), (4, "role")} <= problems
    assert any(row == 3 for row, _ in problems)  # the same email as row 1
    assert _count() == 4


def test_csv_problems_name_the_files_lines(api_client, frame, writer):
    csv = "name,role,organisation,district,phase\nLee Lane,Astronaut,Acme Employment,South,2\n"
    response = api_client.post(
        _url(frame), data=csv.encode(), content_type="text/csv", headers=writer
    )
    assert response.status_code == 422
    assert response.json["error"]["rows"][0]["row"] == 2  # the header is line 1
    assert response.json["error"]["rows"][0]["field"] == "role"


def test_an_unknown_column_is_named(api_client, frame, writer):
    response = api_client.post(_url(frame), json=[_row(shoe_size=9)], headers=writer)
    assert response.status_code == 422
    assert response.json["error"]["rows"][0]["row"] == 1
    assert _count() == 4


def test_no_rows_is_a_problem_of_the_request(api_client, frame, writer):
    response = api_client.post(_url(frame), json=[], headers=writer)
    assert response.status_code == 422
    assert response.json["error"]["rows"][0]["row"] == 0


@pytest.mark.parametrize("body", [{"rows": []}, [1, 2], "text"])
def test_a_body_that_is_no_list_of_rows_is_refused(api_client, frame, writer, body):
    response = api_client.post(_url(frame), json=body, headers=writer)
    assert response.status_code == 400
    assert "body" in response.json["error"]["fields"]


def test_interviewers_cannot_import(api_client, frame, bearer):
    response = api_client.post(_url(frame), json=[_row()], headers=bearer(frame["alice"]))
    assert response.status_code == 403
    assert _count() == 4


def test_a_session_cookie_alone_cannot_import(api_client, api_auth, frame):
    api_auth.login(frame["coordinator"])
    assert api_client.post(_url(frame), json=[_row()]).status_code == 401
    assert _count() == 4


def test_a_retried_import_with_its_key_imports_once(api_client, frame, writer):
    keyed = {**writer, "Idempotency-Key": "import-1"}
    first = api_client.post(_url(frame), json=[_row()], headers=keyed)
    again = api_client.post(_url(frame), json=[_row()], headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    assert api_client.post(_url(frame), json=[_row(name="Other")], headers=keyed).status_code == 422
    assert _count() == 5
