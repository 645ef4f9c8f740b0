"""outbox delivery states (sending, sent, failed) and provider failures on record

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 21:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=10), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('sending_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reply_code', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reply_text', sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbound_emails_state'), ['state'], unique=False)
    # rows from before: sent when they carry a sent_at; the others are still to be sent
    op.execute("UPDATE outbound_emails SET state = 'sent' WHERE sent_at IS NOT NULL")
    op.create_table(
        'registry_renewals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('years', sa.Integer(), nullable=False),
        sa.Column('expiry_before', sa.Date(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('expiry_after', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_renewals')),
    )
    op.create_index(op.f('ix_registry_renewals_domain'), 'registry_renewals', ['domain'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_registry_renewals_domain'), table_name='registry_renewals')
    op.drop_table('registry_renewals')
    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_emails_state'))
        for column in ('reply_text', 'reply_code', 'failed_at', 'sending_at', 'attempts', 'state'):
            batch_op.drop_column(column)
