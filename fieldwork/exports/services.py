"""Exporting a study: which study, how coarse the dates, and where the package goes."""

from __future__ import annotations

import datetime as dt
import io
import os

from fieldwork.accounts.models import User
from fieldwork.core.transactions import transaction
from fieldwork.exports.datapackage import build_package, settings_for
from fieldwork.exports.models import QUASI_IDENTIFIERS, ExportSettings
from fieldwork.exports.package import DataPackage, DatePrecision, write_directory, write_zip
from fieldwork.extensions import db
from fieldwork.sampling import services as sampling
from fieldwork.sampling.models import Study


class ExportError(ValueError):
    """An export that cannot be made; the message is for the user."""


def study_to_export(slug: str | None) -> Study:
    """The study named by `slug`, else the only study; an ExportError says what to do."""
    try:
        return sampling.study_for_command(slug, none_yet="There is no study to export yet.")
    except sampling.StudyChoiceError as error:
        raise ExportError(str(error)) from None


def export_to_directory(
    study: Study,
    directory: str | os.PathLike,
    precision: DatePrecision | str = DatePrecision.DAY,
    created: dt.datetime | None = None,
) -> DataPackage:
    """Build the study's package and write it under `directory`."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ExportError(f"{os.fspath(directory)} exists and is not a folder.")
    package = build_package(study, precision, created)
    write_directory(package, directory)
    return package


def zip_name(study: Study, precision: DatePrecision | str) -> str:
    """The download's file name, e.g. fieldwork-pl-pathways-week.zip."""
    return f"fieldwork-{study.slug}-{DatePrecision(precision).value}.zip"


def export_zip(study: Study, precision: DatePrecision | str = DatePrecision.DAY) -> io.BytesIO:
    """The study's package as a zip in memory (a study's record is small), rewound."""
    buffer = io.BytesIO()
    write_zip(build_package(study, precision), buffer)
    buffer.seek(0)
    return buffer


def download_zip(study: Study, precision: DatePrecision | str, actor: User) -> io.BytesIO:
    """`export_zip` for a person downloading it, with the audit event that says so. Commits."""
    from fieldwork.audit import services as audit

    archive = export_zip(study, precision)
    with transaction():
        audit.record_event(
            "export.downloaded",
            actor=actor,
            study_id=study.id,
            subject_type="study",
            subject_id=study.id,
            after={"what": "the open-data export", "dates": DatePrecision(precision).value},
        )
    return archive


def save_settings(study: Study, included: list[str], min_cell_size: int, actor=None) -> None:
    """Store what the study's participants file may carry and its k. Commits."""
    from fieldwork.audit import services as audit

    if not 1 <= min_cell_size <= 100:
        raise ExportError("The fewest people a combination may describe is from 1 to 100.")
    unknown = set(included) - set(QUASI_IDENTIFIERS)
    if unknown:
        raise ExportError(f"Unknown attributes: {', '.join(sorted(unknown))}.")
    settings = settings_for(study)
    before = {"included": list(settings.included), "min_cell_size": settings.min_cell_size}
    if settings.id is None:
        db.session.add(settings)
    settings.min_cell_size = min_cell_size
    for name in QUASI_IDENTIFIERS:
        setattr(settings, f"include_{name}", name in included)
    audit.record_event(
        "export.settings_changed",
        actor=actor,
        study_id=study.id,
        subject_type="study",
        subject_id=study.id,
        before=before,
        after={"included": list(settings.included), "min_cell_size": min_cell_size},
    )
    db.session.commit()


def current_settings(study: Study) -> ExportSettings:
    return settings_for(study)
