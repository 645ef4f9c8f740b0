"""payments keep what they applied and who recorded them; credit notes, refunds, promo codes;
a client's choice to have credit applied to new invoices

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('apply_credit', sa.Boolean(), server_default=sa.text('true'), nullable=False))
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applied_minor', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('actor', sa.String(length=120), server_default='system', nullable=False))
    # payments recorded before applied all of themselves (only exact amounts were accepted)
    op.execute("UPDATE payments SET applied_minor = amount_minor")
    op.create_table(
        'credit_note_sequences',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('year', name=op.f('pk_credit_note_sequences')))
    op.create_table(
        'credit_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=32), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('credited_minor', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_credit_notes_client_id_clients')),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_credit_notes_invoice_id_invoices')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
        sa.UniqueConstraint('invoice_id', name=op.f('uq_credit_notes_invoice_id')),
        sa.UniqueConstraint('number', name=op.f('uq_credit_notes_number')))
    op.create_index(op.f('ix_credit_notes_client_id'), 'credit_notes', ['client_id'])
    op.create_index(op.f('ix_credit_notes_issued_at'), 'credit_notes', ['issued_at'])
    op.create_table(
        'refunds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('paypal_refund_id', sa.String(length=64), server_default='', nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('message', sa.String(length=300), server_default='', nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_refunds_invoice_id_invoices')),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_refunds_payment_id_payments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
        sa.UniqueConstraint('key', name=op.f('uq_refunds_key')))
    op.create_index(op.f('ix_refunds_payment_id'), 'refunds', ['payment_id'])
    op.create_index(op.f('ix_refunds_invoice_id'), 'refunds', ['invoice_id'])
    op.create_table(
        'promo_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('percent_bp', sa.Integer(), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('max_uses', sa.Integer(), nullable=True),
        sa.Column('max_uses_per_client', sa.Integer(), nullable=True),
        sa.Column('kinds', sa.String(length=40), server_default='', nullable=False),
        sa.Column('domains', sa.Text(), server_default='', nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_promo_codes')),
        sa.UniqueConstraint('code', name=op.f('uq_promo_codes_code')))
    op.create_table(
        'promo_redemptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('promo_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('discount_minor', sa.BigInteger(), nullable=False),
        sa.Column('released', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_promo_redemptions_client_id_clients')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_promo_redemptions_order_id_orders')),
        sa.ForeignKeyConstraint(['promo_id'], ['promo_codes.id'], name=op.f('fk_promo_redemptions_promo_id_promo_codes')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_promo_redemptions')),
        sa.UniqueConstraint('order_id', name=op.f('uq_promo_redemptions_order_id')))
    op.create_index(op.f('ix_promo_redemptions_promo_id'), 'promo_redemptions', ['promo_id'])
    op.create_index(op.f('ix_promo_redemptions_client_id'), 'promo_redemptions', ['client_id'])


def downgrade() -> None:
    for table in ('promo_redemptions', 'promo_codes', 'refunds', 'credit_notes', 'credit_note_sequences'):
        op.drop_table(table)
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('actor')
        batch_op.drop_column('applied_minor')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('apply_credit')
