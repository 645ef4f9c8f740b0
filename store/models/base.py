"""The declarative base every table shares: naming convention, database-side timestamps, the live-holder
predicate."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import MetaData, func
from sqlalchemy.orm import DeclarativeBase

from core.statuses import LIVE_STATUSES

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The partial unique index on subscriptions (`status IN` the live statuses) is what makes "one live
# holder per address" hold under any race, in PostgreSQL and SQLite alike (core.statuses.LIVE_STATUSES).
LIVE_SQL = "status IN ({})".format(", ".join(f"'{status}'" for status in LIVE_STATUSES))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> datetime:
    # Database-side default; application code passes explicit times where business rules care.
    return func.now()  # type: ignore[return-value]
