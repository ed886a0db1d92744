"""The open-data export: a valid, documented, anonymised, reproducible Frictionless package."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from frictionless import validate

from fieldwork.demo import load_demo_study
from fieldwork.exports.datapackage import build_package
from fieldwork.exports.package import DatePrecision, coarsen, write_directory, write_zip
from tests.exports.conftest import (
    personal_values_in_database,
    read_package,
    tabular_resources,
)

QUOTA_SHAPES = ("role_phase", "role_district", "kind_phase")
PERSON_LEVEL = ("participants", "contact_attempts", "appointments", "consents", "consent_answers")


def export(study, directory: Path, precision: str = "day", **options) -> Path:
    write_directory(build_package(study, precision, **options), directory)
    return directory


def rows_of(directory: Path, name: str) -> list[dict[str, str]]:
    with open(directory / "data" / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def assert_valid(directory: Path) -> None:
    report = validate(str(directory / "datapackage.json"))
    problems = report.flatten(["taskNumber", "rowNumber", "fieldName", "type", "note"])
    assert report.valid, problems


# --- Validity --------------------------------------------------------------------------------


def test_the_demo_study_exports_a_valid_package(app, tmp_path):
    """The demo study's package passes the frictionless validator: schemas, types,
    constraints, primary keys and foreign keys."""
    study = load_demo_study()
    assert_valid(export(study, tmp_path / "demo"))
    descriptor = read_package(tmp_path / "demo")
    assert descriptor["fieldwork"]["participantsInFrame"] > 0
    assert rows_of(tmp_path / "demo", "participants"), "the demo has archivable participants"


def test_awkward_text_and_empty_districts_export_a_valid_package(awkward, tmp_path):
    """Commas, quotes, line breaks and accents survive the CSV round trip; an empty and a
    placeholder district are kept; the package validates in-process and with the CLI."""
    directory = export(awkward.study, tmp_path / "awkward")
    assert_valid(directory)
    organisations = {row["name"] for row in rows_of(directory, "organisations")}
    assert 'Ærø Provider Ltd.\nTrading as "Acme, Inc."' in organisations
    assert "Société d'Emploi, Ça Va" in organisations
    districts = {row["name"]: row for row in rows_of(directory, "districts")}
    assert districts["Empty Vale"]["phase_number"] == "2"
    assert districts["Unknown district (phase 2)"]["is_placeholder"] == "true"
    assert districts["Saint-Étienne, Nord"]["source"] == 'Said "north", 2008'
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "frictionless",
            "validate",
            "--json",
            str(directory / "datapackage.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["valid"] is True


def test_every_resource_is_described_with_a_schema_and_keys(awkward, tmp_path):
    """Each CSV has a resource with a title, a description, a field description for every
    column in file order, and a primary key; the codebook is a resource too."""
    directory = export(awkward.study, tmp_path / "p")
    descriptor = read_package(directory)
    names = [r["name"] for r in descriptor["resources"]]
    assert names[0] == "readme"
    for expected in (
        "phases",
        "districts",
        "organisations",
        "roles",
        *PERSON_LEVEL,
        "quotas",
        "coverage",
        "dispositions",
    ):
        assert expected in names
    for resource in tabular_resources(descriptor):
        schema = resource["schema"]
        assert resource["title"] and resource["description"]
        assert schema["primaryKey"]
        with open(directory / resource["path"], encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == [f["name"] for f in schema["fields"]]
        assert all(f["description"] for f in schema["fields"])
    written = sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())
    described = sorted(["datapackage.json", *(r["path"] for r in descriptor["resources"])])
    assert written == described


# --- Anonymity -------------------------------------------------------------------------------


def _all_text(directory: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(directory.rglob("*")) if p.is_file()
    ).casefold()


def test_no_name_email_or_phone_of_any_participant_is_in_any_file(awkward, tmp_path):
    """Names, emails, phones, job titles and notes, including those of erased participants
    (collected before their erasure), appear in no exported file, nor in the zip."""
    directory = export(awkward.study, tmp_path / "p")
    text = _all_text(directory)
    assert awkward.personal_values
    for value in awkward.personal_values:
        assert value.casefold() not in text, value
        digits = "".join(ch for ch in value if ch.isdigit())
        if value.startswith("+44"):
            assert digits not in text.replace(" ", ""), value
    buffer = io.BytesIO()
    write_zip(build_package(awkward.study), buffer)
    with zipfile.ZipFile(buffer) as archive:
        zipped = "\n".join(archive.read(n).decode("utf-8") for n in archive.namelist())
    for value in awkward.personal_values:
        assert value.casefold() not in zipped.casefold(), value
    assert "erased participant" not in text


def test_the_demo_package_holds_no_personal_data(app, tmp_path):
    """Across the whole demo study, no participant's name, email or phone is exported."""
    study = load_demo_study()
    values = personal_values_in_database()
    text = _all_text(export(study, tmp_path / "demo"))
    assert len(values) > 100
    for value in values:
        assert value.casefold() not in text, value


