"""The open-data export: a study's fieldwork record as a Frictionless (Tabular) Data Package.

A package is built in two steps that know nothing of Flask: `build_package(study, ...)` reads
the database (one query per resource, ordered by stable keys) into a `DataPackage` of tables
with their Table Schemas, and `DataPackage.files()` turns it into bytes (CSV with the stdlib
`csv` module through `fieldwork.core.spreadsheet`, JSON with `json`), which `write_directory`
and `write_zip` store.

Anonymity rules, applied here and nowhere else:

* No name, email, phone, job title, note, typed signature, place, link or free-text reason of a
  participant is ever selected; participants appear only by their pseudonymous reference.
* Person-level resources (participants, contact attempts, appointments, consents, consent
  answers) hold only participants whose latest consent to each form they answered is not
  withdrawn, and agrees to archiving where the form asks (a re-consent that declines archiving
  excludes them); the package says how many were left out and why. Aggregate resources
  (coverage) count all.
* The participants file carries only the quasi-identifiers the study chose (role, phase,
  district, organisation kind, organisation), after the disclosure check of
  `fieldwork.exports.disclosure` (minimum cell size k): generalised or suppressed where a
  combination would describe fewer than k people.
* Dates are calendar dates in the study's time zone, optionally coarsened to the Monday of
  their ISO week or the first day of their month; times of day are never exported.

Determinism: the same database gives byte-identical files. Rows are ordered by stable keys,
JSON keys are written in a fixed order, and the package's `created` date is the latest date
in the exported records (or one the caller pins), never the time of the export.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldwork.core.time import now_utc
from fieldwork.exports import frame_resources, record_resources
from fieldwork.exports.consent_scope import archivable_participants, exclusions_of
from fieldwork.exports.models import ExportSettings
from fieldwork.exports.package import DataPackage, DatePrecision, Table
from fieldwork.extensions import db
from fieldwork.sampling.models import (
    Study,
)


def build_package(
    study: Study,
    precision: DatePrecision | str = DatePrecision.DAY,
    created: dt.datetime | None = None,
    settings: ExportSettings | None = None,
) -> DataPackage:
    """Read the study's record into a package. `created` pins the package's date; without it
    the date is that of the latest exported record, so re-exporting changes nothing.
    `settings` (by default the study's own) say which quasi-identifiers the participants
    file may carry and the minimum cell size."""
    from fieldwork.exports import codebook, coverage_resources, pipeline_resources

    settings = settings or settings_for(study)

    precision = DatePrecision(precision)
    exclusions = exclusions_of(study)
    frame, disclosure = frame_resources.build(study, settings)
    tables = [*frame, *record_resources.build(study, ZoneInfo(study.timezone), precision)]
    tables.extend(coverage_resources.build(study, created or now_utc()))
    tables.extend(pipeline_resources.build(study, archivable_participants(study), precision))
    if created is None:
        latest = _latest_date(tables)
        created = (
            dt.datetime.combine(latest, dt.time(), tzinfo=dt.UTC) if latest is not None else None
        )
    package = DataPackage(
        study=study,
        precision=precision,
        tables=tables,
        exclusions=exclusions,
        created=created,
        disclosure=disclosure,
    )
    package.readme = codebook.render(package)
    return package


def _latest_date(tables: Iterable[Table]) -> dt.date | None:
    """The latest date in the person-level tables: what `created` defaults to."""
    latest: dt.date | None = None
    for table in tables:
        if not table.is_person_level:
            continue
        positions = [i for i, f in enumerate(table.fields) if f.type == "date"]
        for row in table.rows:
            for position in positions:
                value = row[position]
                if value is not None and (latest is None or value > latest):
                    latest = value
    return latest


def settings_for(study: Study) -> ExportSettings:
    """The study's export settings, or the defaults (not saved) when it has none."""
    found = db.session.scalar(select(ExportSettings).where(ExportSettings.study_id == study.id))
    if found is not None:
        return found
    from fieldwork.exports.models import DEFAULT_INCLUDED, DEFAULT_MIN_CELL_SIZE, QUASI_IDENTIFIERS

    return ExportSettings(
        study_id=study.id,
        min_cell_size=DEFAULT_MIN_CELL_SIZE,
        **{f"include_{name}": name in DEFAULT_INCLUDED for name in QUASI_IDENTIFIERS},
    )
