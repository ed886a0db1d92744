"""CSV that a spreadsheet opens as text, never as a formula (CSV or "formula" injection).

Spreadsheets (Excel, LibreOffice Calc, Google Sheets) treat a cell whose text begins with
``=``, ``+``, ``-`` or ``@`` as a formula, and a leading tab or carriage return can hide such a
character from a quick look; a formula can open links, read other cells or, in older Excel
versions, start programs (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``). Following OWASP's
guidance on CSV injection, every CSV the tool writes goes through `neutralise`, which puts a
single quote in front of such a text, so the spreadsheet shows the text and runs nothing.

Decision on numbers: values that are numbers in Python (int, float, Decimal; not bool) are
written unchanged, so a negative count or difference stays a number (``-3``) that a
spreadsheet can compute with. A string is neutralised even when it looks like a number: a
string column holds what people typed, and only the code knows which columns are numeric. So
callers pass numbers as numbers (the open-data export and coverage.csv do).

Frame names (studies, phases, districts, organisations, roles) that begin with one of these
characters are refused where they are entered (`refuse_formula_name`), so they never need a
quote in the first place; `neutralise` is the second line for everything else (people's names,
notes, and anything written before that rule existed).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

#: Characters that make a spreadsheet read a cell as a formula (OWASP: = + - @ tab CR), with
#: line feed and the full-width forms that some spreadsheets fold to the ASCII ones.
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
#: Characters a frame name may not begin with (what a person could type in a name field).
NAME_FORMULA_STARTS = frozenset("=+-@")
#: The prefix that makes a spreadsheet show a cell as text.
TEXT_PREFIX = "'"


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could read `text` as a formula (or hide one behind whitespace)."""
    return text.lstrip(" ")[:1] in FORMULA_STARTS or text[:1] in FORMULA_STARTS


def neutralise(value: Any) -> Any:
    """`value` made safe for a CSV cell: a text that could run as a formula gets a leading
    single quote; numbers, dates, booleans and None pass unchanged (see the module docstring)."""
    if isinstance(value, str) and is_formula_like(value):
        return TEXT_PREFIX + value
    return value


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of a row through `neutralise`."""
    return [neutralise(value) for value in row]


class SafeWriter:
    """`csv.writer` whose rows go through `neutralise` (same dialect keywords)."""

    def __init__(self, stream: TextIO, **dialect: Any) -> None:
        dialect.setdefault("lineterminator", "\r\n")
        self._writer = csv.writer(stream, **dialect)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(neutralise_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """`csv.DictWriter` whose values (and header) go through `neutralise`."""

    def __init__(self, stream: TextIO, fieldnames: list[str], **dialect: Any) -> None:
        dialect.setdefault("lineterminator", "\r\n")
        self.fieldnames = list(fieldnames)
        self._writer = csv.writer(stream, **dialect)

    def writeheader(self) -> Any:
        return self._writer.writerow(neutralise_row(self.fieldnames))

    def writerow(self, row: Mapping[str, Any]) -> Any:
        return self._writer.writerow(neutralise_row(row.get(name) for name in self.fieldnames))

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: TextIO, **dialect: Any) -> SafeWriter:
    """A CSV writer that neutralises formulas: use it instead of `csv.writer`."""
    return SafeWriter(stream, **dialect)


def dict_writer(stream: TextIO, fieldnames: list[str], **dialect: Any) -> SafeDictWriter:
    """A CSV dict writer that neutralises formulas: use it instead of `csv.DictWriter`."""
    return SafeDictWriter(stream, fieldnames, **dialect)


def refuse_formula_name(name: str, what: str) -> str | None:
    """Why a frame name cannot be used (it would start a formula in a spreadsheet), or None."""
    if name[:1] in NAME_FORMULA_STARTS:
        return (
            f"A {what}'s name cannot begin with {name[0]} (spreadsheets read such text as "
            "a formula): start it with a letter or a digit."
        )
    return None


__all__ = [
    "FORMULA_STARTS",
    "dict_writer",
    "is_formula_like",
    "neutralise",
    "neutralise_row",
    "refuse_formula_name",
    "writer",
]
