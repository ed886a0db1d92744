"""study revision tokens (issue 15: the coverage cache)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 15:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('study_revision',
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_study_revision_study_id_study'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('study_id', name=op.f('pk_study_revision'))
    )


def downgrade():
    op.drop_table('study_revision')
