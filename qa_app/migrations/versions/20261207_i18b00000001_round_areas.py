"""rounds over a service area or a list of 2025 communes

A post-reform plan sets targets per service area ("80% số xã của mỗi khu vực") or names communes; a round
could only cover a province or a pre-2025 district. Existing rounds keep their unit and gain nothing.

Revision ID: i18b00000001
Revises: i18a00000001
Create Date: 2026-12-07 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i18b00000001'
down_revision = 'i18a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('round_commune',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['supervision_round.id'],
                            name=op.f('fk_round_commune_round_id_supervision_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_unit.id'], name=op.f('fk_round_commune_unit_id_admin_unit'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('round_id', 'unit_id', name=op.f('pk_round_commune'))
    )
    with op.batch_alter_table('supervision_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_supervision_round_area_id_service_area'), 'service_area',
                                    ['area_id'], ['id'], ondelete='RESTRICT')


def downgrade():
    bind = op.get_bind()
    # Without these columns an area or commune-list round would silently widen to its whole province.
    narrowed = bind.execute(sa.text(
        "SELECT name FROM supervision_round WHERE area_id IS NOT NULL "
        "OR id IN (SELECT round_id FROM round_commune) ORDER BY id")).scalars().all()
    if narrowed:
        raise RuntimeError("cannot downgrade: these rounds cover a service area or a list of communes: "
                           + ", ".join(narrowed))
    with op.batch_alter_table('supervision_round', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_supervision_round_area_id_service_area'), type_='foreignkey')
        batch_op.drop_column('area_id')
    op.drop_table('round_commune')
