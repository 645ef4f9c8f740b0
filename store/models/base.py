"""The declarative base every table shares: naming convention, database-side timestamps, live statuses."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import MetaData, func
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Statuses in which an address belongs to somebody. The partial unique index on subscriptions is what
# makes "one live holder per address" hold under any race, in PostgreSQL and SQLite alike.
# `expired` is the grace period (suspended, renewable); `quarantined` keeps a removed address from
# being sold again too soon.
LIVE_STATUSES = ("pending_payment", "provisioning", "active", "attention", "expired", "quarantined")
LIVE_SQL = "status IN ('pending_payment', 'provisioning', 'active', 'attention', 'expired', 'quarantined')"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> datetime:
    # Database-side default; application code passes explicit times where business rules care.
    return func.now()  # type: ignore[return-value]
