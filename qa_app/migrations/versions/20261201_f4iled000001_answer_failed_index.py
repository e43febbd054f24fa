"""answers: a partial index of the failed ones, for the dashboards' most-failed items

Revision ID: f4iled000001
Revises: r0unds000001
Create Date: 2026-12-01 12:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f4iled000001'
down_revision = 'r0unds000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_answer_failed', 'answer', ['inspection_id', 'item_id'], unique=False,
                    sqlite_where=sa.text('failed IS 1'), postgresql_where=sa.text('failed IS TRUE'))


def downgrade():
    op.drop_index('ix_answer_failed', table_name='answer')