def test_only_participants_who_agreed_to_archiving_are_in_person_level_files(awkward, tmp_path):
    """A standing consent with archiving agreed lets someone in (even once erased); declining
    archiving, withdrawing, or never consenting keeps them out of every person-level file."""
    directory = export(awkward.study, tmp_path / "p")
    refs = awkward.references
    included = {refs["agreed"], refs["erased"]}
    assert {row["participant_reference"] for row in rows_of(directory, "participants")} == (
        included
    )
    for name in PERSON_LEVEL:
        found = {row["participant_reference"] for row in rows_of(directory, name)}
        assert found <= included, name
    assert {row["participant_reference"] for row in rows_of(directory, "appointments")} == {
        refs["agreed"]
    }
    counts = read_package(directory)["fieldwork"]
    assert counts.pop("disclosureControl")["minimumCellSize"] == 5
    assert counts == {
        "study": "awkward",
        "timezone": "Europe/London",
        "datePrecision": "day",
        "consentItemForArchiving": "archiving",
        "participantsInFrame": 6,
        "participantsIncluded": 2,
        "participantsLeftOut": 4,
        "leftOutNoConsentRecorded": 2,
        "leftOutConsentWithdrawn": 1,
        "leftOutDidNotAgreeToArchiving": 1,
    }
    assert "4 of 6 were left out" in read_package(directory)["description"]
    readme = (directory / "README.md").read_text(encoding="utf-8")
    assert "**4 participants were left out**" in readme
    assert "- 2 with no consent recorded;" in readme
    assert "- 1 whose consent was withdrawn;" in readme
    assert "- 1 whose consent does not agree to archiving." in readme


def test_coverage_counts_everyone_in_the_frame(awkward, tmp_path):
    """Coverage is aggregate: its cells count the participants left out too, and every
    quota appears with its target."""
    directory = export(awkward.study, tmp_path / "p")
    coverage = rows_of(directory, "coverage")
    assert sum(int(r["participants"]) for r in coverage if r["shape"] == "role_phase") == 6
    assert sum(int(r["achieved"]) for r in coverage if r["shape"] == "role_phase") == 1
    quotas = {(r["shape"], r["target"]) for r in rows_of(directory, "quotas")}
    assert quotas == {("role_phase", "3"), ("role_district", "2"), ("kind_phase", "4")}
    with_target = [r["target"] for r in coverage if r["target"] and r["shape"] in QUOTA_SHAPES]
    assert sorted(with_target) == ["2", "3", "4"]
    overall = next(r for r in coverage if r["cell"] == "overall")
    assert (overall["participants"], overall["achieved"], overall["target"]) == ("6", "1", "3")
    assert overall["response_rate"] == f"{1 / 6:.4f}"


# --- Dates -----------------------------------------------------------------------------------


def test_coarsen_gives_the_monday_of_the_week_or_the_first_of_the_month():
    thursday = dt.date(2026, 3, 19)
    assert coarsen(thursday, DatePrecision.DAY) == thursday
    assert coarsen(thursday, DatePrecision.WEEK) == dt.date(2026, 3, 16)
    assert coarsen(dt.date(2026, 3, 1), DatePrecision.WEEK) == dt.date(2026, 2, 23)
    assert coarsen(thursday, DatePrecision.MONTH) == dt.date(2026, 3, 1)
    assert coarsen(None, DatePrecision.MONTH) is None


