"""Outgoing notifications, keyed by business key: the record that makes sending happen once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import OutboundEmail


async def claim(session: AsyncSession, *, key: str, client_id: int | None, recipient: str, subject: str,
                message_id: str) -> OutboundEmail:
    """The outbox row for `key`, created if new. `sent_at` tells whether it already went out."""
    row = (await session.execute(select(OutboundEmail).where(OutboundEmail.key == key))).scalar_one_or_none()
    if row is not None:
        return row
    row = OutboundEmail(key=key, client_id=client_id, recipient=recipient, subject=subject, message_id=message_id)
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a concurrent attempt claimed it first
        return (await session.execute(select(OutboundEmail).where(OutboundEmail.key == key))).scalar_one()
    return row


async def mark_sent(session: AsyncSession, key: str, at: datetime) -> None:
    row = (await session.execute(select(OutboundEmail).where(OutboundEmail.key == key))).scalar_one()
    row.sent_at = at
