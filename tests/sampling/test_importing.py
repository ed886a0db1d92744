"""Importing a sample frame from CSV: the rules of `fieldwork.sampling.imports`."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldwork.core.time import set_clock
from fieldwork.extensions import db
from fieldwork.sampling.demo import load_demo
from fieldwork.sampling.imports import columns, reader, uploads, writer
from fieldwork.sampling.imports.plan import (
    FrameImportError,
    ImportPlan,
    ImportProblem,
    ImportResult,
)
from fieldwork.sampling.models import (
    District,
    Organisation,
    OrganisationKind,
    Participant,
    Role,
    organisation_district,
)
from tests.factories import make_frame, make_participant, make_role, make_user

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = [
    "reference",
    "name",
    "job_title",
    "email",
    "phone",
    "role",
    "organisation",
    "organisation_kind",
    "lead_provider",
    "district",
    "phase",
    "notes",
    "interviewer",
]


def frame_file(*rows: dict, columns: list[str] = COLUMNS) -> str:
    """CSV text with a header and one line per row (missing keys are empty cells)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in columns})
    return out.getvalue()


def person(**fields) -> dict:
    """A good row for the `make_frame` study: a JCP manager in North, phase 1."""
    return {
        "name": "Imran Iqbal",
        "email": "imran@example.org",
        "role": "JCP Third Party Provision Manager",
        "organisation": "Jobcentre Plus North",
        "district": "North",
        "phase": "1",
        **fields,
    }


@pytest.fixture
def frame(app):
    frame = make_frame()
    frame["subcontractor_manager"] = make_role(
        frame["study"], "Sub-contractor manager", OrganisationKind.SUBCONTRACTOR
    )
    return frame


def counts() -> dict[str, int]:
    """How many rows each table of the frame holds."""
    db.session.expire_all()
    return {
        "participants": db.session.scalar(select(func.count()).select_from(Participant)),
        "organisations": db.session.scalar(select(func.count()).select_from(Organisation)),
        "districts": db.session.scalar(select(func.count()).select_from(District)),
        "links": db.session.scalar(select(func.count()).select_from(organisation_district)),
    }


def import_data(study, data: bytes) -> ImportResult:
    """Import a file as the upload's confirmation and the command line do: checked as written."""
    plan = writer.import_frame(study, reader.CsvFrame.from_bytes(data))
    assert plan.problems == []
    assert plan.result is not None
    return plan.result


def import_text(study, text: str) -> ImportResult:
    return import_data(study, text.encode("utf-8"))


def where(plan: ImportPlan) -> set[tuple[int, str]]:
    return {(problem.line, problem.column) for problem in plan.problems}


def participant_named(name: str) -> Participant:
    return db.session.scalars(select(Participant).where(Participant.name == name)).one()


# --- A good file -------------------------------------------------------------------------------


def test_a_good_file_creates_people_organisations_and_districts(frame):
    """References are generated per phase; new organisations cover the districts their rows
    name; a new sub-contractor gets its lead provider; emails are stored in lower case."""
    study = frame["study"]
    text = frame_file(
        person(email="Imran.Iqbal@Example.ORG", phone="0161 496 0000"),
        person(
            name="Niamh Quinn",
            email="niamh@example.org",
            role="lead provider manager",
            organisation="Acme Employment",
            district="South",
            phase="Phase 2",
        ),
        person(
            name="Wei Thomas",
            email="wei@example.org",
            role="Sub-contractor manager",
            organisation="Step Forward Trust",
            organisation_kind="Sub-contractor",
            lead_provider="Acme Employment",
            district="South",
            phase="2",
        ),
        person(
            name="Ruth Walsh",
            email="ruth@example.org",
            role="Sub-contractor manager",
            organisation="Step Forward Trust",
            district="East",
            phase="2",
        ),
    )
    before = counts()

    plan = reader.parse_frame(study, text)
    assert plan.problems == []
    assert (plan.participants_created, plan.participants_updated) == (4, 0)
    assert (plan.organisations_created, plan.districts_created) == (1, 1)
    result = import_text(study, text)

    assert (result.created, result.updated, result.total) == (4, 0, 4)
    assert (result.organisations_created, result.districts_created) == (1, 1)
    after = counts()
    assert after["participants"] == before["participants"] + 4
    imran = participant_named("Imran Iqbal")
    assert (imran.reference, imran.email, imran.phone) == (
        "P1-001",
        "imran.iqbal@example.org",
        "0161 496 0000",
    )
    assert [
        participant_named(n).reference for n in ("Niamh Quinn", "Wei Thomas", "Ruth Walsh")
    ] == ["P2-001", "P2-002", "P2-003"]
    trust = db.session.scalars(
        select(Organisation).where(Organisation.name == "Step Forward Trust")
    ).one()
    assert trust.kind == OrganisationKind.SUBCONTRACTOR
    assert trust.lead_provider_id == frame["provider"].id
    east = db.session.scalars(select(District).where(District.name == "East")).one()
    assert east.phase.number == 2
    covered = set(
        db.session.execute(
            select(District.name)
            .join(organisation_district, organisation_district.c.district_id == District.id)
            .where(organisation_district.c.organisation_id == trust.id)
        ).scalars()
    )
    assert covered == {"South", "East"}
    assert participant_named("Ruth Walsh").district_id == east.id


