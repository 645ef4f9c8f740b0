"""Provider events as received: each verified event id once (a redelivery changes nothing), with
what we did about it, so operators can find the ones that matched nothing; and each PayPal
transmission id once (a signed delivery's headers reused on another body are refused)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.statuses import WebhookOutcome
from store.models import PayPalTransmission, WebhookEvent

NEEDS_OPERATOR = ("unknown_order", "order_closed", "refund_unmatched", "not_at_paypal", "reversal_unmatched",
                  "dispute_unmatched")


async def first_time(sessions: async_sessionmaker[AsyncSession], provider: str, event_id: str,
                     event_type: str) -> bool:
    """Claim the event; False when it was claimed before (a redelivery)."""
    try:
        async with sessions.begin() as session:
            session.add(WebhookEvent(provider=provider, event_id=event_id[:120], event_type=event_type[:80],
                                     outcome=WebhookOutcome.RECEIVED))
    except IntegrityError:
        return False
    return True


async def set_outcome(sessions: async_sessionmaker[AsyncSession], provider: str, event_id: str, outcome: str, *,
                      only_received: bool = False) -> None:
    """What we did about the event; `only_received`: unless a workflow handling it has said already."""
    async with sessions.begin() as session:
        event = (await session.execute(select(WebhookEvent).where(
            WebhookEvent.provider == provider, WebhookEvent.event_id == event_id[:120]))).scalar_one_or_none()
        if event is not None and (not only_received or event.outcome == WebhookOutcome.RECEIVED):
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


async def claim_transmission(sessions: async_sessionmaker[AsyncSession], transmission_id: str, body_sha256: str,
                             transmitted_at: datetime) -> str:
    """`new`; `same` (this transmission came before with this very body: a redelivery); or `replayed`
    (its id came before with another body: someone reuses a signed delivery's headers)."""
    try:
        async with sessions.begin() as session:
            session.add(PayPalTransmission(transmission_id=transmission_id[:64], body_sha256=body_sha256,
                                           transmitted_at=transmitted_at))
        return "new"
    except IntegrityError:
        pass
    async with sessions() as session:
        seen = (await session.execute(select(PayPalTransmission.body_sha256).where(
            PayPalTransmission.transmission_id == transmission_id[:64]))).scalar_one()
    return "same" if seen == body_sha256 else "replayed"


async def release_transmission(sessions: async_sessionmaker[AsyncSession], transmission_id: str) -> None:
    """Forget a transmission whose handling failed, so PayPal's retry of it is taken."""
    async with sessions.begin() as session:
        await session.execute(delete(PayPalTransmission).where(
            PayPalTransmission.transmission_id == transmission_id[:64]))
