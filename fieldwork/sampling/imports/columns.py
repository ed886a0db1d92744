"""The columns of the sample-frame import, as docs/import-format.md and the upload page list them.

Everything that reads or checks a row goes by this table: which headers are required, how long a
value may be, which columns replace a participant's field on update.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fieldwork.sampling.models import OrganisationKind

#: More rows than this is refused. Far beyond any study's frame (the Provider-Led Pathways
#: study has a few hundred people); it stops a wrong file, such as a whole staff register, from
#: holding the server for minutes. The web page's byte limit comes first (about 80,000 rows).
MAX_ROWS = 1_000_000
#: The largest upload the web page accepts (the command line has no byte limit).
MAX_FILE_BYTES = 15 * 1024 * 1024
#: How many rows the preview page shows.
PREVIEW_ROWS = 50


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the import format, as the upload page and the docs describe it."""

    name: str
    #: "Required", "Optional", or the condition under which the column is needed.
    requirement: str
    #: True when the header row must name this column.
    is_required_header: bool
    meaning: str
    allowed: str
    #: Longest value accepted (None: no limit beyond what the column's rules say).
    max_length: int | None = None


_KIND_LIST = ", ".join(kind.value for kind in OrganisationKind)

COLUMNS: list[ColumnSpec] = [
    ColumnSpec(
        "reference",
        "Optional",
        False,
        "The participant's pseudonymous reference. An existing reference updates that "
        "participant; left empty, a new person gets the next free one in their phase.",
        "Up to 30 characters, e.g. P1-017.",
        30,
    ),
    ColumnSpec(
        "name", "Required", True, "The person's full name.", "Any text, up to 200 characters.", 200
    ),
    ColumnSpec("job_title", "Optional", False, "Their job title.", "Up to 200 characters.", 200),
    ColumnSpec(
        "email",
        "Optional",
        False,
        "Their email address; an existing address (without a reference) updates that participant.",
        "A valid email address; stored in lower case.",
        254,
    ),
    ColumnSpec(
        "phone",
        "Optional",
        False,
        "Their telephone number.",
        "Digits, spaces and + ( ) . - only, up to 40 characters.",
        40,
    ),
    ColumnSpec(
        "role",
        "Required",
        True,
        "The stakeholder role they are sampled for.",
        "The name of one of the study's roles (any case); the role's kind of "
        "organisation must be the organisation's kind.",
        200,
    ),
    ColumnSpec(
        "organisation",
        "Required",
        True,
        "The organisation they work for; created if the study does not have it yet.",
        "Any name, up to 200 characters.",
        200,
    ),
    ColumnSpec(
        "organisation_kind",
        "Required for a new organisation",
        False,
        "What kind of organisation it is. For an existing organisation it must match.",
        f"One of {_KIND_LIST}, or a label such as “Lead provider” or “Jobcentre Plus”.",
        None,
    ),
    ColumnSpec(
        "lead_provider",
        "Required for a new sub-contractor",
        False,
        "The lead provider a sub-contractor works for.",
        "The name of a lead provider the study has, or one created in the same file.",
        200,
    ),
    ColumnSpec(
        "district",
        "Required",
        True,
        "The district they are sampled in; created if the study does not have it yet. "
        "The organisation is recorded as covering it.",
        "Any name, up to 200 characters.",
        200,
    ),
    ColumnSpec(
        "phase",
        "Required",
        True,
        "The district's phase. For an existing district it must be the district's phase.",
        "A phase number (1, 2, …) or a phase name (“Phase 1”) the study has.",
        None,
    ),
    ColumnSpec(
        "notes",
        "Optional",
        False,
        "Anything the team should know.",
        "Any text, line breaks allowed (quote the field), up to 10,000 characters.",
        10_000,
    ),
    ColumnSpec(
        "interviewer",
        "Optional",
        False,
        "The interviewer they are assigned to.",
        "The email address of an interviewer who can log in.",
        254,
    ),
]
COLUMNS_BY_NAME = {column.name: column for column in COLUMNS}
REQUIRED_HEADERS = [column.name for column in COLUMNS if column.is_required_header]

#: Columns whose value, when the column is present, replaces the participant's on update.
OPTIONAL_FIELDS = ("job_title", "email", "phone", "notes")


#: Columns that name a frame thing the import may create, with what the thing is called.
FRAME_NAME_COLUMNS = {
    "organisation": "organisation",
    "lead_provider": "lead provider",
    "district": "district",
}


def header_key(raw: str) -> str:
    """'Job title', 'JOB-TITLE' and ' job_title ' all name the column job_title."""
    return re.sub(r"[\s\-]+", "_", raw.strip().lower())


def clean(value: str) -> str:
    """A cell without surrounding space, its line breaks (inside quotes) as plain newlines."""
    value = value.strip()
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value
