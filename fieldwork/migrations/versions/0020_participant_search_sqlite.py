"""SQLite's participant search index (issue 15): an FTS5 table with the trigram tokenizer over
the searched columns, external content read from the participant table, kept by triggers;
filled from the rows already there. PostgreSQL has its trigram index (0018) and gets nothing.

A later migration that rebuilds the participant table on SQLite (a batch ALTER copies it to a
new table and drops the old one, and its triggers with it) must create the triggers again:
tests/sampling/test_search_index.py checks them at the head revision.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 00:30:00

"""
from alembic import op

# A copy of sampling.models.SQLITE_SEARCH_INDEX_DDL as it stood at this revision.
CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS participant_search USING fts5("
    "name, email, reference, job_title, content='participant', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS participant_search_insert AFTER INSERT ON participant BEGIN "
    "INSERT INTO participant_search(rowid, name, email, reference, job_title) "
    "VALUES (new.id, new.name, new.email, new.reference, new.job_title); END",
    "CREATE TRIGGER IF NOT EXISTS participant_search_delete AFTER DELETE ON participant BEGIN "
    "INSERT INTO participant_search(participant_search, rowid, name, email, reference, "
    "job_title) VALUES ('delete', old.id, old.name, old.email, old.reference, old.job_title); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS participant_search_update "
    "AFTER UPDATE OF name, email, reference, job_title ON participant BEGIN "
    "INSERT INTO participant_search(participant_search, rowid, name, email, reference, "
    "job_title) VALUES ('delete', old.id, old.name, old.email, old.reference, old.job_title); "
    "INSERT INTO participant_search(rowid, name, email, reference, job_title) "
    "VALUES (new.id, new.name, new.email, new.reference, new.job_title); END",
)


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    for statement in CREATE:
        op.execute(statement)
    # Index the participants already there.
    op.execute("INSERT INTO participant_search(participant_search) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.execute('DROP TRIGGER IF EXISTS participant_search_insert')
    op.execute('DROP TRIGGER IF EXISTS participant_search_delete')
    op.execute('DROP TRIGGER IF EXISTS participant_search_update')
    op.execute('DROP TABLE IF EXISTS participant_search')
