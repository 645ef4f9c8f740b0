"""destination changes awaiting verification

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'destination_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('old_destination', sa.String(length=320), nullable=False),
        sa.Column('new_destination', sa.String(length=320), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['subscription_id'], ['address_subscriptions.id'],
                                name=op.f('fk_destination_changes_subscription_id_address_subscriptions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_destination_changes')),
    )
    op.create_index(op.f('ix_destination_changes_subscription_id'), 'destination_changes', ['subscription_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_destination_changes_subscription_id'), table_name='destination_changes')
    op.drop_table('destination_changes')
