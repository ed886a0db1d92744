"""the participant search's trigram index over one expression (issue 15): the searched columns
joined by a separator, which the planner uses where it costed an OR over four columns' index
above a scan of the table

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 19:30:00

"""
from alembic import op
import sqlalchemy as sa

SEARCHED_COLUMNS = ['name', 'email', 'reference', 'job_title']
# As PostgreSQL reflects the expression, like the model's (sampling.models.SEARCHED_TEXT_SQL).
SEARCHED_TEXT = (
    "((((((name::text || '\x01'::text) || email::text) || '\x01'::text)"
    " || reference::text) || '\x01'::text) || job_title::text)"
)


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_participant_search_trgm', table_name='participant')
    # PostgreSQL only: SQLite has no trigram index; its search tests each column.
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index(
            'ix_participant_search_text',
            'participant',
            [sa.literal_column(SEARCHED_TEXT).label('searched_text')],
            unique=False,
            postgresql_using='gin',
            postgresql_ops={'searched_text': 'public.gin_trgm_ops'},
        )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_participant_search_text', table_name='participant')
    op.create_index(
        'ix_participant_search_trgm',
        'participant',
        SEARCHED_COLUMNS,
        unique=False,
        postgresql_using='gin',
        postgresql_ops=dict.fromkeys(SEARCHED_COLUMNS, 'public.gin_trgm_ops'),
        sqlite_where=sa.text('0'),
    )