def test_an_existing_organisation_gains_the_districts_its_rows_name(frame):
    """Acme covers North and South; a row for Acme in a new district adds that district."""
    import_text(
        frame["study"],
        frame_file(
            person(
                name="Niamh Quinn",
                role="Lead provider manager",
                organisation="acme employment",
                district="West",
                phase="1",
            )
        ),
    )
    acme = db.session.get(Organisation, frame["provider"].id)
    names = set(
        db.session.execute(
            select(District.name)
            .join(organisation_district, organisation_district.c.district_id == District.id)
            .where(organisation_district.c.organisation_id == acme.id)
        ).scalars()
    )
    assert names == {"North", "South", "West"}
    assert counts()["organisations"] == 2, "matched by name whatever the case"


def test_generated_references_follow_the_phase_and_the_file_own_references(frame):
    """Existing P1-007 and a file's own P1-020 are taken: new people get P1-021, P1-022."""
    study = frame["study"]
    make_participant(
        study,
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        reference="P1-007",
        email="old@example.org",
    )
    import_text(
        study,
        frame_file(
            person(name="A", email="a@example.org"),
            person(name="B", email="b@example.org", reference="P1-020"),
            person(name="C", email="c@example.org"),
        ),
    )
    assert [participant_named(n).reference for n in "ABC"] == ["P1-021", "P1-020", "P1-022"]


def test_quoted_values_keep_commas_quotes_accents_and_line_breaks(frame):
    """The CSV quoting rules; lines after a value with a line break still count right."""
    text = (
        "name,role,organisation,district,phase,notes,email\n"
        '"O\'Connor, Máire",JCP Third Party Provision Manager,Jobcentre Plus North,North,1,'
        '"Prefers calls, after 2pm.\nSays ""hello"".",maire@example.org\n'
        "Zoë,Nope,Jobcentre Plus North,North,1,,zoe@example.org\n"
    )
    plan = reader.parse_frame(frame["study"], text)
    assert where(plan) == {(4, "role")}, "the third row starts on line 4"

    import_text(frame["study"], text.rsplit("Zoë", 1)[0])
    maire = participant_named("O'Connor, Máire")
    assert maire.notes == 'Prefers calls, after 2pm.\nSays "hello".'


def test_a_byte_order_mark_and_windows_line_ends_are_accepted(frame):
    data = codecs.BOM_UTF8 + frame_file(person(notes="Line one\nline two")).replace(
        "\n", "\r\n"
    ).encode("utf-8")
    import_data(frame["study"], data)
    assert participant_named("Imran Iqbal").notes == "Line one\nline two"


def test_headers_are_matched_ignoring_case_order_and_spaces(frame):
    text = (
        "  Phase ,DISTRICT,Organisation,Role,Name,Job Title,organisation-kind\n"
        "1,North,Jobcentre Plus North,JCP Third Party Provision Manager,Jo Baker,Manager,"
        "Jobcentre Plus\n"
    )
    import_text(frame["study"], text)
    assert participant_named("Jo Baker").job_title == "Manager"


