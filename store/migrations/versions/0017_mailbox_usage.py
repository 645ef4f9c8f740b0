"""mailbox_usage: the mailbox page's read model (space used, quota, automatic reply, when read)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mailbox_usage',
        sa.Column('address', sa.String(length=320), nullable=False),
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('used_bytes', sa.BigInteger(), nullable=True),
        sa.Column('quota_mb', sa.Integer(), nullable=True),
        sa.Column('autoresponder_subject', sa.Text(), server_default='', nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('address', name=op.f('pk_mailbox_usage')),
    )
    op.create_index(op.f('ix_mailbox_usage_domain'), 'mailbox_usage', ['domain'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_mailbox_usage_domain'), table_name='mailbox_usage')
    op.drop_table('mailbox_usage')
