"""The shape of the open-data export: tables with their Table Schemas, the package, its files.

Nothing here reads the database: `fieldwork.exports.datapackage` fills a `DataPackage`, whose
`files()` turns it into bytes (CSV through `fieldwork.core.spreadsheet`, JSON with `json`) that
`write_directory` and `write_zip` store. Determinism: the same package gives byte-identical
files (rows in the order given, JSON keys in a fixed order, fixed zip timestamps).
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import json
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any
from zoneinfo import ZoneInfo

from fieldwork.core import spreadsheet
from fieldwork.exports.disclosure import DisclosureResult
from fieldwork.sampling.models import (
    Study,
)

#: The consent item whose agreement lets a participant's records into the package.
ARCHIVING_ITEM = "archiving"
#: Where the codebook goes in the package.
README_PATH = "README.md"
#: The CSV dialect every resource is written in (RFC 4180), declared in each resource.
DIALECT: dict[str, Any] = {
    "delimiter": ",",
    "doubleQuote": True,
    "header": True,
    "lineTerminator": "\r\n",
    "quoteChar": '"',
}
#: A fixed timestamp for zip members, so two zips of the same package are identical.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


class DatePrecision(enum.StrEnum):
    """How exact the dates of person-level events are in the export."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @property
    def label(self) -> str:
        return {
            "day": "Exact day",
            "week": "Week (the Monday of the ISO week)",
            "month": "Month (the first day of the month)",
        }[self.value]

    @property
    def meaning(self) -> str:
        """How a reader should take a date of this precision, for descriptions."""
        return {
            "day": "the calendar day",
            "week": "the Monday of the ISO week (coarsened: the exact day is not given)",
            "month": "the first day of the month (coarsened: the exact day is not given)",
        }[self.value]


def coarsen(day: dt.date | None, precision: DatePrecision) -> dt.date | None:
    """The date as exact as `precision` allows: the day, its week's Monday, or its month's 1st."""
    if day is None:
        return None
    if precision == DatePrecision.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if precision == DatePrecision.MONTH:
        return day.replace(day=1)
    return day


@dataclass(frozen=True)
class Field:
    """One column of a table, as its Table Schema field descriptor says."""

    name: str
    type: str
    description: str
    constraints: dict[str, Any] = field(default_factory=dict)
    title: str = ""

    def descriptor(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.title:
            out["title"] = self.title
        out["type"] = self.type
        if self.type == "boolean":
            out["trueValues"] = ["true"]
            out["falseValues"] = ["false"]
        out["description"] = self.description
        if self.constraints:
            out["constraints"] = self.constraints
        return out


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]

    def descriptor(self) -> dict[str, Any]:
        return {
            "fields": list(self.fields),
            "reference": {"resource": self.resource, "fields": list(self.reference_fields)},
        }


