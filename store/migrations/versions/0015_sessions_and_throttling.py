"""server-side sessions (revocable, absolute lifetime) and sign-in throttling; when a client
confirmed their email (the sign-up link)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 21:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sessions',
        sa.Column('id', sa.String(64), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('user_agent', sa.String(300), nullable=False, server_default=''),
        sa.Column('ip', sa.String(64), nullable=False, server_default=''),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name='fk_sessions_client_id_clients'),
        sa.PrimaryKeyConstraint('id', name='pk_sessions'),
    )
    op.create_index('ix_sessions_client_id', 'sessions', ['client_id'])
    op.create_table(
        'sign_in_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(300), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_sign_in_failures'),
    )
    op.create_index('ix_sign_in_failures_key_at', 'sign_in_failures', ['key', 'at'])
    op.create_index('ix_sign_in_failures_at', 'sign_in_failures', ['at'])
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clients') as batch:
        batch.drop_column('email_confirmed_at')
    op.drop_index('ix_sign_in_failures_at', table_name='sign_in_failures')
    op.drop_index('ix_sign_in_failures_key_at', table_name='sign_in_failures')
    op.drop_table('sign_in_failures')
    op.drop_index('ix_sessions_client_id', table_name='sessions')
    op.drop_table('sessions')
