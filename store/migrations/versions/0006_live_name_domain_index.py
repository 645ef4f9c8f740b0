"""partial index of live holders by (local_part, domain_id) for availability

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

LIVE = "status IN ('pending_payment', 'provisioning', 'active', 'attention')"


def upgrade() -> None:
    with op.batch_alter_table('address_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_name_domain')
        batch_op.create_index('ix_live_name_domain', ['local_part', 'domain_id'], unique=False,
                              postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))


def downgrade() -> None:
    with op.batch_alter_table('address_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_live_name_domain')
        batch_op.create_index('ix_subscription_name_domain', ['local_part', 'domain_id'], unique=False)
