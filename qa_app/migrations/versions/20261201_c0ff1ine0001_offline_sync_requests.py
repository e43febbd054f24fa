"""offline sync: idempotency keys of sync requests

Revision ID: c0ff1ine0001
Revises: 588ee40bd6f4
Create Date: 2026-12-01 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c0ff1ine0001'
down_revision = '588ee40bd6f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sync_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('inspection_uuid', sa.String(length=36), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('length(key) >= 8', name=op.f('ck_sync_request_key_length')),
    sa.CheckConstraint('status_code >= 200 AND status_code < 500', name=op.f('ck_sync_request_status_code_range')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_sync_request_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_request')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_sync_request_user_id_key'))
    )
    with op.batch_alter_table('sync_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_request_inspection_uuid'), ['inspection_uuid'], unique=False)


def downgrade():
    with op.batch_alter_table('sync_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_request_inspection_uuid'))

    op.drop_table('sync_request')
