"""erasure disclosure (issue 11, data part (erasure, secrets at rest, disclosure control))

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 11:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("min_cell_size", sa.Integer(), nullable=False),
        sa.Column("include_role", sa.Boolean(), nullable=False),
        sa.Column("include_phase", sa.Boolean(), nullable=False),
        sa.Column("include_district", sa.Boolean(), nullable=False),
        sa.Column("include_organisation_kind", sa.Boolean(), nullable=False),
        sa.Column("include_organisation", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_export_settings_study_id_study"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_settings")),
        sa.UniqueConstraint("study_id", name=op.f("uq_export_settings_study_id")),
    )


def downgrade():
    op.drop_table("export_settings")
