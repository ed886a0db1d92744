"""accounts membership (issue 11, accounts part (study membership, sessions, logins))

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 11:45:00

Studies become the unit of access: a membership per user and study with a role there, and an
installation administrator flag. An existing installation keeps working as before: every user
joins every study with their current role, and every coordinator becomes an administrator.
"""
from alembic import op
import sqlalchemy as sa

import fieldwork.core.time


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_ROLE = sa.Enum(
    'coordinator', 'interviewer', name='userrole', native_enum=False, length=20
)


def upgrade():
    op.create_table('membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('role', _ROLE, nullable=False),
    sa.Column('created_at', fieldwork.core.time.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_membership_study_id_study'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_membership_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership')),
    sa.UniqueConstraint('user_id', 'study_id', name=op.f('uq_membership_user_id'))
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_study_id'), ['study_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_user_id'), ['user_id'], unique=False)

    op.create_table('password_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('invitation', 'reset', name='passwordlinkpurpose', native_enum=False, length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', fieldwork.core.time.UTCDateTime(), nullable=False),
    sa.Column('expires_at', fieldwork.core.time.UTCDateTime(), nullable=False),
    sa.Column('used_at', fieldwork.core.time.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_password_link_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_link_token_hash'))
    )
    with op.batch_alter_table('password_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_link_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_administrator', sa.Boolean(), nullable=False, server_default=sa.false())
        )

    # Existing installations: everyone keeps what they could do, now as memberships.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO membership (user_id, study_id, role, created_at) "
            "SELECT u.id, s.id, u.role, CURRENT_TIMESTAMP AT TIME ZONE 'UTC' "
            "FROM \"user\" u CROSS JOIN study s"
        )
    else:
        op.execute(
            "INSERT INTO membership (user_id, study_id, role, created_at) "
            "SELECT u.id, s.id, u.role, CURRENT_TIMESTAMP FROM \"user\" u CROSS JOIN study s"
        )
    op.execute("UPDATE \"user\" SET is_administrator = (role = 'coordinator')")


def downgrade():
    with op.batch_alter_table('password_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_link_user_id'))
    op.drop_table('password_link')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('is_administrator')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_user_id'))
        batch_op.drop_index(batch_op.f('ix_membership_study_id'))
    op.drop_table('membership')