@dataclass
class Table:
    """A tabular resource: its schema and its rows (tuples in field order)."""

    name: str
    title: str
    description: str
    fields: list[Field]
    primary_key: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    foreign_keys: tuple[ForeignKey, ...] = ()
    #: True for a resource about individual people (filtered by consent to archiving).
    is_person_level: bool = False

    @property
    def path(self) -> str:
        return f"data/{self.name}.csv"

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "fields": [f.descriptor() for f in self.fields],
            "missingValues": [""],
            "primaryKey": list(self.primary_key),
        }
        if self.foreign_keys:
            schema["foreignKeys"] = [fk.descriptor() for fk in self.foreign_keys]
        return schema

    def descriptor(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "profile": "tabular-data-resource",
            "path": self.path,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": dict(DIALECT),
            "schema": self.schema(),
        }

    def csv_bytes(self) -> bytes:
        buffer = io.StringIO(newline="")
        writer = spreadsheet.writer(
            buffer, delimiter=",", quotechar='"', doublequote=True, lineterminator="\r\n"
        )
        writer.writerow(self.field_names)
        for row in self.rows:
            # Numbers stay numbers (typed columns); text that could run as a formula in a
            # spreadsheet is quoted first (fieldwork.core.spreadsheet).
            writer.writerow([_cell(spreadsheet.neutralise(value)) for value in row])
        return buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    """A value as its CSV text: empty for missing, lower-case booleans, ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


@dataclass(frozen=True)
class Exclusions:
    """How many participants of the frame are in the person-level resources, and why not."""

    in_frame: int
    included: int
    no_consent_recorded: int
    consent_withdrawn: int
    did_not_agree_to_archiving: int

    @property
    def left_out(self) -> int:
        return self.in_frame - self.included

    def descriptor(self) -> dict[str, int]:
        return {
            "participantsInFrame": self.in_frame,
            "participantsIncluded": self.included,
            "participantsLeftOut": self.left_out,
            "leftOutNoConsentRecorded": self.no_consent_recorded,
            "leftOutConsentWithdrawn": self.consent_withdrawn,
            "leftOutDidNotAgreeToArchiving": self.did_not_agree_to_archiving,
        }


@dataclass
class DataPackage:
    """A built package: its tables, the counts of who was left out, and its codebook."""

    study: Study
    precision: DatePrecision
    tables: list[Table]
    exclusions: Exclusions
    created: dt.datetime | None
    disclosure: DisclosureResult | None = None
    readme: str = ""

    @property
    def name(self) -> str:
        return f"fieldwork-{self.study.slug}".lower()

    def table(self, name: str) -> Table:
        return next(table for table in self.tables if table.name == name)

    def descriptor(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "profile": "data-package",
            "name": self.name,
            "title": f"Fieldwork record: {self.study.name}",
            "description": (
                f"The anonymised fieldwork record of the study {self.study.name!r}: the sample "
                "frame (phases, districts, organisations, roles), the participants by "
                "pseudonymous reference, their contact attempts, appointments and consents, "
                "and the quotas and their coverage. Participants whose current consent does "
                "not agree to archiving are left out of the person-level resources: "
                f"{self.exclusions.left_out} of {self.exclusions.in_frame} were left out. "
                f"Dates are {self.precision.meaning}, in the time zone {self.study.timezone}. "
                f"See {README_PATH} for the codebook."
            ),
        }
        if self.created is not None:
            out["created"] = self.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        out["keywords"] = ["qualitative research", "fieldwork", "interviews", "paradata"]
        out["fieldwork"] = {
            "study": self.study.slug,
            "timezone": self.study.timezone,
            "datePrecision": self.precision.value,
            "consentItemForArchiving": ARCHIVING_ITEM,
            **self.exclusions.descriptor(),
        }
        if self.disclosure is not None:
            out["fieldwork"]["disclosureControl"] = self.disclosure.descriptor()
        out["resources"] = [
            {
                "name": "readme",
                "title": "Codebook",
                "description": "What each resource, field, code and rate means (Markdown).",
                "path": README_PATH,
                "format": "md",
                "mediatype": "text/markdown",
                "encoding": "utf-8",
            },
            *(table.descriptor() for table in self.tables),
        ]
        return out

    def files(self) -> dict[str, bytes]:
        """Every file of the package by its path inside the package, in a stable order."""
        descriptor = json.dumps(self.descriptor(), indent=2, ensure_ascii=False) + "\n"
        out = {"datapackage.json": descriptor.encode("utf-8"), README_PATH: self.readme.encode()}
        for table in self.tables:
            out[table.path] = table.csv_bytes()
        return out


def write_directory(package: DataPackage, directory: str | os.PathLike) -> list[str]:
    """Write the package's files under `directory` (created if need be); the paths written."""
    written = []
    for path, content in package.files().items():
        target = os.path.join(directory, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(content)
        written.append(target)
    return written


def write_zip(package: DataPackage, target: IO[bytes]) -> None:
    """Write the package as a zip whose members sit under one folder named after the package.

    Member times and permissions are fixed, so the same package gives the same bytes.
    """
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in package.files().items():
            info = zipfile.ZipInfo(f"{package.name}/{path}", date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)


# Field helpers: the same wording wherever the same thing appears.


def reference_field() -> Field:
    return Field(
        "participant_reference",
        "string",
        "The participant's pseudonymous reference (see participants).",
        {"required": True},
        "Participant",
    )


def id_field(name: str, what: str, title: str = "") -> Field:
    """A table's own key column, numbered as in the database."""
    return Field(
        name,
        "integer",
        f"The {what}'s identifier in this package.",
        {"required": True, "unique": True},
        title,
    )


def count_field(name: str, description: str, *, required: bool = True) -> Field:
    """A whole number from 0 up: a count or a length."""
    constraints: dict[str, Any] = {"required": True, "minimum": 0} if required else {"minimum": 0}
    return Field(name, "integer", description, constraints)


def ordinal_field(name: str, description: str) -> Field:
    """A whole number from 1 up: a place in an order (1 first)."""
    return Field(name, "integer", description, {"required": True, "minimum": 1})


def date_field(name: str, what: str, precision: DatePrecision, required: bool = False) -> Field:
    constraints = {"required": True} if required else {}
    return Field(name, "date", f"{what}: {precision.meaning}.", constraints)


def enum_field(name: str, description: str, values: Iterable[enum.Enum], required=True) -> Field:
    constraints: dict[str, Any] = {"enum": [v.value for v in values]}
    if required:
        constraints["required"] = True
    return Field(name, "string", description, constraints)


def local_day(value: dt.datetime | None, zone: ZoneInfo, precision: DatePrecision):
    if value is None:
        return None
    return coarsen(value.astimezone(zone).date(), precision)
