"""participant booking (issue 14 (participant-facing booking, consent, email))

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 11:45:00

"""
from alembic import op
import sqlalchemy as sa

import fieldwork.core.time


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
