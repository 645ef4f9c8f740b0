"""Engines and session factories for PostgreSQL (psycopg 3) and the embedded SQLite file."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.refusals import Refusals, refuse


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API connection
    # Two processes (API and worker) share the file: WAL lets readers run beside the one writer,
    # and busy_timeout makes a writer wait its turn instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def for_update(session: AsyncSession, query):
    """The query with a row lock on PostgreSQL; SQLite serialises writers on its own."""
    return query.with_for_update() if session.bind.dialect.name == "postgresql" else query


async def locked_one(session: AsyncSession, query, unknown: Refusals, field: str, **detail):
    """The one row `query` selects, locked for the transaction; refused as `unknown` (on `field`,
    its sentence filled from `detail`) when there is none."""
    row = (await session.execute(for_update(session, query))).scalar_one_or_none()
    if row is None:
        raise refuse(unknown, field, **detail)
    return row


def make_engine(async_url: str) -> AsyncEngine:
    url = make_url(async_url)
    if url.get_backend_name() == "sqlite":
        if url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(async_url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(async_url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
