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
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("timezone", sa.String(length=64), nullable=False, server_default="")
        )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "participant_timezone", sa.String(length=64), nullable=False, server_default=""
            )
        )
    op.create_table(
        "booking_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("min_notice_hours", sa.Integer(), nullable=False),
        sa.Column("max_days_ahead", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("daily_limit", sa.Integer(), nullable=False),
        sa.Column("holiday_country", sa.String(length=2), nullable=False),
        sa.Column("holiday_subdivision", sa.String(length=10), nullable=False),
        sa.Column("updated_at", fieldwork.core.time.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id"),
    )
    op.create_table(
        "closed_date",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", fieldwork.core.time.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "closed_on"),
    )
    with op.batch_alter_table("closed_date", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_closed_date_study_id"), ["study_id"], unique=False)
    op.create_table(
        "booking_notice_subscription",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("is_daily_email", sa.Boolean(), nullable=False),
        sa.Column("covered_until", fieldwork.core.time.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade():
    op.drop_table("booking_notice_subscription")
    with op.batch_alter_table("closed_date", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_closed_date_study_id"))
    op.drop_table("closed_date")
    op.drop_table("booking_rules")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_column("participant_timezone")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("timezone")
