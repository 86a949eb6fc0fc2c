"""throttle_hit rows become per-slice counters: a check reads a bounded number of rows, whatever the traffic

Revision ID: contact_throttle_counts
Revises: mail_followup
Create Date: 2026-11-26 06:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'contact_throttle_counts'
down_revision = 'mail_followup'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows are single attempts: a count of 1 each keeps every window's total exactly as it was.
    with op.batch_alter_table('throttle_hit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('count', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('throttle_hit', schema=None) as batch_op:
        batch_op.drop_column('count')