@pytest.mark.parametrize(
    "written, kind",
    [
        ("lead_provider", OrganisationKind.LEAD_PROVIDER),
        ("Lead provider", OrganisationKind.LEAD_PROVIDER),
        ("LEAD-PROVIDER", OrganisationKind.LEAD_PROVIDER),
        ("Jobcentre Plus", OrganisationKind.JCP),
        ("jcp", OrganisationKind.JCP),
        ("Sub-contractor", OrganisationKind.SUBCONTRACTOR),
        ("DWP", OrganisationKind.DWP),
        ("other", OrganisationKind.OTHER),
    ],
)
def test_organisation_kinds_are_read_from_their_codes_and_labels(frame, written, kind):
    role = make_role(frame["study"], f"Role for {kind.value}", kind)
    import_text(
        frame["study"],
        frame_file(
            person(
                role=role.name,
                organisation="Brand New Org",
                organisation_kind=written,
                lead_provider="Acme Employment" if kind == OrganisationKind.SUBCONTRACTOR else "",
            )
        ),
    )
    new = db.session.scalars(select(Organisation).where(Organisation.name == "Brand New Org")).one()
    assert new.kind == kind


def test_an_interviewer_is_assigned_by_email(frame):
    interviewer = make_user("interviewer", email="kathryn@example.org")
    import_text(frame["study"], frame_file(person(interviewer="Kathryn@Example.org")))
    assert participant_named("Imran Iqbal").interviewer_id == interviewer.id


def test_the_example_file_imports_cleanly_into_the_demo_study(app):
    """examples/sample-frame.csv: a dozen people, one new sub-contractor; twice adds nobody."""
    study = load_demo()
    data = (ROOT / "examples" / "sample-frame.csv").read_bytes()
    plan = reader.read_frame(study, data)
    assert plan.problems == []
    assert (plan.participants_created, plan.organisations_created) == (12, 1)
    import_data(study, data)
    before = counts()
    again = reader.read_frame(study, data)
    assert (again.participants_created, again.participants_updated) == (0, 12)
    assert {row.action for row in again.preview_rows} == {"No change"}
    import_data(study, data)
    assert counts() == before


def test_the_documentation_describes_every_column():
    text = (ROOT / "docs" / "import-format.md").read_text(encoding="utf-8")
    for column in columns.COLUMNS:
        assert f"| `{column.name}` |" in text


# --- Importing again ---------------------------------------------------------------------------


def test_importing_the_same_file_twice_duplicates_nobody(frame):
    """Rows match by reference, else email, else (with neither) name and organisation."""
    study = frame["study"]
    text = frame_file(
        person(),
        person(
            name="Niamh Quinn",
            email="",
            role="Lead provider manager",
            organisation="Acme Employment",
        ),
        person(
            name="Wei Thomas",
            email="wei@example.org",
            reference="P9-001",
            role="Sub-contractor manager",
            organisation="Step Forward Trust",
            organisation_kind="subcontractor",
            lead_provider="Acme Employment",
            district="Far",
            phase="2",
        ),
    )
    import_text(study, text)
    before = counts()
    result = import_text(study, text)
    assert (result.created, result.updated) == (0, 3)
    assert counts() == before


def test_a_row_with_a_known_email_updates_that_participant(frame):
    study = frame["study"]
    known = make_participant(
        study,
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        name="Imran Iqbal",
        email="imran@example.org",
        phone="0161 000",
        reference="P1-042",
    )
    before = counts()
    text = frame_file(person(email="IMRAN@example.org", job_title="Senior manager", phone=""))
    plan = reader.parse_frame(study, text)
    assert [row.action for row in plan.preview_rows] == ["Update"]
    result = import_text(study, text)
    assert (result.created, result.updated) == (0, 1)
    assert counts() == before
    updated = db.session.get(Participant, known.id)
    assert (updated.reference, updated.job_title, updated.phone) == ("P1-042", "Senior manager", "")


