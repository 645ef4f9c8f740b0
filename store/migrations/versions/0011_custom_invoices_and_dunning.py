"""custom invoices and dunning: reminders sent per invoice, who issued it, a client's suspension

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 23:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_sent', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('created_by', sa.String(length=120), server_default='system', nullable=False))
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('suspended_reason', sa.String(length=200), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('suspended_reason')
        batch_op.drop_column('suspended_at')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_column('created_by')
        batch_op.drop_column('reminders_sent')
