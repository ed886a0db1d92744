"""working day tools (issue 13, booking slots, calendar, bulk actions, templates, users, audit)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 11:45:00

"""
from alembic import op
import sqlalchemy as sa

import fieldwork.core.time


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