def test_a_row_with_a_known_reference_updates_that_participant_even_its_email(frame):
    study = frame["study"]
    known = make_participant(
        study,
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        reference="P1-042",
        email="old@example.org",
    )
    import_text(study, frame_file(person(reference="P1-042", email="new@example.org")))
    assert db.session.get(Participant, known.id).email == "new@example.org"
    assert counts()["participants"] == 1


def test_columns_left_out_of_the_file_are_left_alone_on_update(frame):
    known = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        email="imran@example.org",
        phone="0161 496 1",
        notes="Keep me",
    )
    import_text(
        frame["study"],
        frame_file(
            person(name="Imran Iqbal-Khan"),
            columns=["name", "email", "role", "organisation", "district", "phase"],
        ),
    )
    updated = db.session.get(Participant, known.id)
    assert (updated.name, updated.phone, updated.notes) == (
        "Imran Iqbal-Khan",
        "0161 496 1",
        "Keep me",
    )


# --- Bad files: every problem, with its line and column; nothing imported -------------------------


BAD_ROWS = [
    ("name missing", person(name=""), "name"),
    ("role missing", person(role=""), "role"),
    ("organisation missing", person(organisation=""), "organisation"),
    ("district missing", person(district=""), "district"),
    ("phase missing", person(phase=""), "phase"),
    ("unknown phase", person(phase="3"), "phase"),
    ("unknown phase name", person(phase="Phase 9"), "phase"),
    ("unknown role", person(role="Chief Executive"), "role"),
    ("malformed email", person(email="imran.example.org"), "email"),
    ("malformed phone", person(phone="call me"), "phone"),
    ("name too long", person(name="x" * 201), "name"),
    ("bad kind", person(organisation="New Org", organisation_kind="charity"), "organisation_kind"),
    ("new organisation without a kind", person(organisation="New Org"), "organisation_kind"),
    ("existing organisation of another kind", person(organisation_kind="dwp"), "organisation_kind"),
    ("role for another kind", person(role="Lead provider manager"), "role"),
    ("existing district in another phase", person(phase="2"), "phase"),
    ("unknown interviewer", person(interviewer="nobody@example.org"), "interviewer"),
    (
        "new sub-contractor without a lead provider",
        person(
            role="Sub-contractor manager", organisation="New Sub", organisation_kind="subcontractor"
        ),
        "lead_provider",
    ),
    (
        "unknown lead provider",
        person(
            role="Sub-contractor manager",
            organisation="New Sub",
            organisation_kind="subcontractor",
            lead_provider="Nobody Ltd",
        ),
        "lead_provider",
    ),
    (
        "lead provider that is not one",
        person(
            role="Sub-contractor manager",
            organisation="New Sub",
            organisation_kind="subcontractor",
            lead_provider="Jobcentre Plus North",
        ),
        "lead_provider",
    ),
    (
        "lead provider for a non-sub-contractor",
        person(lead_provider="Acme Employment"),
        "lead_provider",
    ),
]


@pytest.mark.parametrize(
    "row, column",
    [(row, column) for _, row, column in BAD_ROWS],
    ids=[label for label, _, _ in BAD_ROWS],
)
def test_a_bad_row_is_reported_at_its_line_and_column_and_nothing_is_imported(frame, row, column):
    """The bad row is line 3 (line 1 is the header, line 2 a good row)."""
    before = counts()
    plan = reader.parse_frame(
        frame["study"], frame_file(person(name="Good Person", email="good@example.org"), row)
    )
    assert (3, column) in where(plan)
    assert all(problem.line == 3 for problem in plan.problems), plan.problems
    assert plan.preview_rows == []
    imported = writer.import_frame(
        frame["study"],
        reader.CsvFrame.from_bytes(
            frame_file(person(name="Good Person", email="good@example.org"), row).encode()
        ),
    )
    assert (imported.result, imported.problems) == (None, plan.problems)
    assert counts() == before


def test_an_interviewer_column_must_name_an_interviewer_not_a_coordinator(frame):
    make_user("coordinator", email="boss@example.org")
    plan = reader.parse_frame(frame["study"], frame_file(person(interviewer="boss@example.org")))
    assert where(plan) == {(2, "interviewer")}


