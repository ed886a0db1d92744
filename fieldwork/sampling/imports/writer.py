"""Writing a checked plan: bulk statements in one transaction, all of it or (on error) none."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from fieldwork.accounts.models import User
from fieldwork.audit import services as audit
from fieldwork.core.time import now_utc
from fieldwork.extensions import db
from fieldwork.sampling.imports import checks, people
from fieldwork.sampling.imports.columns import OPTIONAL_FIELDS
from fieldwork.sampling.imports.plan import (
    Frame,
    FrameImportError,
    FrameUnreadable,
    ImportPlan,
    ImportResult,
    NewDistrict,
    NewOrganisation,
    PlannedRow,
)
from fieldwork.sampling.models import (
    District,
    Organisation,
    Participant,
    RecruitmentStatus,
    Study,
    organisation_district,
)

_PARTICIPANT = Participant.__table__
#: Participants sent to the database per statement: large enough that the round trips do not
#: count, small enough that memory stays flat whatever the file's size.
CHUNK_ROWS = 2_000


def import_frame(study: Study, frame: Frame, actor: User | None = None) -> ImportPlan:
    """Check `frame` and, when it has no problem, write it: two passes over the rows, the
    second writing as it checks, all in one transaction. The plan's `result` says what was
    written; a plan with problems wrote nothing (a problem found while writing rolls back)."""
    plan = checks.first_pass(study, frame)
    if plan.problems:
        if plan.frame is not None:
            people.second_pass(plan)
        return checks.settle_problems(plan)
    plan.result = _write(study, plan, actor)
    return checks.settle_problems(plan)


def _write(study: Study, plan: ImportPlan, actor: User | None) -> ImportResult | None:
    """The second pass, writing: all of it, or (on a problem: None; on a database error:
    FrameImportError) none; the import is an audit event in the same transaction (by `actor`,
    None from the CLI)."""
    try:
        writer = BulkWriter(study, plan)
        people.second_pass(plan, writer)
        if plan.problems:
            db.session.rollback()
            return None
        writer.finish()
        result = ImportResult(
            created=plan.participants_created,
            updated=plan.participants_updated,
            organisations_created=plan.organisations_created,
            districts_created=plan.districts_created,
        )
        audit.record_event(
            "import.completed",
            actor=actor,
            study_id=study.id,
            subject_type="study",
            subject_id=study.id,
            after={
                "created": result.created,
                "updated": result.updated,
                "organisations_created": result.organisations_created,
                "districts_created": result.districts_created,
            },
        )
        db.session.commit()
    except (SQLAlchemyError, FrameUnreadable) as error:
        db.session.rollback()
        raise FrameImportError(
            "The sample frame changed while the file was being imported, so nothing was "
            "imported. Upload the file again."
        ) from error
    except BaseException:
        db.session.rollback()
        raise
    return result


class BulkWriter:
    """Writes checked rows with bulk statements (executemany), a chunk at a time: new
    organisations and districts first, then participants, then lead providers and "covers"."""

    def __init__(self, study: Study, plan: ImportPlan) -> None:
        self.study = study
        self.plan = plan
        self.now = now_utc()
        self.new_people: list[dict[str, Any]] = []
        self.changed_people: list[dict[str, Any]] = []
        self.organisation_ids, self.district_ids = _write_frame_things(study, plan)
        connection = db.session.connection()
        #: PostgreSQL's COPY, in the same transaction, for new participants; else executemany.
        self.copy = (
            _ParticipantCopy(connection) if connection.dialect.name == "postgresql" else None
        )

    def add(self, row: PlannedRow, organisation: Organisation | None, district: District | None):
        """Queue one row; a full chunk is written."""
        if row.participant is not None and not row.is_changed:
            return
        values = _participant_values(
            row, self.plan.columns, self.organisation_ids, self.district_ids
        )
        if row.participant is None:
            self.new_people.append(_new_participant(self.study, row, values, self.now))
        else:
            self.changed_people.append({"id": row.participant.id, "updated_at": self.now, **values})
        if len(self.new_people) + len(self.changed_people) >= CHUNK_ROWS:
            self._flush()

    def finish(self) -> None:
        """Write what is queued, then the lead providers and links the rows settled."""
        self._flush()
        _write_links(self.plan, self.organisation_ids, self.district_ids)

    def _flush(self) -> None:
        """Core statements (executemany) on the table: no ORM bookkeeping per row."""
        if self.new_people:
            if self.copy is not None:
                self.copy(self.new_people)
            else:
                db.session.execute(insert(_PARTICIPANT), self.new_people)
            self.new_people = []
        if self.changed_people:
            # The SET clause comes from the parameters' keys; every row changes the same ones.
            db.session.execute(
                update(_PARTICIPANT).where(_PARTICIPANT.c.id == bindparam("participant_id")),
                [{"participant_id": values.pop("id"), **values} for values in self.changed_people],
            )
            self.changed_people = []


class _ParticipantCopy:
    """New participants sent with PostgreSQL's COPY on the session's own connection (so in
    the import's transaction: a later failure rolls them back with the rest). Values go
    through each column's type as an INSERT's would, and absent ones take the column's default."""

    def __init__(self, connection: Connection) -> None:
        driver_connection = connection.connection.driver_connection
        # The session's connection is checked out and live while the import writes.
        assert driver_connection is not None
        self.cursor = driver_connection.cursor()
        columns = [column for column in _PARTICIPANT.columns if column.name != "id"]
        self.names = [column.name for column in columns]
        self.defaults = {
            column.name: column.default.arg
            for column in columns
            if isinstance(column.default, ScalarElementColumnDefault)
        }
        self.processors = [
            column.type.bind_processor(connection.dialect) or _unchanged for column in columns
        ]
        self.statement = f"COPY {_PARTICIPANT.name} ({', '.join(self.names)}) FROM STDIN"

    def __call__(self, rows: list[dict[str, Any]]) -> None:
        pairs = list(zip(self.names, self.processors, strict=True))
        defaults = self.defaults
        with self.cursor.copy(self.statement) as copy:
            for row in rows:
                copy.write_row(
                    [process(row.get(name, defaults.get(name))) for name, process in pairs]
                )


def _unchanged(value: Any) -> Any:
    return value


def _write_frame_things(study: Study, plan: ImportPlan) -> tuple[dict[str, int], dict[str, int]]:
    """Create the new organisations and districts. Returns the ids of every organisation and
    district of the study, by lower-case name."""
    assert plan.lookups is not None
    if plan.new_organisations:
        db.session.execute(
            insert(Organisation),
            [
                {"study_id": study.id, "name": new.name, "kind": new.kind, "notes": ""}
                for new in plan.new_organisations.values()
            ],
        )
    if plan.new_districts:
        db.session.execute(
            insert(District),
            [
                {
                    "study_id": study.id,
                    "name": new.name,
                    "phase_id": new.phase.id,
                    "is_placeholder": False,
                    "source": "",
                }
                for new in plan.new_districts.values()
            ],
        )
    organisation_ids = {key: thing.id for key, thing in plan.lookups.organisations.items()}
    organisation_ids.update(_ids_of_new(Organisation, study, plan.new_organisations))
    district_ids = {key: thing.id for key, thing in plan.lookups.districts.items()}
    district_ids.update(_ids_of_new(District, study, plan.new_districts))
    return organisation_ids, district_ids


def _write_links(
    plan: ImportPlan, organisation_ids: dict[str, int], district_ids: dict[str, int]
) -> None:
    """Record each sub-contractor's lead provider and each new "covers" link."""
    lead_providers = [
        (key, new.lead_provider_key)
        for key, new in plan.new_organisations.items()
        if new.lead_provider_key
    ] + list(plan.lead_provider_updates.items())
    if lead_providers:
        db.session.execute(
            update(Organisation),
            [
                {"id": organisation_ids[key], "lead_provider_id": organisation_ids[lead_key]}
                for key, lead_key in lead_providers
            ],
        )
    if plan.new_links:
        db.session.execute(
            insert(organisation_district),
            [
                {"organisation_id": organisation_ids[org_key], "district_id": district_ids[key]}
                for org_key, key in sorted(plan.new_links)
            ],
        )


def _participant_values(
    row: PlannedRow,
    columns: frozenset[str],
    organisation_ids: dict[str, int],
    district_ids: dict[str, int],
) -> dict[str, Any]:
    """The fields a row sets: the required ones, and the optional ones the file has."""
    assert row.role is not None  # checked: a row without a role is a problem
    values: dict[str, Any] = {
        "name": row.name,
        "role_id": row.role.id,
        "organisation_id": organisation_ids[row.organisation_key],
        "district_id": district_ids[row.district_key],
    }
    values.update({name: getattr(row, name) for name in OPTIONAL_FIELDS if name in columns})
    if "interviewer" in columns:
        values["interviewer_id"] = row.interviewer_id
    return values


def _new_participant(
    study: Study, row: PlannedRow, values: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    return {
        "study_id": study.id,
        "reference": row.reference,
        "status": RecruitmentStatus.IDENTIFIED,
        "created_at": now,
        "updated_at": now,
        **values,
    }


def _ids_of_new(
    model: type[Organisation] | type[District],
    study: Study,
    created: dict[str, NewOrganisation] | dict[str, NewDistrict],
) -> dict[str, int]:
    """The ids of the organisations or districts just inserted, by key (one query)."""
    if not created:
        return {}
    names = {new.name: key for key, new in created.items()}
    rows = db.session.execute(select(model.name, model.id).where(model.study_id == study.id))
    return {names[name]: row_id for name, row_id in rows if name in names}