@pytest.mark.parametrize("precision", ["week", "month"])
def test_dates_about_participants_can_be_coarsened(awkward, tmp_path, precision):
    """Every person-level date becomes its week's Monday or its month's first day, the
    schema and the codebook say so, and the package still validates."""
    exact = export(awkward.study, tmp_path / "day")
    coarse = export(awkward.study, tmp_path / precision, precision)
    assert_valid(coarse)
    date_columns = {
        "contact_attempts": ["attempted_on"],
        "appointments": ["appointment_on"],
        "consents": ["given_on", "withdrawn_on"],
    }
    compared = 0
    for name, columns in date_columns.items():
        for before, after in zip(rows_of(exact, name), rows_of(coarse, name), strict=True):
            for column in columns:
                if not before[column]:
                    assert not after[column]
                    continue
                day = dt.date.fromisoformat(before[column])
                expected = coarsen(day, DatePrecision(precision))
                assert after[column] == expected.isoformat()
                compared += 1
    assert compared >= 5
    assert rows_of(coarse, "phases") == rows_of(exact, "phases"), "public dates stay exact"
    descriptor = read_package(coarse)
    assert descriptor["fieldwork"]["datePrecision"] == precision
    attempts = next(r for r in descriptor["resources"] if r["name"] == "contact_attempts")
    field = next(f for f in attempts["schema"]["fields"] if f["name"] == "attempted_on")
    assert "coarsened" in field["description"]
    assert DatePrecision(precision).meaning in (coarse / "README.md").read_text(encoding="utf-8")


def test_dates_are_days_in_the_study_time_zone(awkward, tmp_path):
    """An evening event in UTC falls on the next day in a zone well east of UTC: the date is
    the one the study's team lived it on."""
    # The agreed participant's attempts: 16 March 09:00 UTC, and 18 March 19:00 UTC (the
    # agreement), which is 04:00 on 19 March in Tokyo.
    agreed = awkward.references["agreed"]
    london = rows_of(export(awkward.study, tmp_path / "london"), "contact_attempts")
    awkward.study.timezone = "Asia/Tokyo"
    tokyo = rows_of(export(awkward.study, tmp_path / "tokyo"), "contact_attempts")
    days = [
        [r["attempted_on"] for r in rows if r["participant_reference"] == agreed]
        for rows in (london, tokyo)
    ]
    assert days == [["2026-03-16", "2026-03-18"], ["2026-03-16", "2026-03-19"]]


# --- Reproducibility -------------------------------------------------------------------------


