"""Cells a spreadsheet would run as a formula are written as text (fieldwork.core.spreadsheet)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from fieldwork.core import spreadsheet

HOSTILE = [
    '=HYPERLINK("https://attacker.example","Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\uff1dSUM(A1)",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_could_start_a_formula_gets_a_leading_quote(text):
    assert spreadsheet.neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["North", "Phase 1", "", "a=b", "O'Brien", "3 + 4", "Jane Smith, evil@x"]
)
def test_ordinary_text_is_left_alone(value):
    assert spreadsheet.neutralise(value) == value


@pytest.mark.parametrize(
    "value", [-3, 0, 12, -0.25, Decimal("-1.5"), True, None, dt.date(2008, 4, 28)]
)
def test_numbers_dates_booleans_and_missing_values_pass_unchanged(value):
    """Typed numbers stay numbers, so a negative figure is still a number to compute with."""
    assert spreadsheet.neutralise(value) is value


def test_a_number_held_as_text_is_neutralised_because_text_columns_hold_typing():
    assert spreadsheet.neutralise("-3") == "'-3"


def test_the_writers_neutralise_every_cell_and_the_file_reads_back():
    buffer = io.StringIO(newline="")
    writer = spreadsheet.writer(buffer)
    writer.writerow(["name", "count"])
    writer.writerows([['=HYPERLINK("x")', -3], ['Acme, "Ltd"\n=1', 4]])
    rows = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert rows == [["name", "count"], ['\'=HYPERLINK("x")', "-3"], ['Acme, "Ltd"\n=1', "4"]]

    buffer = io.StringIO(newline="")
    writer = spreadsheet.dict_writer(buffer, fieldnames=["name", "note", "count"])
    writer.writeheader()
    writer.writerow({"name": "@evil", "count": -1})
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue(), newline="")))
    assert rows == [{"name": "'@evil", "note": "", "count": "-1"}]


@pytest.mark.parametrize("name", ["=North", "+44 office", "-North", "@home"])
def test_frame_names_starting_a_formula_are_refused_with_a_reason(name):
    message = spreadsheet.refuse_formula_name(name, "district")
    assert message and name[0] in message and "district" in message


@pytest.mark.parametrize("name", ["North", "", "1st district", "Ærø"])
def test_other_frame_names_are_accepted(name):
    assert spreadsheet.refuse_formula_name(name, "district") is None
