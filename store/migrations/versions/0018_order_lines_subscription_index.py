"""order lines by subscription: the renewals page finds an address's open renewal order through its
order line, which scanned every order line without this index (issue 13: /renewals grew with the table)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 03:00:00
"""
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_order_lines_subscription_id', 'order_lines', ['subscription_id'])


def downgrade() -> None:
    op.drop_index('ix_order_lines_subscription_id', table_name='order_lines')
