"""province_plan_version: province plans (targets and filters per indicator) edited in the app, versioned

Revision ID: i17b00000001
Revises: i20a00000001
Create Date: 2026-12-07 06:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i17b00000001'
down_revision = 'i20a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'province_plan_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('system', sa.String(length=8), nullable=False),
        sa.Column('code', sa.String(length=2), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('effective_from', sa.Date(), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('number', sa.String(length=60), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=True),
        sa.Column('overrides', sa.JSON(), nullable=False),
        sa.Column('population_targets', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("system IN ('pre2025', '2025')", name=op.f('ck_province_plan_version_plan_system')),
        sa.CheckConstraint('version >= 1', name=op.f('ck_province_plan_version_plan_version_positive')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_province_plan_version_created_by_id_user_account'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_province_plan_version')),
        sa.UniqueConstraint('system', 'code', 'version', name=op.f('uq_province_plan_version_system_code_version')),
    )


def downgrade():
    op.drop_table('province_plan_version')
