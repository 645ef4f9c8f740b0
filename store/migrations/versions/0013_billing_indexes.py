"""billing indexes: invoices newest first (all, or by status) for the operators' list, and the dates
the accountant's exports select a period by

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 09:00:00
"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_invoices_issued', 'invoices', ['issued_at', 'id'])
    op.create_index('ix_invoices_status_issued', 'invoices', ['status', 'issued_at', 'id'])
    op.create_index('ix_payments_received_at', 'payments', ['received_at'])
    op.create_index('ix_credit_entries_created_at', 'credit_entries', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_credit_entries_created_at', table_name='credit_entries')
    op.drop_index('ix_payments_received_at', table_name='payments')
    op.drop_index('ix_invoices_status_issued', table_name='invoices')
    op.drop_index('ix_invoices_issued', table_name='invoices')
