"""service areas, and the level-neutral reviewer role (district_reviewer -> reviewer, scoped to a unit or an area)

After the 2025 reform the tier below the province is a regional health centre (or the provincial CDC) whose
catchment is a set of 2025 communes. This adds the service areas, lets a reviewer's or manager's scope be
one, and renames the district reviewer role: every existing account keeps its scope (a pre-2025 district
stays a valid scope, for history).

Revision ID: i18a00000001
Revises: f4iled000001
Create Date: 2026-12-07 03:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i18a00000001'
down_revision = 'i19a00000003'
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('supervisor', 'district_reviewer', 'provincial_manager', 'admin')"
NEW_ROLES = "role IN ('supervisor', 'reviewer', 'provincial_manager', 'admin')"
AREA_SCOPE = ("scope_area_id IS NULL OR (role IN ('reviewer', 'provincial_manager')"
              " AND scope_unit_id IS NOT NULL)")


def upgrade():
    op.create_table('service_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('owner_facility_id', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_service_area_validity')),
    sa.ForeignKeyConstraint(['owner_facility_id'], ['facility.id'],
                            name=op.f('fk_service_area_owner_facility_id_facility'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['province_id'], ['admin_unit.id'],
                            name=op.f('fk_service_area_province_id_admin_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_area')),
    sa.UniqueConstraint('code', name=op.f('uq_service_area_code'))
    )
    with op.batch_alter_table('service_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_area_province_id'), ['province_id'], unique=False)
    op.create_table('service_area_commune',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['service_area.id'],
                            name=op.f('fk_service_area_commune_area_id_service_area'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['admin_unit.id'],
                            name=op.f('fk_service_area_commune_unit_id_admin_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('area_id', 'unit_id', name=op.f('pk_service_area_commune'))
    )
    with op.batch_alter_table('service_area_commune', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_area_commune_unit_id'), ['unit_id'], unique=False)

    # The old check must go before the rows change, and the new one come after (SQLite copies the rows
    # into a rebuilt table, which would check them against whatever constraint the batch declares).
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_account_role'), type_='check')
    op.execute("UPDATE user_account SET role = 'reviewer' WHERE role = 'district_reviewer'")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope_area_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_account_scope_area_id_service_area'), 'service_area',
                                    ['scope_area_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_check_constraint('role', NEW_ROLES)
        batch_op.create_check_constraint('area_scope', AREA_SCOPE)


def downgrade():
    bind = op.get_bind()
    # An area scope has no pre-reform equivalent; dropping it would silently widen the account to the whole
    # province. Refuse, and say what to change first.
    narrowed = bind.execute(sa.text("SELECT username FROM user_account WHERE scope_area_id IS NOT NULL "
                                    "ORDER BY username")).scalars().all()
    if narrowed:
        raise RuntimeError("cannot downgrade: these accounts are scoped to a service area, give them a province "
                           "or district scope first: " + ", ".join(narrowed))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_account_area_scope'), type_='check')
        batch_op.drop_constraint(op.f('ck_user_account_role'), type_='check')
        batch_op.drop_constraint(op.f('fk_user_account_scope_area_id_service_area'), type_='foreignkey')
        batch_op.drop_column('scope_area_id')
    op.execute("UPDATE user_account SET role = 'district_reviewer' WHERE role = 'reviewer'")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_check_constraint('role', OLD_ROLES)
    with op.batch_alter_table('service_area_commune', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_area_commune_unit_id'))
    op.drop_table('service_area_commune')
    with op.batch_alter_table('service_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_area_province_id'))
    op.drop_table('service_area')
