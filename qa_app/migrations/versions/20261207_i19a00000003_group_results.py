"""inspections: score group results stored at submission (for the exports)

Revision ID: i19a00000003
Revises: i19a00000002
Create Date: 2026-12-07 04:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i19a00000003'
down_revision = 'i19a00000002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inspection') as batch:
        batch.add_column(sa.Column('group_results', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('inspection') as batch:
        batch.drop_column('group_results')
