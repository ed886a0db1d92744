"""working day home (issue 13, home pages, assignment, staleness, mail honesty)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 11:45:00

"""
from alembic import op
import sqlalchemy as sa

import fieldwork.core.time


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "home_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("visit_started_at", fieldwork.core.time.UTCDateTime(), nullable=False),
        sa.Column("previous_visit_at", fieldwork.core.time.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_home_visit_study_id_study"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_home_visit_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_visit")),
        sa.UniqueConstraint("user_id", "study_id", name="uq_home_visit_user_study"),
    )
    with op.batch_alter_table("home_visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_home_visit_study_id"), ["study_id"], unique=False)
    # Booking now assigns the participant to the interviewer; give participants booked before
    # this version the interviewer of their latest appointment, so that interviewer can open them.
    op.execute(
        """
        UPDATE participant SET interviewer_id = (
            SELECT appointment.interviewer_id FROM appointment
            WHERE appointment.participant_id = participant.id
            ORDER BY appointment.starts_at DESC, appointment.id DESC LIMIT 1
        )
        WHERE interviewer_id IS NULL
          AND EXISTS (SELECT 1 FROM appointment WHERE appointment.participant_id = participant.id)
        """
    )


def downgrade():
    with op.batch_alter_table("home_visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_home_visit_study_id"))
    op.drop_table("home_visit")