@pytest.mark.parametrize(
    "first, second, column",
    [
        (person(), person(name="Other Name"), "email"),
        (
            person(reference="X-1", email="a@example.org"),
            person(reference="x-1", email="b@example.org"),
            "reference",
        ),
        (person(email=""), person(email="", job_title="Same person again"), "name"),
    ],
    ids=["same email", "same reference", "same name and organisation without email"],
)
def test_the_same_person_twice_in_a_file_is_reported_on_the_second_line(
    frame, first, second, column
):
    plan = reader.parse_frame(frame["study"], frame_file(first, second))
    assert where(plan) == {(3, column)}


def test_two_rows_that_update_the_same_participant_are_reported(frame):
    make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        reference="P1-001",
        email="imran@example.org",
    )
    plan = reader.parse_frame(
        frame["study"],
        frame_file(
            person(reference="P1-001", email="first@example.org"), person(email="imran@example.org")
        ),
    )
    assert where(plan) == {(3, "email")}


def test_a_reference_and_an_email_of_two_different_people_are_reported(frame):
    study = frame["study"]
    make_participant(
        study,
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        reference="P1-001",
        email="one@example.org",
    )
    make_participant(
        study,
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        reference="P1-002",
        email="two@example.org",
    )
    plan = reader.parse_frame(
        study,
        frame_file(
            person(reference="P1-001", email="two@example.org"),
            person(reference="P1-777", email="one@example.org"),
        ),
    )
    assert where(plan) == {(2, "email"), (3, "reference")}


def test_rows_disagreeing_about_a_new_organisation_or_district_are_reported(frame):
    plan = reader.parse_frame(
        frame["study"],
        frame_file(
            person(
                name="A",
                email="a@example.org",
                role="Lead provider manager",
                organisation="New Co",
                organisation_kind="lead_provider",
                district="Far",
                phase="1",
            ),
            person(
                name="B",
                email="b@example.org",
                role="Lead provider manager",
                organisation="New Co",
                organisation_kind="dwp",
                district="Far",
                phase="2",
            ),
        ),
    )
    assert where(plan) == {(3, "organisation_kind"), (3, "phase")}


def test_every_problem_in_a_file_is_reported_at_once(frame):
    plan = reader.parse_frame(
        frame["study"],
        frame_file(
            person(role="Nope"),
            person(name="", email="b@example.org"),
            person(name="C", email="c@", phase="7"),
        ),
    )
    assert where(plan) == {(2, "role"), (3, "name"), (4, "email"), (4, "phase")}
    assert plan.problems == sorted(plan.problems)


def test_a_header_missing_required_columns_is_one_problem_naming_them(frame):
    plan = reader.parse_frame(frame["study"], "name,email,role\nA,a@example.org,X\n")
    assert len(plan.problems) == 1
    problem = plan.problems[0]
    assert (problem.line, problem.column) == (1, "")
    assert "organisation, district, phase" in problem.message


def test_unknown_and_repeated_columns_are_reported(frame):
    plan = reader.parse_frame(frame["study"], "name,role,organisation,district,phase,emial,Name\n")
    assert where(plan) == {(1, "emial"), (1, "name")}


def test_a_semicolon_separated_file_gets_a_hint(frame):
    plan = reader.parse_frame(frame["study"], "name;role;organisation;district;phase\n")
    assert "semicolons" in plan.problems[0].message


def test_a_row_with_too_many_values_is_reported(frame):
    text = frame_file(person()) + "Extra,JCP Third Party Provision Manager," + "x," * 12 + "x\n"
    plan = reader.parse_frame(frame["study"], text)
    assert where(plan) == {(3, "")}


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (codecs.BOM_UTF8 + b"\r\n  \n", "empty"),
        (b"name,role,organisation,district,phase\n", "no participants"),
    ],
)
def test_an_empty_file_is_reported(frame, data, message):
    plan = reader.read_frame(frame["study"], data)
    assert len(plan.problems) == 1 and message in plan.problems[0].message


