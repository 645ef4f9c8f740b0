"""mailbox secrets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mailbox_secrets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('ciphertext', sa.Text(), nullable=False),
        sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'),
                  nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['address_subscriptions.id'],
                                name=op.f('fk_mailbox_secrets_subscription_id_address_subscriptions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox_secrets')),
        sa.UniqueConstraint('subscription_id', name=op.f('uq_mailbox_secrets_subscription_id')),
    )


def downgrade() -> None:
    op.drop_table('mailbox_secrets')
