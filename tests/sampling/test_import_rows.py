"""Rows given as data (the API's bulk import) and one participant saved on its own follow the
CSV import's rules: `fieldwork.sampling.imports.rows` and `.participant_check`."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fieldwork.extensions import db
from fieldwork.sampling.imports import rows as imported_rows
from fieldwork.sampling.imports.checks import email_problem
from fieldwork.sampling.imports.participant_check import (
    FieldError,
    ParticipantFields,
    check_participant,
)
from fieldwork.sampling.imports.rows import RowError, RowsRefused
from fieldwork.sampling.models import Participant
from tests.factories import make_participant, make_user
from tests.sampling.test_importing import frame, person  # noqa: F401  (the fixture)


def participant_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Participant))


def test_rows_import_all_or_nothing_with_errors_by_row_and_field(frame):  # noqa: F811
    """One bad row refuses every row; the error names the row (from 1) and the column."""
    good = person(email="a@example.org", name="Ann Lee")
    bad = person(email="not an address", name="Bo Li")
    with pytest.raises(RowsRefused) as refused:
        imported_rows.import_rows(frame["study"], [good, bad])
    assert [(error.row, error.field) for error in refused.value.errors] == [(2, "email")]
    assert participant_count() == 0

    result = imported_rows.import_rows(frame["study"], [good, person(email="b@example.org")])
    assert (result.created, result.updated) == (2, 0)


def test_rows_repeat_the_csv_duplicate_rules(frame):  # noqa: F811
    plan = imported_rows.check_rows(frame["study"], [person(), person(name="Other")])
    assert imported_rows.row_errors(plan.problems) == [
        RowError(2, "email", "Line 1 has the same email address; each person appears once.")
    ]


def test_a_row_with_a_column_the_import_does_not_know_is_refused(frame):  # noqa: F811
    plan = imported_rows.check_rows(frame["study"], [person(), {**person(), "shoe_size": "9"}])
    assert [(p.line, p.column) for p in plan.problems] == [(2, "shoe_size")]


def test_rows_take_values_that_are_not_text(frame):  # noqa: F811
    """A phase given as the number 1 and a missing note (None) read as the CSV's "1" and ""."""
    result = imported_rows.import_rows(frame["study"], [person(phase=1, notes=None)])
    assert result.created == 1


def test_no_rows_is_an_error_about_the_whole_request(frame):  # noqa: F811
    plan = imported_rows.check_rows(frame["study"], [])
    assert [(p.line, p.column) for p in plan.problems] == [(0, "")]


def fields(frame, **changes) -> ParticipantFields:  # noqa: F811
    values = {
        "name": "Imran Iqbal",
        "email": "imran@example.org",
        "role_id": frame["tppm"].id,
        "organisation_id": frame["jcp"].id,
        "district_id": frame["north"].id,
        **changes,
    }
    return ParticipantFields(**values)


def test_a_good_participant_passes(frame):  # noqa: F811
    assert check_participant(frame["study"], fields(frame)) == []


def test_a_participant_breaks_the_same_rules_as_a_row(frame):  # noqa: F811
    interviewer_who_is_not = make_user("coordinator")
    errors = check_participant(
        frame["study"],
        fields(
            frame,
            name="",
            email="a@@example.org",
            phone="call me",
            role_id=999_999,
            district_id=123_456,
            interviewer_id=interviewer_who_is_not.id,
        ),
    )
    assert {error.field for error in errors} == {
        "name",
        "email",
        "phone",
        "role_id",
        "district_id",
        "interviewer_id",
    }


def test_a_role_must_fit_the_organisation(frame):  # noqa: F811
    errors = check_participant(frame["study"], fields(frame, organisation_id=frame["provider"].id))
    assert [error.field for error in errors] == ["role_id"]


def test_an_email_or_a_name_at_an_organisation_is_one_person(frame):  # noqa: F811
    existing = make_participant(
        frame["study"],
        district=frame["north"],
        organisation=frame["jcp"],
        role=frame["tppm"],
        name="Imran Iqbal",
        email="imran@example.org",
    )
    study = frame["study"]
    assert check_participant(study, fields(frame)) == [
        FieldError("email", f"imran@example.org is already the email of {existing.reference}.")
    ]
    assert [e.field for e in check_participant(study, fields(frame, email=""))] == ["name"]
    assert check_participant(study, fields(frame), participant=existing) == [], "itself"


@pytest.mark.parametrize(
    "address",
    [
        "plain@example.org",
        "first.last+tag@sub.example.co.uk",
        "o'connor@example.org",
        "x@example.museum",
        "Zoë@example.org",
        "user@bücher.example",
        "a_b-c=d{e}@example-domain.org",
    ],
)
def test_email_addresses_that_are_accepted(address):
    assert email_problem(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "no-at-sign.example.org",
        "two@@example.org",
        "a@b@example.org",
        ".leading.dot@example.org",
        "trailing.dot.@example.org",
        "double..dot@example.org",
        "someone@localhost",
        "someone@example",
        "someone@example.test",
        "someone@-example.org",
        "someone@example..org",
        "spaces in@example.org",
        '"quoted"@example.org',
        "someone@" + "a" * 250 + ".org",
        "@example.org",
        "someone@",
    ],
)
def test_email_addresses_that_are_refused(address):
    assert "is not an email address" in (email_problem(address) or "")
