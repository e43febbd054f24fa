"""sub-stations (parent_facility_id and the history of the link), and five more facility types

After the reform the old commune stations became sub-stations (điểm trạm) of the new commune's station;
indicators must count the legal station once. The registry also needs provincial CDC / RH centres, regional
polyclinics, maternity homes, workplace or industrial-zone clinics and mobile teams.

Revision ID: i18c00000001
Revises: i18b00000001
Create Date: 2026-12-07 04:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i18c00000001'
down_revision = 'i18b00000001'
branch_labels = None
depends_on = None

OLD_TYPES = "type IN ('TYT', 'TTYT', 'BV', 'PK', 'NT')"
NEW_TYPES = "type IN ('TYT', 'TTYT', 'BV', 'PK', 'NT', 'CDC', 'PKKV', 'NHS', 'YTCQ', 'DLD')"


def upgrade():
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_facility_type'), type_='check')
        batch_op.add_column(sa.Column('parent_facility_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_facility_parent_facility_id_facility'), 'facility',
                                    ['parent_facility_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_facility_parent_facility_id'), ['parent_facility_id'], unique=False)
        batch_op.create_check_constraint('type', NEW_TYPES)
        batch_op.create_check_constraint('not_own_parent', 'parent_facility_id IS NULL OR parent_facility_id <> id')
    op.create_table('facility_parent_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('parent_facility_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_facility_parent_link_validity')),
    sa.ForeignKeyConstraint(['facility_id'], ['facility.id'],
                            name=op.f('fk_facility_parent_link_facility_id_facility'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_facility_id'], ['facility.id'],
                            name=op.f('fk_facility_parent_link_parent_facility_id_facility'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facility_parent_link'))
    )
    with op.batch_alter_table('facility_parent_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_facility_parent_link_facility_id'), ['facility_id'], unique=False)


def downgrade():
    bind = op.get_bind()
    # Neither a new type nor a sub-station link has a place in the old schema: refuse rather than lose them.
    kept = bind.execute(sa.text(
        "SELECT code FROM facility WHERE parent_facility_id IS NOT NULL OR type NOT IN "
        "('TYT', 'TTYT', 'BV', 'PK', 'NT') ORDER BY code")).scalars().all()
    if kept or bind.execute(sa.text("SELECT count(*) FROM facility_parent_link")).scalar():
        raise RuntimeError("cannot downgrade: facilities of the new types or sub-station links exist: "
                           + ", ".join(kept[:20]))
    with op.batch_alter_table('facility_parent_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_facility_parent_link_facility_id'))
    op.drop_table('facility_parent_link')
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_facility_not_own_parent'), type_='check')
        batch_op.drop_constraint(op.f('ck_facility_type'), type_='check')
        batch_op.drop_index(batch_op.f('ix_facility_parent_facility_id'))
        batch_op.drop_constraint(op.f('fk_facility_parent_facility_id_facility'), type_='foreignkey')
        batch_op.drop_column('parent_facility_id')
        batch_op.create_check_constraint('type', OLD_TYPES)
