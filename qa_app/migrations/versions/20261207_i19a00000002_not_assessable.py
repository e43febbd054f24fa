"""inspections: "not_assessable" is a final classification (a required observation was missing: re-visit)

Revision ID: i19a00000002
Revises: i19a00000001
Create Date: 2026-12-07 04:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i19a00000002'
down_revision = 'i19a00000001'
branch_labels = None
depends_on = None

OLD = "classification IS NULL OR classification IN ('meets', 'conditional', 'does_not_meet')"
NEW = "classification IS NULL OR classification IN ('meets', 'conditional', 'does_not_meet', 'not_assessable')"


def upgrade():
    with op.batch_alter_table('inspection') as batch:
        batch.drop_constraint(op.f('ck_inspection_classification'), type_='check')
        batch.create_check_constraint(op.f('ck_inspection_classification'), NEW)


def downgrade():
    # A not-assessable result cannot be expressed before this revision: it goes back to "not classified yet",
    # which the older schema only allows for drafts, so such inspections return to draft.
    op.execute("UPDATE inspection SET status = 'draft', classification = NULL WHERE classification = 'not_assessable'")
    with op.batch_alter_table('inspection') as batch:
        batch.drop_constraint(op.f('ck_inspection_classification'), type_='check')
        batch.create_check_constraint(op.f('ck_inspection_classification'), OLD)