def test_a_file_that_is_not_utf8_is_reported_at_the_line_of_the_first_bad_byte(frame):
    data = frame_file(person(), person(name="Zoë", email="z@example.org")).encode("latin-1")
    plan = reader.read_frame(frame["study"], data)
    assert [(p.line, p.column) for p in plan.problems] == [(3, "")]
    assert "UTF-8" in plan.problems[0].message


def test_a_file_with_too_many_rows_is_refused(frame, monkeypatch):
    monkeypatch.setattr(reader, "MAX_ROWS", 3)
    rows = [person(name=f"P{n}", email=f"p{n}@example.org") for n in range(4)]
    plan = reader.parse_frame(frame["study"], frame_file(*rows))
    assert [(p.line, p.column) for p in plan.problems] == [(5, "")]
    assert "more than 3" in plan.problems[0].message


def test_problems_read_as_line_column_message():
    assert str(ImportProblem(4, "email", "Bad.")) == "line 4, column email: Bad."
    assert str(ImportProblem(1, "", "Empty.")) == "line 1: Empty."


# --- Speed and transactions ---------------------------------------------------------------------


def test_checking_and_writing_take_the_same_number_of_queries_for_10_or_300_rows(
    frame, count_queries
):
    """Look-ups are loaded up front and rows written in bulk: no query per row."""
    study = frame["study"]

    def rows(prefix: str, n: int) -> str:
        return frame_file(
            *[
                person(
                    name=f"{prefix}{i}",
                    email=f"{prefix}{i}@example.org",
                    organisation=f"{prefix} org {i % 3}",
                    organisation_kind="jcp",
                    district=f"{prefix} district {i % 4}",
                )
                for i in range(n)
            ]
        )

    def queries(text: str) -> int:
        with count_queries() as counter:
            writer.import_frame(study, reader.CsvFrame.from_bytes(text.encode()))
        return counter.count

    assert queries(rows("small", 10)) == queries(rows("large", 300))


def test_a_failure_while_writing_rolls_everything_back(frame):
    """If the study changes while the file is being written (here someone takes the file's
    reference P1-500 between the check and the write), nothing of the file is kept."""
    study = frame["study"]
    data = frame_file(
        person(reference="P1-500", organisation="New JCP", organisation_kind="jcp")
    ).encode()
    reads = []

    def open_file() -> io.BytesIO:
        reads.append(len(reads) + 1)
        if len(reads) == 2:  # the writing pass starts: New JCP is written already
            make_participant(
                study,
                district=frame["north"],
                organisation=frame["jcp"],
                role=frame["tppm"],
                reference="P1-500",
                email="sneaky@example.org",
                commit=False,
            )
        return io.BytesIO(data)

    before = counts()
    with pytest.raises(FrameImportError):
        writer.import_frame(study, reader.CsvFrame(open_file))
    assert reads == [1, 2]
    assert counts() == before


# --- Uploads waiting for confirmation ------------------------------------------------------------


def test_an_upload_is_found_by_its_token_until_it_expires(tmp_path):
    store = uploads.UploadStore(str(tmp_path), max_age_seconds=3600)
    token = store.save(b"name\n")
    assert uploads.UploadStore.TOKEN_PATTERN.match(token)
    assert store.load(token) == b"name\n"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    set_clock(lambda: later)
    try:
        assert store.load(token) is None
    finally:
        set_clock(None)
    assert list(tmp_path.iterdir()) == [], "an expired upload is deleted"


@pytest.mark.parametrize(
    "token", ["", "../../etc/passwd", "a" * 42, "a" * 43 + "/", "é" * 43, None]
)
def test_a_malformed_token_names_no_file(tmp_path, token):
    store = uploads.UploadStore(str(tmp_path))
    assert store.load(token) is None


def test_a_role_name_is_matched_ignoring_case(frame):
    import_text(frame["study"], frame_file(person(role="jcp THIRD party provision MANAGER")))
    assert (
        participant_named("Imran Iqbal").role_id
        == db.session.scalars(
            select(Role.id).where(Role.name == "JCP Third Party Provision Manager")
        ).one()
    )
