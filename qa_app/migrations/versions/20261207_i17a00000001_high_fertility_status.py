"""high_fertility_status: a commune's high-fertility designation as dated periods, from the facility flag

Revision ID: i17a00000001
Revises: i17b00000002
Create Date: 2026-12-07 06:50:00

Decision 1848's commune-station target is for stations in high-fertility areas. Until now each facility
carried a plain flag with no dates. The compliance indicators now read the designation of the facility's
commune on the day; the communes of stations flagged so far are designated from the earliest day one of
those stations was active, so every figure computed before stays the same.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i17a00000001'
down_revision = 'i17b00000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'high_fertility_status',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('high_fertility', sa.Boolean(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_to', sa.Date(), nullable=True),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('imported_from', sa.String(length=200), nullable=False),
        sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from',
                           name=op.f('ck_high_fertility_status_validity')),
        sa.ForeignKeyConstraint(['unit_id'], ['admin_unit.id'],
                                name=op.f('fk_high_fertility_status_unit_id_admin_unit'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_high_fertility_status')),
        sa.UniqueConstraint('unit_id', 'valid_from', name=op.f('uq_high_fertility_status_unit_id_valid_from')),
    )
    with op.batch_alter_table('high_fertility_status') as batch:
        batch.create_index('ix_high_fertility_status_lookup', ['unit_id', 'high_fertility', 'valid_from'])
    # A flag on a facility described the area it stands in: its 2025 commune gets the designation.
    op.execute(sa.text(
        "INSERT INTO high_fertility_status (unit_id, high_fertility, valid_from, valid_to, source, imported_from) "
        "SELECT unit_id, :yes, MIN(active_from), NULL, 'facility flag', 'migration i17a00000001' "
        "FROM facility WHERE high_fertility = :yes GROUP BY unit_id"
    ).bindparams(yes=True))


def downgrade():
    with op.batch_alter_table('high_fertility_status') as batch:
        batch.drop_index('ix_high_fertility_status_lookup')
    op.drop_table('high_fertility_status')
