"""pipeline report (issue 17, after-interview pipeline and weekly report)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 11:45:00

"""
from alembic import op
import sqlalchemy as sa

import fieldwork.core.time


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
