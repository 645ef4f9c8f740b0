"""renewals, expiry and quarantine, reminder steps, the credit ledger

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD_LIVE = "status IN ('pending_payment', 'provisioning', 'active', 'attention')"
LIVE = "status IN ('pending_payment', 'provisioning', 'active', 'attention', 'expired', 'quarantined')"


def _live_indexes(batch_op, predicate: str) -> None:
    batch_op.create_index('uq_address_live_holder', ['address'], unique=True,
                          postgresql_where=sa.text(predicate), sqlite_where=sa.text(predicate))
    batch_op.create_index('ix_live_name_domain', ['local_part', 'domain_id'], unique=False,
                          postgresql_where=sa.text(predicate), sqlite_where=sa.text(predicate))


def upgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auto_renew', sa.Boolean(), server_default=sa.text('true'), nullable=False))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='new', nullable=False))
    with op.batch_alter_table('address_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_at_term_end', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))
        batch_op.add_column(sa.Column('grace_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('quarantine_until', sa.Date(), nullable=True))
        batch_op.drop_index('uq_address_live_holder')
        batch_op.drop_index('ix_live_name_domain')
        _live_indexes(batch_op, LIVE)

    op.create_table(
        'renewal_offers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('term_end', sa.Date(), nullable=False),
        sa.Column('code_digest', sa.String(length=64), nullable=False),
        sa.Column('decision', sa.String(length=16), server_default='', nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_via', sa.String(length=16), server_default='', nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'),
                  nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['address_subscriptions.id'],
                                name=op.f('fk_renewal_offers_subscription_id_address_subscriptions')),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_renewal_offers_order_id_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_renewal_offers')),
        sa.UniqueConstraint('code_digest', name=op.f('uq_renewal_offers_code_digest')),
        sa.UniqueConstraint('subscription_id', 'term_end', name=op.f('uq_renewal_offers_subscription_id')),
    )
    op.create_table(
        'reminders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('term_end', sa.Date(), nullable=False),
        sa.Column('threshold', sa.String(length=8), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('digest_key', sa.String(length=120), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'),
                  nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['address_subscriptions.id'],
                                name=op.f('fk_reminders_subscription_id_address_subscriptions')),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_reminders_client_id_clients')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
        sa.UniqueConstraint('subscription_id', 'term_end', 'threshold', name=op.f('uq_reminders_subscription_id')),
    )
    op.create_index('ix_reminders_client_digest', 'reminders', ['client_id', 'digest_key'])
    op.create_table(
        'credit_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('reference', sa.String(length=120), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'),
                  nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_credit_entries_client_id_clients')),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_credit_entries_invoice_id_invoices')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_entries')),
        sa.UniqueConstraint('kind', 'reference', name=op.f('uq_credit_entries_kind')),
    )
    op.create_index(op.f('ix_credit_entries_client_id'), 'credit_entries', ['client_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_credit_entries_client_id'), table_name='credit_entries')
    op.drop_table('credit_entries')
    op.drop_index('ix_reminders_client_digest', table_name='reminders')
    op.drop_table('reminders')
    op.drop_table('renewal_offers')
    with op.batch_alter_table('address_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('uq_address_live_holder')
        batch_op.drop_index('ix_live_name_domain')
        _live_indexes(batch_op, OLD_LIVE)
        batch_op.drop_column('quarantine_until')
        batch_op.drop_column('grace_until')
        batch_op.drop_column('cancel_at_term_end')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('auto_renew')
