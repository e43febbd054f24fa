"""supervision rounds: rounds, their reporting dates and assigned visits

Revision ID: r0unds000001
Revises: c0ff1ine0001
Create Date: 2026-12-01 06:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'r0unds000001'
down_revision = 'c0ff1ine0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('supervision_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('facility_types', sa.JSON(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('coverage_basis', sa.String(length=10), nullable=False),
    sa.Column('coverage_target', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("coverage_basis IN ('facilities', 'communes')", name=op.f('ck_supervision_round_basis')),
    sa.CheckConstraint('coverage_target >= 0 AND coverage_target <= 100',
                       name=op.f('ck_supervision_round_target_range')),
    sa.CheckConstraint('deadline >= start_date', name=op.f('ck_supervision_round_dates')),
    sa.CheckConstraint('length(trim(name)) > 0', name=op.f('ck_supervision_round_name_present')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                            name=op.f('fk_supervision_round_created_by_id_user_account'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_unit.id'], name=op.f('fk_supervision_round_unit_id_admin_unit'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_round'))
    )
    with op.batch_alter_table('supervision_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_round_unit_id'), ['unit_id'], unique=False)

    op.create_table('round_report_date',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.CheckConstraint("kind IN ('progress', 'final')", name=op.f('ck_round_report_date_kind')),
    sa.ForeignKeyConstraint(['round_id'], ['supervision_round.id'],
                            name=op.f('fk_round_report_date_round_id_supervision_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_report_date')),
    sa.UniqueConstraint('round_id', 'kind', 'due_date', name=op.f('uq_round_report_date_round_id_kind_due_date'))
    )
    with op.batch_alter_table('round_report_date', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_report_date_round_id'), ['round_id'], unique=False)

    op.create_table('round_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'], name=op.f('fk_round_assignment_facility_id_facility'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['supervision_round.id'],
                            name=op.f('fk_round_assignment_round_id_supervision_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supervisor_id'], ['user_account.id'],
                            name=op.f('fk_round_assignment_supervisor_id_user_account'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_assignment')),
    sa.UniqueConstraint('round_id', 'facility_id', name=op.f('uq_round_assignment_round_id_facility_id'))
    )
    with op.batch_alter_table('round_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_assignment_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_round_assignment_supervisor_id'), ['supervisor_id'], unique=False)


def downgrade():
    with op.batch_alter_table('round_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_assignment_supervisor_id'))
        batch_op.drop_index(batch_op.f('ix_round_assignment_round_id'))
    op.drop_table('round_assignment')
    with op.batch_alter_table('round_report_date', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_report_date_round_id'))
    op.drop_table('round_report_date')
    with op.batch_alter_table('supervision_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_round_unit_id'))
    op.drop_table('supervision_round')
