"""Each participant's latest contact attempt is marked, for the follow-ups; appointments are
indexed by status, for the home pages (issue 15)

contact_attempt.is_latest: true on each participant's latest attempt (latest attempted_at,
then id), kept by the recruitment service in the transaction that logs an attempt; backfilled
here. ix_contact_attempt_latest_due: the follow-ups list in its order, over those rows only.
ix_appointment_study_status_starts: the home pages' appointment lists by status in time order.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 19:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contact_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_latest', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.execute(
        sa.text(
            "UPDATE contact_attempt SET is_latest = (id = ("
            "SELECT newer.id FROM contact_attempt AS newer"
            " WHERE newer.participant_id = contact_attempt.participant_id"
            " ORDER BY newer.attempted_at DESC, newer.id DESC LIMIT 1))"
        )
    )
    op.create_index(
        'ix_contact_attempt_latest_due',
        'contact_attempt',
        ['next_action_on', 'attempted_at', 'id'],
        unique=False,
        postgresql_where=sa.text('is_latest AND next_action_on IS NOT NULL'),
        sqlite_where=sa.text('is_latest = 1 AND next_action_on IS NOT NULL'),
    )
    op.create_index(
        'ix_appointment_study_status_starts',
        'appointment',
        ['study_id', 'status', 'starts_at'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_appointment_study_status_starts', table_name='appointment')
    op.drop_index(
        'ix_contact_attempt_latest_due',
        table_name='contact_attempt',
        postgresql_where=sa.text('is_latest AND next_action_on IS NOT NULL'),
        sqlite_where=sa.text('is_latest = 1 AND next_action_on IS NOT NULL'),
    )
    with op.batch_alter_table('contact_attempt', schema=None) as batch_op:
        batch_op.drop_column('is_latest')
