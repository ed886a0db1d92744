"""The export follows each person's latest consent, and the participants file carries only the
quasi-identifiers a study chose, generalised or suppressed so that no combination describes
fewer than k people (issue 11, point 3)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from frictionless import validate

from fieldwork.exports.datapackage import build_package
from fieldwork.exports.disclosure import control
from fieldwork.exports.models import ExportSettings
from fieldwork.exports.package import write_directory
from fieldwork.extensions import db
from fieldwork.recruitment.consent import record_consent
from fieldwork.recruitment.models import ConsentMethod
from fieldwork.sampling.models import OrganisationKind
from tests.factories import (
    make_district,
    make_organisation,
    make_participant,
    make_role,
    make_study,
    make_user,
)
from tests.recruitment.helpers import all_yes, make_published_version

UTC = dt.UTC


def person(role, phase, district, kind, organisation) -> dict:
    return {
        "role": role,
        "phase": phase,
        "district": district,
        "organisation_kind": kind,
        "organisation": organisation,
    }


def test_a_small_organisation_becomes_its_kind_and_a_small_district_its_phase():
    people = [person(1, 1, 10 + n % 2, "jcp", 100 + n) for n in range(6)]
    result = control(people, ("role", "district", "organisation"), 4)
    assert result.generalised == ["organisation", "district"]
    assert result.attributes == ("role", "phase", "organisation_kind")
    assert result.suppressed == 0
    assert {tuple(row.values()) for row in result.rows} == {(1, 1, "jcp")}
    assert any("Organisation generalised" in step for step in result.steps)


def test_who_is_still_alone_in_a_cell_is_suppressed_and_the_others_kept():
    people = [person(1, 1, 10, "jcp", 100) for _ in range(5)] + [person(2, 1, 10, "jcp", 100)]
    result = control(people, ("role", "phase"), 5)
    assert result.suppressed == 1
    assert result.rows[-1] == {"role": None, "phase": None}
    assert result.rows[0] == {"role": 1, "phase": 1}


def test_nothing_changes_when_every_cell_is_large_enough():
    people = [person(1, 1, 10, "jcp", 100) for _ in range(5)]
    result = control(people, ("role", "district", "organisation"), 5)
    assert result.generalised == [] and result.suppressed == 0
    assert result.attributes == ("role", "district", "organisation")


def _frame(count: int = 6):
    coordinator = make_user("coordinator")
    study = make_study(slug="disclosure")
    districts = [make_district(study, f"District {n}", phase=1) for n in range(2)]
    organisations = [
        make_organisation(study, f"Office {n}", OrganisationKind.JCP, [districts[n % 2]])
        for n in range(count)
    ]
    role = make_role(study, "Manager", OrganisationKind.JCP)
    version = make_published_version(study, coordinator)
    people = []
    for n in range(count):
        participant = make_participant(
            study, district=districts[n % 2], organisation=organisations[n], role=role
        )
        record_consent(
            participant,
            version,
            method=ConsentMethod.WRITTEN,
            answers=all_yes(),
            actor=coordinator,
            given_at=dt.datetime(2026, 3, 2, 10, tzinfo=UTC),
        )
        people.append(participant)
    return study, coordinator, version, people


def _rows(directory: Path, name: str) -> list[dict]:
    with open(directory / "data" / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_later_consent_that_declines_archiving_excludes_the_person(app, tmp_path):
    study, coordinator, version, people = _frame()
    answers = {**all_yes(), "archiving": False}
    record_consent(
        people[0],
        version,
        method=ConsentMethod.WRITTEN,
        answers=answers,
        actor=coordinator,
        given_at=dt.datetime(2026, 3, 9, 10, tzinfo=UTC),
    )
    package = build_package(study)
    references = {row[0] for row in package.table("participants").rows}
    assert people[0].reference not in references
    assert {p.reference for p in people[1:]} == references
    assert package.exclusions.did_not_agree_to_archiving == 1
    for table in package.tables:
        if table.is_person_level:
            assert people[0].reference not in {row[0] for row in table.rows}, table.name


def test_the_study_chooses_the_attributes_and_the_codebook_says_what_the_check_did(app, tmp_path):
    study, *_ = _frame()
    db.session.add(
        ExportSettings(
            study_id=study.id,
            min_cell_size=3,
            include_role=True,
            include_phase=False,
            include_district=True,
            include_organisation_kind=False,
            include_organisation=True,
        )
    )
    db.session.commit()
    directory = tmp_path / "package"
    write_directory(build_package(study), directory)
    report = validate(str(directory / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    rows = _rows(directory, "participants")
    # Six people in six offices: each office alone → kinds; three per district → kept.
    assert list(rows[0]) == [
        "participant_reference",
        "role_id",
        "district_id",
        "organisation_kind",
        "recruitment_status",
    ]
    assert {row["organisation_kind"] for row in rows} == {"jcp"}
    descriptor = json.loads((directory / "datapackage.json").read_text())
    control_info = descriptor["fieldwork"]["disclosureControl"]
    assert control_info["minimumCellSize"] == 3
    assert control_info["generalised"] == ["organisation"]
    assert control_info["quasiIdentifiersExported"] == ["role", "district", "organisation_kind"]
    readme = (directory / "README.md").read_text()
    assert "## Disclosure control" in readme and "k = 3" in readme
    assert "Organisation generalised to kind of organisation" in readme


def test_by_default_a_person_alone_in_their_cell_is_not_singled_out(app, tmp_path):
    """Defaults: role, phase and organisation kind, k = 5; district and organisation are not
    exported; four people cannot make a cell of five, so their attributes are suppressed."""
    study, *_ = _frame(count=4)
    package = build_package(study)
    table = package.table("participants")
    assert table.field_names == [
        "participant_reference",
        "role_id",
        "phase_number",
        "organisation_kind",
        "recruitment_status",
    ]
    assert all(row[1:4] == (None, None, None) for row in table.rows)
    assert package.disclosure.suppressed == 4


def test_a_coordinator_saves_the_settings_on_the_export_page(app, client, auth):
    study, coordinator, *_ = _frame(count=2)
    auth.login(coordinator)
    page = client.get(f"/exports?study={study.slug}").get_data(as_text=True)
    assert "What the export of" in page and 'name="min_cell_size"' in page
    response = client.post(
        f"/studies/{study.slug}/export-settings",
        data={"included": ["role", "district"], "min_cell_size": "3"},
    )
    assert response.status_code == 302
    settings = db.session.scalars(
        db.select(ExportSettings).where(ExportSettings.study_id == study.id)
    ).one()
    assert settings.included == ("role", "district") and settings.min_cell_size == 3
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Now: Role, District" in page


def test_a_bad_minimum_is_refused_beside_the_field_and_nothing_saved(app, client, auth):
    study, coordinator, *_ = _frame(count=2)
    auth.login(coordinator)
    response = client.post(
        f"/studies/{study.slug}/export-settings", data={"included": ["role"], "min_cell_size": "0"}
    )
    assert response.status_code == 422
    assert "from 1 to 100" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(ExportSettings)) == 0


def test_interviewers_cannot_change_the_settings(app, client, auth):
    study, *_ = _frame(count=2)
    auth.login(make_user("interviewer"))
    response = client.post(
        f"/studies/{study.slug}/export-settings", data={"included": [], "min_cell_size": "1"}
    )
    assert response.status_code == 403
