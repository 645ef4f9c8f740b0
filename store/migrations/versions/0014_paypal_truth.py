"""PayPal webhooks read back (transmission ids seen), capture reversals and disputes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 21:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'paypal_transmissions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('transmission_id', sa.String(64), nullable=False),
        sa.Column('body_sha256', sa.String(64), nullable=False),
        sa.Column('transmitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint('transmission_id', name='uq_paypal_transmissions_transmission_id'),
    )
    op.create_index('ix_paypal_transmissions_received_at', 'paypal_transmissions', ['received_at'])
    op.create_table(
        'paypal_cases',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('case_id', sa.String(64), nullable=False),
        sa.Column('capture_id', sa.String(64), nullable=False),
        sa.Column('invoice_id', sa.Integer(), sa.ForeignKey('invoices.id', name='fk_paypal_cases_invoice_id_invoices'),
                  nullable=True),
        sa.Column('status', sa.String(32), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(3), nullable=False),
        sa.Column('reason', sa.String(80), server_default='', nullable=False),
        sa.Column('outcome', sa.String(40), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint('kind', 'case_id', name='uq_paypal_cases_kind'),
    )
    op.create_index('ix_paypal_cases_capture_id', 'paypal_cases', ['capture_id'])
    op.create_index('ix_paypal_cases_invoice_id', 'paypal_cases', ['invoice_id'])


def downgrade() -> None:
    op.drop_index('ix_paypal_cases_invoice_id', table_name='paypal_cases')
    op.drop_index('ix_paypal_cases_capture_id', table_name='paypal_cases')
    op.drop_table('paypal_cases')
    op.drop_index('ix_paypal_transmissions_received_at', table_name='paypal_transmissions')
    op.drop_table('paypal_transmissions')