def test_the_same_record_exported_twice_gives_identical_files(awkward, tmp_path):
    """No export timestamp: two exports, made at different times, are byte-identical, and so
    are two zips; `created` is the latest record's date unless pinned."""
    from fieldwork.core.time import set_clock

    first = export(awkward.study, tmp_path / "one")
    set_clock(lambda: dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    second = export(awkward.study, tmp_path / "two")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for path in files:
        assert (first / path).read_bytes() == (second / path).read_bytes(), path
    zips = []
    for _ in range(2):
        buffer = io.BytesIO()
        write_zip(build_package(awkward.study), buffer)
        zips.append(buffer.getvalue())
    assert zips[0] == zips[1]
    assert read_package(first)["created"] == "2026-03-19T00:00:00Z"
    pinned = export(
        awkward.study, tmp_path / "pinned", created=dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    )
    assert read_package(pinned)["created"] == "2026-04-01T00:00:00Z"


def test_each_resource_is_read_in_one_query_whatever_the_size(awkward, count_queries):
    """The number of queries does not grow with the number of participants."""
    from tests.factories import make_participant

    with count_queries() as small:
        build_package(awkward.study)
    for _ in range(15):
        make_participant(awkward.study)
    with count_queries() as large:
        build_package(awkward.study)
    assert large.count == small.count


# --- Reading it without this software ----------------------------------------------------------

PANDAS_TYPES = {"integer": "Int64", "number": "Float64", "string": "string"}


def read_with_pandas(directory: Path, resource: dict) -> pd.DataFrame:
    """Read a resource with the types its schema declares, as a reader without this software
    would: nullable integers, floats, strings, booleans from true/false, parsed dates."""
    fields = resource["schema"]["fields"]
    dtypes = {f["name"]: PANDAS_TYPES[f["type"]] for f in fields if f["type"] in PANDAS_TYPES}
    dtypes.update({f["name"]: "boolean" for f in fields if f["type"] == "boolean"})
    frame = pd.read_csv(
        directory / resource["path"],
        dtype=dtypes,
        keep_default_na=False,
        na_values=resource["schema"]["missingValues"],
        true_values=["true"],
        false_values=["false"],
        encoding="utf-8",
    )
    for f in fields:
        if f["type"] == "date":
            frame[f["name"]] = pd.to_datetime(frame[f["name"]], format="%Y-%m-%d")
    return frame


def test_pandas_reads_every_csv_with_the_declared_types(awkward, tmp_path):
    directory = export(awkward.study, tmp_path / "p")
    for resource in tabular_resources(read_package(directory)):
        frame = read_with_pandas(directory, resource)
        assert len(frame) == len(rows_of(directory, resource["name"])), resource["name"]
        for f in resource["schema"]["fields"]:
            dtype = str(frame[f["name"]].dtype)
            expected = {
                "integer": "Int64",
                "number": "Float64",
                "boolean": "boolean",
                "string": "string",
                "date": "datetime64",
            }[f["type"]]
            assert dtype.startswith(expected), (resource["name"], f["name"], dtype)
            if f.get("constraints", {}).get("required"):
                assert not frame[f["name"]].isna().any(), (resource["name"], f["name"])
    organisations = read_with_pandas(
        directory,
        next(r for r in tabular_resources(read_package(directory)) if r["name"] == "organisations"),
    )
    assert 'Ærø Provider Ltd.\nTrading as "Acme, Inc."' in set(organisations["name"])


SQL_TYPES = {
    "integer": "INTEGER",
    "number": "REAL",
    "boolean": "INTEGER",
    "date": "TEXT",
    "string": "TEXT",
}


def _sql_value(value: str, field: dict):
    if value == "":
        return None
    if field["type"] == "integer":
        return int(value)
    if field["type"] == "number":
        return float(value)
    if field["type"] == "boolean":
        return 1 if value == "true" else 0
    return value


def load_into_sqlite(directory: Path) -> sqlite3.Connection:
    """Create a table per resource from its schema (keys included) and load its CSV, in the
    order datapackage.json lists them, with foreign keys enforced."""
    connection = sqlite3.connect(":memory:")
    connection.execute("PRAGMA foreign_keys = ON")
    for resource in tabular_resources(read_package(directory)):
        schema = resource["schema"]
        columns = [
            f'"{f["name"]}" {SQL_TYPES[f["type"]]}'
            + (" NOT NULL" if f.get("constraints", {}).get("required") else "")
            for f in schema["fields"]
        ]
        columns.append("PRIMARY KEY (" + ", ".join(f'"{n}"' for n in schema["primaryKey"]) + ")")
        for fk in schema.get("foreignKeys", []):
            target = fk["reference"]["resource"] or resource["name"]
            columns.append(
                "FOREIGN KEY (" + ", ".join(f'"{n}"' for n in fk["fields"]) + f') REFERENCES "'
                f'{target}" (' + ", ".join(f'"{n}"' for n in fk["reference"]["fields"]) + ")"
            )
        connection.execute(f'CREATE TABLE "{resource["name"]}" ({", ".join(columns)})')
        with open(directory / resource["path"], encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            rows = [
                [_sql_value(value, f) for value, f in zip(row, schema["fields"], strict=True)]
                for row in reader
            ]
        placeholders = ", ".join("?" for _ in schema["fields"])
        connection.executemany(f'INSERT INTO "{resource["name"]}" VALUES ({placeholders})', rows)
    connection.commit()
    return connection


@pytest.mark.parametrize("which", ["demo", "awkward"])
def test_sqlite_loads_the_csvs_with_every_foreign_key_holding(app, tmp_path, which, request):
    study = load_demo_study() if which == "demo" else request.getfixturevalue("awkward").study
    directory = export(study, tmp_path / which)
    connection = load_into_sqlite(directory)
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    for resource in tabular_resources(read_package(directory)):
        count = connection.execute(f'SELECT count(*) FROM "{resource["name"]}"').fetchone()[0]
        assert count == len(rows_of(directory, resource["name"]))
    joined = connection.execute(
        "SELECT count(*) FROM contact_attempts a JOIN participants p USING "
        "(participant_reference) JOIN dispositions d ON d.code = a.disposition"
    ).fetchone()[0]
    assert joined == len(rows_of(directory, "contact_attempts"))


def test_the_codebook_explains_every_code_and_rate(awkward, tmp_path):
    from fieldwork.coverage.rates import DEFINITIONS
    from fieldwork.recruitment.dispositions import Disposition
    from fieldwork.sampling.models import RecruitmentStatus

    readme = (export(awkward.study, tmp_path / "p") / "README.md").read_text(encoding="utf-8")
    for code in Disposition:
        assert f"| {code.value} | {code.label} |" in readme
    for status in RecruitmentStatus:
        assert f"| {status.value} |" in readme
    for name, label, _formula in DEFINITIONS:
        assert f"| `{name}` | {label} |" in readme
    assert "### participants (`data/participants.csv`)" in readme
