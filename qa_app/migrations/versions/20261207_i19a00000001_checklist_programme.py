"""checklist versions: the supervision programme each one serves (routine, campaign, self-assessment, GPP)

Revision ID: i19a00000001
Revises: f4iled000001
Create Date: 2026-12-07 03:40:00

Existing versions were all routine supervision checklists (the only kind there was), hence the default.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i19a00000001'
down_revision = 'i16b00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checklist_version') as batch:
        batch.add_column(sa.Column('programme', sa.String(length=20), nullable=False, server_default='routine'))
        batch.create_check_constraint(
            op.f('ck_checklist_version_programme'), "programme IN ('routine', 'campaign', 'self_assessment', 'gpp')")


def downgrade():
    with op.batch_alter_table('checklist_version') as batch:
        batch.drop_constraint(op.f('ck_checklist_version_programme'), type_='check')
        batch.drop_column('programme')
