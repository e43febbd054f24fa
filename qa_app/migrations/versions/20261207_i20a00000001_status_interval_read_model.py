"""status_interval: the compliance read model, each facility's latest approved result as date intervals
(filled by `flask qa setup` or `flask compliance rebuild` after the upgrade)

Revision ID: i20a00000001
Revises: i14b00000002
Create Date: 2026-12-07 06:29:27.421099

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i20a00000001'
down_revision = 'i14b00000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('status_interval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('programme', sa.String(length=20), nullable=False),
    sa.Column('checklist_version_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('classification', sa.String(length=16), nullable=True),
    sa.Column('overall_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('critical_failures', sa.Integer(), nullable=True),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_status_interval_ordered')),
    sa.ForeignKeyConstraint(['checklist_version_id'], ['checklist_version.id'], name=op.f('fk_status_interval_checklist_version_id_checklist_version'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], name=op.f('fk_status_interval_facility_id_facility'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], name=op.f('fk_status_interval_inspection_id_inspection'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_interval')),
    sa.UniqueConstraint('inspection_id', name=op.f('uq_status_interval_inspection_id'))
    )
    with op.batch_alter_table('status_interval', schema=None) as batch_op:
        batch_op.create_index('ix_status_interval_day', ['programme', 'starts_on', 'ends_on'], unique=False)
        batch_op.create_index('ix_status_interval_facility', ['facility_id', 'programme', 'starts_on'], unique=False)



def downgrade():
    with op.batch_alter_table('status_interval', schema=None) as batch_op:
        batch_op.drop_index('ix_status_interval_facility')
        batch_op.drop_index('ix_status_interval_day')

    op.drop_table('status_interval')
