"""Where forwarders deliver, and changes to it: what a hosted address forwards to (for loop
checks across customers), pending changes awaiting the new destination's confirmation, applying one."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from store.models import LIVE_STATUSES, DestinationChange, Domain, Subscription


async def live_subscription(session: AsyncSession, address: str) -> Subscription | None:
    return (await session.execute(select(Subscription).where(
        Subscription.address == address, Subscription.status.in_(LIVE_STATUSES)))).scalar_one_or_none()


async def is_our_domain(session: AsyncSession, domain: str) -> bool:
    return (await session.execute(select(Domain.id).where(Domain.name == domain))).first() is not None


async def hops_from(session: AsyncSession, start: str, limit: int = 50) -> dict[str, str]:
    """Follow hosted forwarders from `start`: {address: where it forwards} for each one met."""
    hops: dict[str, str] = {}
    current = start
    while current not in hops and len(hops) < limit:
        sub = await live_subscription(session, current)
        if sub is None or sub.kind != "forwarder" or not sub.destination:
            break
        hops[current] = sub.destination.lower()
        current = hops[current]
    return hops


async def request_change(session: AsyncSession, sub: Subscription, new_destination: str, *, now: datetime,
                         ttl: timedelta, actor: str) -> DestinationChange:
    """A new pending change; any earlier pending one for the address is superseded."""
    await session.execute(update(DestinationChange).where(
        DestinationChange.subscription_id == sub.id, DestinationChange.status == "pending").values(status="superseded"))
    change = DestinationChange(subscription_id=sub.id, old_destination=sub.destination,
                               new_destination=new_destination, status="pending", requested_at=now,
                               expires_at=now + ttl)
    session.add(change)
    await session.flush()
    audit.record(session, actor, "destination.requested", "subscription", sub.address,
                 {"destination": sub.destination}, {"requested": new_destination, "change": change.id})
    return change


async def change(session: AsyncSession, change_id: int) -> DestinationChange | None:
    return await session.get(DestinationChange, change_id)


async def apply_change(session: AsyncSession, change_id: int, now: datetime) -> Subscription:
    """Record the switch (idempotent): the subscription now forwards to the new destination."""
    row = await session.get(DestinationChange, change_id)
    assert row is not None
    sub = await session.get(Subscription, row.subscription_id)
    assert sub is not None
    if row.status != "applied":
        before = sub.destination
        row.status, row.applied_at = "applied", now
        sub.destination = row.new_destination
        audit.record(session, "destination-owner", "destination.changed", "subscription", sub.address,
                     {"destination": before}, {"destination": row.new_destination, "change": change_id})
    return sub
