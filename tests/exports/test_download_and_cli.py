"""The export's two doors: the zip download for coordinators and `flask export-datapackage`."""

from __future__ import annotations

import io
import json
import zipfile

from fieldwork.exports.datapackage import build_package
from tests.factories import make_study, make_user
from tests.pagecheck import require_vnu, vnu_errors

MEMBERS = {
    "datapackage.json",
    "README.md",
    "data/participants.csv",
    "data/contact_attempts.csv",
    "data/appointments.csv",
    "data/consents.csv",
    "data/consent_answers.csv",
    "data/quotas.csv",
    "data/coverage.csv",
    "data/organisations.csv",
}


# --- Download --------------------------------------------------------------------------------


def test_a_coordinator_downloads_the_package_as_a_zip(awkward, client, auth):
    auth.login(make_user("coordinator"))
    response = client.get("/studies/awkward/export.zip?coarsen=month")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "fieldwork-awkward-month.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = set(archive.namelist())
        assert {f"fieldwork-awkward/{member}" for member in MEMBERS} <= names
        descriptor = json.loads(archive.read("fieldwork-awkward/datapackage.json"))
    assert descriptor["fieldwork"]["datePrecision"] == "month"
    assert descriptor["fieldwork"]["participantsLeftOut"] == 4


def test_the_zip_is_the_same_every_time(awkward, client, auth):
    auth.login(make_user("coordinator"))
    first = client.get("/studies/awkward/export.zip").data
    second = client.get("/studies/awkward/export.zip").data
    assert first == second


def test_interviewers_may_not_download_the_export(awkward, client, auth):
    auth.login(make_user("interviewer"))
    assert client.get("/studies/awkward/export.zip").status_code == 403
    assert client.get("/exports").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(awkward, client):
    response = client.get("/studies/awkward/export.zip")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_an_unknown_study_or_precision_is_refused(awkward, client, auth):
    auth.login(make_user("coordinator"))
    assert client.get("/studies/nope/export.zip").status_code == 404
    assert client.get("/studies/awkward/export.zip?coarsen=year").status_code == 400


def test_the_export_page_offers_the_studies_and_sends_a_valid_choice_to_the_download(
    awkward, client, auth
):
    make_study("Another study", slug="another")
    auth.login(make_user("coordinator"))
    page = client.get("/exports")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="awkward"' in html and 'value="another"' in html
    assert 'value="week"' in html and 'value="month"' in html
    preselected = client.get("/exports?study=another").get_data(as_text=True)
    assert '<option selected value="another">' in preselected
    assert "There is a problem" not in preselected
    response = client.get("/exports?study=awkward&coarsen=week")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/studies/awkward/export.zip?coarsen=week")


def test_an_invalid_choice_on_the_export_page_is_explained_beside_the_field(awkward, client, auth):
    auth.login(make_user("coordinator"))
    response = client.get("/exports?study=nope&coarsen=fortnight")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert 'id="study-error"' in html and 'id="coarsen-error"' in html


# --- Command line ----------------------------------------------------------------------------


def test_the_command_writes_the_package_to_a_folder(awkward, runner, tmp_path):
    target = tmp_path / "deposit"
    result = runner.invoke(
        args=["export-datapackage", str(target), "--study", "awkward", "--coarsen-dates", "week"]
    )
    assert result.exit_code == 0, result.output
    assert "2 of 6 participants included, 4 left out" in result.output
    written = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    assert written >= MEMBERS
    descriptor = json.loads((target / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["fieldwork"]["datePrecision"] == "week"
    expected = build_package(awkward.study, "week").files()
    for path, content in expected.items():
        assert (target / path).read_bytes() == content


def test_the_command_exports_the_only_study_without_being_told(awkward, runner, tmp_path):
    result = runner.invoke(args=["export-datapackage", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "datapackage.json").exists()


def test_the_command_can_pin_the_package_date(awkward, runner, tmp_path):
    result = runner.invoke(
        args=["export-datapackage", str(tmp_path / "out"), "--created", "2026-05-01"]
    )
    assert result.exit_code == 0, result.output
    descriptor = json.loads((tmp_path / "out" / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["created"] == "2026-05-01T00:00:00Z"


def test_an_unknown_study_is_a_clear_error(awkward, runner, tmp_path):
    result = runner.invoke(args=["export-datapackage", str(tmp_path / "out"), "--study", "nope"])
    assert result.exit_code != 0
    assert "There is no study 'nope'. Studies: awkward." in result.output
    assert not (tmp_path / "out").exists()


def test_several_studies_need_a_choice(awkward, runner, tmp_path):
    make_study("Another study", slug="another")
    result = runner.invoke(args=["export-datapackage", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "choose one with --study" in result.output


def test_a_bad_precision_or_a_file_as_the_folder_is_refused(awkward, runner, tmp_path):
    result = runner.invoke(
        args=["export-datapackage", str(tmp_path / "out"), "--coarsen-dates", "year"]
    )
    assert result.exit_code != 0
    assert "year" in result.output
    existing = tmp_path / "a-file"
    existing.write_text("not a folder")
    result = runner.invoke(args=["export-datapackage", str(existing)])
    assert result.exit_code != 0
    assert existing.read_text() == "not a folder"


def test_the_export_page_is_valid_html(awkward, client, auth, tmp_path):
    require_vnu()
    auth.login(make_user("coordinator"))
    pages = {
        "/exports": client.get("/exports").get_data(as_text=True),
        "errors": client.get("/exports?study=nope&coarsen=x").get_data(as_text=True),
    }
    assert vnu_errors(pages, tmp_path / "html") == []
