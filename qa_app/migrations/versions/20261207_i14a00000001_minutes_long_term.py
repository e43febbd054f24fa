"""minutes: the hash of the signed revision (stable under B-LTA extensions) and when they were last extended;
signatures: the content hash they cover and when they were voided; inspection: the explicit "no opinion"
choice, the team decision and the conclusion;
verify_hit: the public verification page's rate limit

Revision ID: i14a00000001
Revises: f4iled000001
Create Date: 2026-12-07 03:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i14a00000001'
down_revision = 'i18c00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('minutes') as batch:
        batch.add_column(sa.Column('signed_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('extended_at', sa.DateTime(), nullable=True))
        batch.create_index('ix_minutes_signed_sha256', ['signed_sha256'], unique=False)
    # Minutes issued before (PAdES B-B) were never extended: the signature covers the whole file, so the
    # signed revision is the file itself.
    op.execute(sa.text('UPDATE minutes SET signed_sha256 = sha256 WHERE signed_sha256 IS NULL'))
    # Signatures made before stay unbound (NULL): they count as before, and new ones are always bound.
    with op.batch_alter_table('signature') as batch:
        batch.add_column(sa.Column('content_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('voided_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('inspection') as batch:
        batch.add_column(sa.Column('facility_no_opinion', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column('team_decision_number', sa.String(length=60), server_default='', nullable=False))
        batch.add_column(sa.Column('team_decision_date', sa.Date(), nullable=True))
        batch.add_column(sa.Column('team_decision_issuer', sa.String(length=200), server_default='', nullable=False))
        batch.add_column(sa.Column('conclusion_strengths', sa.Text(), server_default='', nullable=False))
        batch.add_column(sa.Column('conclusion_shortcomings', sa.Text(), server_default='', nullable=False))


    op.create_table(
        'verify_hit',
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('window', sa.BigInteger(), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.CheckConstraint('hits >= 1', name=op.f('ck_verify_hit_hits_positive')),
        sa.PrimaryKeyConstraint('client', 'window', name=op.f('pk_verify_hit')),
    )


def downgrade():
    op.drop_table('verify_hit')
    with op.batch_alter_table('inspection') as batch:
        for column in ('conclusion_shortcomings', 'conclusion_strengths', 'team_decision_issuer',
                       'team_decision_date', 'team_decision_number', 'facility_no_opinion'):
            batch.drop_column(column)
    with op.batch_alter_table('signature') as batch:
        batch.drop_column('voided_at')
        batch.drop_column('content_sha256')
    with op.batch_alter_table('minutes') as batch:
        batch.drop_index('ix_minutes_signed_sha256')
        batch.drop_column('extended_at')
        batch.drop_column('signed_sha256')
