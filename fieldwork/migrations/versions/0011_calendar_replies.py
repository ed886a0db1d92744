"""calendar replies (issue 17, iMIP replies read over IMAP)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 11:45:00

"""
from alembic import op
import sqlalchemy as sa

import fieldwork.core.time


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mailbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_key', sa.String(length=300), nullable=False),
    sa.Column('sender', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('sent_at', fieldwork.core.time.UTCDateTime(), nullable=True),
    sa.Column('processed_at', fieldwork.core.time.UTCDateTime(), nullable=False),
    sa.Column('outcome', sa.Enum('recorded', 'unmatched', 'malformed', name='mailoutcome', native_enum=False, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=True),
    sa.Column('folder', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_mailbox_message_study_id_study'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox_message')),
    sa.UniqueConstraint('message_key', name=op.f('uq_mailbox_message_message_key'))
    )
    with op.batch_alter_table('mailbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_mailbox_message_outcome_processed', ['outcome', 'processed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailbox_message_study_id'), ['study_id'], unique=False)

    op.create_table('calendar_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('mailbox_message_id', sa.Integer(), nullable=True),
    sa.Column('attendee_email', sa.String(length=320), nullable=False),
    sa.Column('attendee_name', sa.String(length=200), nullable=False),
    sa.Column('is_participant', sa.Boolean(), nullable=False),
    sa.Column('answer', sa.Enum('accepted', 'tentative', 'declined', 'counter', name='replyanswer', native_enum=False, length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('replied_at', fieldwork.core.time.UTCDateTime(), nullable=False),
    sa.Column('received_at', fieldwork.core.time.UTCDateTime(), nullable=False),
    sa.Column('sender_email', sa.String(length=320), nullable=False),
    sa.Column('is_sender_attendee', sa.Boolean(), nullable=False),
    sa.Column('proposed_starts_at', fieldwork.core.time.UTCDateTime(), nullable=True),
    sa.Column('proposed_ends_at', fieldwork.core.time.UTCDateTime(), nullable=True),
    sa.Column('moved_at', fieldwork.core.time.UTCDateTime(), nullable=True),
    sa.Column('moved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_calendar_reply_appointment_id_appointment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mailbox_message_id'], ['mailbox_message.id'], name=op.f('fk_calendar_reply_mailbox_message_id_mailbox_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['moved_by_id'], ['user.id'], name=op.f('fk_calendar_reply_moved_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_calendar_reply_study_id_study'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_reply')),
    sa.UniqueConstraint('mailbox_message_id', name=op.f('uq_calendar_reply_mailbox_message_id'))
    )
    with op.batch_alter_table('calendar_reply', schema=None) as batch_op:
        batch_op.create_index('ix_calendar_reply_appointment', ['appointment_id', 'replied_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_calendar_reply_study_id'), ['study_id'], unique=False)



def downgrade():
    with op.batch_alter_table('calendar_reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_reply_study_id'))
        batch_op.drop_index('ix_calendar_reply_appointment')

    op.drop_table('calendar_reply')
    with op.batch_alter_table('mailbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailbox_message_study_id'))
        batch_op.drop_index('ix_mailbox_message_outcome_processed')

    op.drop_table('mailbox_message')
