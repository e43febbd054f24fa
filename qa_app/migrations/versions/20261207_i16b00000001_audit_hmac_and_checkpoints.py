"""audit log: entry numbers, HMACs, a locked head row, signed checkpoints, and the head recorded by minutes

Revision ID: i16b00000001
Revises: i16a00000001
Create Date: 2026-12-07 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i16b00000001'
down_revision = 'i16a00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_entry') as batch:
        batch.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('mac', sa.String(length=64), nullable=True))
    # Number the existing entries 1, 2, 3… in id order (UPDATE … FROM: PostgreSQL, SQLite 3.33+).
    op.execute("UPDATE audit_entry SET seq = numbered.n FROM "
               "(SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit_entry) AS numbered "
               "WHERE audit_entry.id = numbered.id")
    with op.batch_alter_table('audit_entry') as batch:
        batch.create_unique_constraint(batch.f('uq_audit_entry_seq'), ['seq'])
    op.create_table(
        'audit_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head')),
    )
    op.execute("INSERT INTO audit_head (id, seq, hash) SELECT 1, count(*), coalesce("
               "(SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1), '" + "0" * 64 + "') FROM audit_entry")
    op.create_table(
        'audit_checkpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('head_hash', sa.String(length=64), nullable=False),
        sa.Column('mac', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint')),
    )
    with op.batch_alter_table('minutes') as batch:
        batch.add_column(sa.Column('audit_seq', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('audit_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('minutes') as batch:
        batch.drop_column('audit_hash')
        batch.drop_column('audit_seq')
    op.drop_table('audit_checkpoint')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_entry') as batch:
        batch.drop_constraint(batch.f('uq_audit_entry_seq'), type_='unique')
        batch.drop_column('mac')
        batch.drop_column('seq')
