"""indexes for the lists (issue 15): a trigram index for the participant search on
PostgreSQL, the outbox newest first

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 16:00:00

"""
from alembic import op
import sqlalchemy as sa

SEARCHED_COLUMNS = ['name', 'email', 'reference', 'job_title']


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public')
    # On SQLite the index is declared empty (WHERE 0): SQLite has no trigram index.
    op.create_index(
        'ix_participant_search_trgm',
        'participant',
        SEARCHED_COLUMNS,
        unique=False,
        postgresql_using='gin',
        postgresql_ops=dict.fromkeys(SEARCHED_COLUMNS, 'public.gin_trgm_ops'),
        sqlite_where=sa.text('0'),
    )
    op.create_index(
        'ix_outbox_message_created', 'outbox_message', ['created_at', 'id'], unique=False
    )


def downgrade():
    op.drop_index('ix_outbox_message_created', table_name='outbox_message')
    op.drop_index('ix_participant_search_trgm', table_name='participant')
