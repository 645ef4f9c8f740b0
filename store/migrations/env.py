"""Alembic environment: the same revisions run against PostgreSQL and the embedded SQLite file."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from store.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run_migrations() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table rebuilds
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
