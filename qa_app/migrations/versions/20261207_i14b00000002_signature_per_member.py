"""signature: one drawn signature per team member (deputy and members too), keyed by the member's signer key
(its role for the first member of a role, "role-N" for the N-th), instead of one per role

Revision ID: i14b00000002
Revises: i14b00000001
Create Date: 2026-12-07 04:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i14b00000002'
down_revision = 'i14b00000001'
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('head', 'facility_rep', 'secretary')"
ROLES_AFTER = "role IN ('head', 'deputy', 'member', 'secretary', 'facility_rep')"


def upgrade():
    with op.batch_alter_table('signature') as batch:
        batch.add_column(sa.Column('member_key', sa.String(length=40), server_default='', nullable=False))
    # Existing rows were one per role: the first member of that role, whose key is the role itself.
    op.execute(sa.text('UPDATE signature SET member_key = role'))
    with op.batch_alter_table('signature') as batch:
        batch.drop_constraint(op.f('uq_signature_inspection_id_role'), type_='unique')
        batch.drop_constraint(op.f('ck_signature_role'), type_='check')
        batch.create_check_constraint(op.f('ck_signature_role'), ROLES_AFTER)
        batch.create_unique_constraint(op.f('uq_signature_inspection_id_member_key'), ['inspection_id', 'member_key'])


def downgrade():
    # Only one signature per role fits the old table: keep the first member's, drop the others'.
    op.execute(sa.text("DELETE FROM signature WHERE member_key <> role"))
    with op.batch_alter_table('signature') as batch:
        batch.drop_constraint(op.f('uq_signature_inspection_id_member_key'), type_='unique')
        batch.drop_constraint(op.f('ck_signature_role'), type_='check')
        batch.create_check_constraint(op.f('ck_signature_role'), ROLES_BEFORE)
        batch.create_unique_constraint(op.f('uq_signature_inspection_id_role'), ['inspection_id', 'role'])
        batch.drop_column('member_key')
