"""domain display name (Unicode form) for partial IDN search

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 18:50:00
"""
from alembic import op
import sqlalchemy as sa

from core.addresses import display_domain


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('domains', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=253), server_default='', nullable=False))
    bind = op.get_bind()
    op.execute("UPDATE domains SET display_name = name")
    for domain_id, name in bind.execute(sa.text("SELECT id, name FROM domains WHERE name LIKE '%xn--%'")).all():
        bind.execute(sa.text("UPDATE domains SET display_name = :shown WHERE id = :id"),
                     {"shown": display_domain(name), "id": domain_id})


def downgrade() -> None:
    with op.batch_alter_table('domains', schema=None) as batch_op:
        batch_op.drop_column('display_name')
