"""population_figure: reported population figures (mCPR, couples using no method, adolescent pregnancies)
imported from CSV, shown beside the facility indicators

Revision ID: i17b00000002
Revises: i17b00000001
Create Date: 2026-12-07 07:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i17b00000002'
down_revision = 'i17b00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'population_figure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('indicator', sa.String(length=40), nullable=False),
        sa.Column('value', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('source', sa.String(length=300), nullable=False),
        sa.Column('imported_by_id', sa.Integer(), nullable=True),
        sa.Column('imported_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('value >= 0', name=op.f('ck_population_figure_population_value_positive')),
        sa.ForeignKeyConstraint(['imported_by_id'], ['user_account.id'],
                                name=op.f('fk_population_figure_imported_by_id_user_account'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['unit_id'], ['admin_unit.id'], name=op.f('fk_population_figure_unit_id_admin_unit'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_population_figure')),
        sa.UniqueConstraint('unit_id', 'year', 'indicator',
                            name=op.f('uq_population_figure_unit_id_year_indicator')),
    )
    with op.batch_alter_table('population_figure') as batch:
        batch.create_index(batch.f('ix_population_figure_unit_id'), ['unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('population_figure') as batch:
        batch.drop_index(batch.f('ix_population_figure_unit_id'))
    op.drop_table('population_figure')
