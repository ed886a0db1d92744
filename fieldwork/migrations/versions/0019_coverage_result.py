"""coverage results shared by every worker (issue 15: one computation per change)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 19:15:00

"""
from alembic import op
import sqlalchemy as sa
import fieldwork.core.time


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coverage_result',
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.Column('claim', sa.BigInteger(), nullable=False),
    sa.Column('claimed_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=True),
    sa.Column('made_at', fieldwork.core.time.UTCDateTime(), nullable=True),
    sa.Column('holds_until', fieldwork.core.time.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_coverage_result_study_id_study'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('study_id', 'kind', name=op.f('pk_coverage_result'))
    )


def downgrade():
    op.drop_table('coverage_result')
