"""Outbox and reminders ready for fast sweeps (issue 15)

outbox_message.has_secrets: whether a stored message holds a private link, so sending parses
only those (messages queued before this are marked as holding one and checked as before).
reminder.prepared_email: the email written when the reminder was planned, so the sweep only
queues it (reminders planned before this have none and are written at their time, as before).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('has_secrets', sa.Boolean(), server_default=sa.true(), nullable=False))

    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prepared_email', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_column('prepared_email')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('has_secrets')
