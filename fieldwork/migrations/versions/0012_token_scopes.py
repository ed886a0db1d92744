"""API token scopes (issue 16: read, or read and write)

Tokens issued before scopes existed could write; they keep the write scope so nothing breaks.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 15:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.Enum('read', 'write', name='tokenscope', native_enum=False, length=10), server_default='write', nullable=False))


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('scope')
