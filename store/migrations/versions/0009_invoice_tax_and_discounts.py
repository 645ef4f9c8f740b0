"""invoice lines with discount, tax and service period; invoice subtotals; a client's tax rate

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_bp', sa.Integer(), nullable=True))
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        for name in ('subtotal_minor', 'discount_minor', 'tax_minor'):
            batch_op.add_column(sa.Column(name, sa.BigInteger(), server_default='0', nullable=False))
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_minor', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('tax_bp', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('tax_minor', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('period_end', sa.Date(), nullable=True))
    # invoices issued before: no discount, no tax, the subtotal is the total
    op.execute("UPDATE invoices SET subtotal_minor = total_minor")


def downgrade() -> None:
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        for name in ('period_end', 'period_start', 'tax_minor', 'tax_bp', 'discount_minor'):
            batch_op.drop_column(name)
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        for name in ('tax_minor', 'discount_minor', 'subtotal_minor'):
            batch_op.drop_column(name)
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('tax_bp')
