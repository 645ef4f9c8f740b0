"""billing modes: a client billed in advance, after the fact (post-paid) or not at all (exempt), and
the mode each order was placed under; the PayPal order paying an invoice that is not an order's

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billing_mode', sa.String(length=12), server_default='prepaid', nullable=False))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('billing', sa.String(length=12), server_default='prepaid', nullable=False))
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paypal_order_id', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_invoices_paypal_order_id'), ['paypal_order_id'])


def downgrade() -> None:
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_invoices_paypal_order_id'), type_='unique')
        batch_op.drop_column('paypal_order_id')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('billing')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('billing_mode')
