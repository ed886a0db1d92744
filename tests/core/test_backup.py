"""Backup and restore: a round trip gives back every row, on SQLite and PostgreSQL."""

import gzip
import json

import pytest
import sqlalchemy as sa

from fieldwork.core.backup import BackupError, restore_backup, write_backup
from fieldwork.demo import load_demo_study
from fieldwork.extensions import db
from fieldwork.sampling.models import Organisation, Participant
from tests.factories import make_user


def _snapshot() -> dict[str, list]:
    """Every table's rows, in primary-key order."""
    tables = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        tables[table.name] = [
            tuple(row) for row in db.session.execute(sa.select(table).order_by(*order))
        ]
    db.session.rollback()
    return tables


def _rows(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_round_trip_restores_every_row_exactly(app, tmp_path):
    load_demo_study()
    before = _snapshot()
    assert sum(len(rows) for rows in before.values()) > 500
    summary = write_backup(tmp_path / "backup.gz")
    assert summary.rows["participant"] == len(before["participant"])

    db.session.execute(sa.delete(Participant).where(Participant.id % 2 == 0))
    db.session.commit()
    assert _snapshot() != before

    restored = restore_backup(tmp_path / "backup.gz")
    assert restored.rows == summary.rows
    assert _snapshot() == before


def test_restored_database_keeps_working_and_issues_new_ids(app, tmp_path):
    """On PostgreSQL the id sequences continue past the restored rows."""
    load_demo_study()
    write_backup(tmp_path / "backup.gz")
    restore_backup(tmp_path / "backup.gz")
    highest = db.session.scalar(sa.select(sa.func.max(Organisation.id)))
    user = make_user()
    assert user.id is not None
    organisation = Organisation(
        study_id=db.session.scalar(sa.select(Organisation.study_id)), name="Brand new", kind="other"
    )
    db.session.add(organisation)
    db.session.commit()
    assert organisation.id > highest


def test_sub_contractors_naming_a_later_lead_provider_restore(app, tmp_path):
    """Self-references are restored whatever the order of the ids."""
    from tests.factories import make_organisation, make_study

    study = make_study()
    sub = make_organisation(study, "Sub", "subcontractor")
    lead = make_organisation(study, "Lead", "lead_provider")
    sub.lead_provider_id = lead.id
    db.session.commit()
    write_backup(tmp_path / "b.gz")
    restore_backup(tmp_path / "b.gz")
    assert db.session.get(Organisation, sub.id).lead_provider_id == lead.id


def test_a_damaged_or_foreign_file_is_refused_and_changes_nothing(app, tmp_path):
    load_demo_study()
    before = _snapshot()
    write_backup(tmp_path / "good.gz")
    lines = _rows(tmp_path / "good.gz")

    cut = tmp_path / "cut.gz"
    with gzip.open(cut, "wt", encoding="utf-8") as handle:
        for line in lines[: len(lines) // 2]:
            handle.write(json.dumps(line) + "\n")
    with pytest.raises(BackupError, match="cut short"):
        restore_backup(cut)
    db.session.rollback()

    foreign = tmp_path / "foreign.gz"
    with gzip.open(foreign, "wt") as handle:
        handle.write('{"hello": "world"}\n')
    with pytest.raises(BackupError, match="not a Fieldwork backup"):
        restore_backup(foreign)

    plain = tmp_path / "plain.txt"
    plain.write_text("not gzip")
    with pytest.raises(BackupError):
        restore_backup(plain)
    db.session.rollback()
    assert _snapshot() == before


def test_a_backup_at_another_schema_revision_is_refused(app, tmp_path):
    write_backup(tmp_path / "b.gz")
    lines = _rows(tmp_path / "b.gz")
    lines[0]["revision"] = "9999"
    with gzip.open(tmp_path / "other.gz", "wt") as handle:
        handle.writelines(json.dumps(line) + "\n" for line in lines)
    with pytest.raises(BackupError, match="revision"):
        restore_backup(tmp_path / "other.gz")


def test_backup_and_restore_commands(runner, app, tmp_path):
    load_demo_study()
    path = str(tmp_path / "cli.gz")
    result = runner.invoke(args=["backup", path])
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output
    refused = runner.invoke(args=["restore", path], input="n\n")
    assert refused.exit_code != 0
    result = runner.invoke(args=["restore", path, "--yes"])
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    (tmp_path / "junk.gz").write_bytes(b"junk")
    bad = runner.invoke(args=["restore", str(tmp_path / "junk.gz"), "--yes"])
    assert bad.exit_code != 0
    assert "cannot read" in bad.output
