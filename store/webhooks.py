"""Provider events as received: each verified event id once (a redelivery changes nothing), with
what we did about it, so operators can find the ones that matched nothing."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import WebhookEvent

NEEDS_OPERATOR = ("unknown_order", "order_closed", "refund_unmatched")


async def first_time(sessions: async_sessionmaker[AsyncSession], provider: str, event_id: str,
                     event_type: str) -> bool:
    """Claim the event; False when it was claimed before (a redelivery)."""
    try:
        async with sessions.begin() as session:
            session.add(WebhookEvent(provider=provider, event_id=event_id[:120], event_type=event_type[:80],
                                     outcome="received"))
    except IntegrityError:
        return False
    return True


async def set_outcome(sessions: async_sessionmaker[AsyncSession], provider: str, event_id: str, outcome: str) -> None:
    async with sessions.begin() as session:
        event = (await session.execute(select(WebhookEvent).where(
            WebhookEvent.provider == provider, WebhookEvent.event_id == event_id[:120]))).scalar_one()
        event.outcome = outcome[:200]


async def release(sessions: async_sessionmaker[AsyncSession], provider: str, event_id: str) -> None:
    """Forget a claim whose handling failed, so the provider's retry is handled afresh."""
    async with sessions.begin() as session:
        event = (await session.execute(select(WebhookEvent).where(
            WebhookEvent.provider == provider, WebhookEvent.event_id == event_id[:120]))).scalar_one_or_none()
        if event is not None:
            await session.delete(event)


async def needing_attention(session: AsyncSession, limit: int = 100) -> list[WebhookEvent]:
    return list((await session.execute(select(WebhookEvent).where(WebhookEvent.outcome.in_(NEEDS_OPERATOR))
                                       .order_by(WebhookEvent.id.desc()).limit(limit))).scalars())
