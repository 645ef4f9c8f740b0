"""availability indexes and prefix flag

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:48:55.576941
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('address_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_subscription_name_domain', ['local_part', 'domain_id'], unique=False)

    with op.batch_alter_table('reserved_names', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_prefix', sa.Boolean(), server_default=sa.text('(false)'), nullable=False))
        batch_op.create_index(batch_op.f('ix_reserved_names_is_prefix'), ['is_prefix'], unique=False)
        batch_op.create_index(batch_op.f('ix_reserved_names_pattern'), ['pattern'], unique=False)

    op.execute("UPDATE reserved_names SET is_prefix = (pattern LIKE '%*')")


def downgrade() -> None:
    with op.batch_alter_table('reserved_names', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reserved_names_pattern'))
        batch_op.drop_index(batch_op.f('ix_reserved_names_is_prefix'))
        batch_op.drop_column('is_prefix')

    with op.batch_alter_table('address_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_name_domain')

    # ### end Alembic commands ###
