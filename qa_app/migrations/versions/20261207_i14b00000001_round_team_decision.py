"""supervision_round: the decision establishing the round's team (number, date, issuing body), which the
minutes of the round's visits cite when the inspection records none of its own

Revision ID: i14b00000001
Revises: i14a00000001
Create Date: 2026-12-07 04:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i14b00000001'
down_revision = 'i14a00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('supervision_round') as batch:
        batch.add_column(sa.Column('team_decision_number', sa.String(length=60), server_default='', nullable=False))
        batch.add_column(sa.Column('team_decision_date', sa.Date(), nullable=True))
        batch.add_column(sa.Column('team_decision_issuer', sa.String(length=200), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('supervision_round') as batch:
        for column in ('team_decision_issuer', 'team_decision_date', 'team_decision_number'):
            batch.drop_column(column)
