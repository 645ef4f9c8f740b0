"""Where forwarders deliver, and changes to it: what a hosted address forwards to (for loop
checks across customers), pending changes awaiting the new destination's confirmation, applying one."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BusinessError
from store import audit
from store.models import LIVE_STATUSES, DestinationChange, Domain, Subscription


async def live_subscription(session: AsyncSession, address: str) -> Subscription | None:
    return (await session.execute(select(Subscription).where(
        Subscription.address == address, Subscription.status.in_(LIVE_STATUSES)))).scalar_one_or_none()


_WRONG_KIND = {"forwarder": ("not_a_forwarder", "Only a forwarder has a destination."),
               "mailbox": ("not_a_mailbox", "Only a mailbox has this setting.")}


async def own_active(session: AsyncSession, client_id: int, address: str, kind: str) -> Subscription:
    """The client's own active address of this kind, or the refusal a customer should see."""
    sub = await live_subscription(session, (address or "").strip().lower())
    if sub is None or sub.client_id != client_id:
        raise BusinessError("address_not_found", "There is no such address in your account.", "address", 404)
    if sub.kind != kind:
        raise BusinessError(*_WRONG_KIND[kind], "address", 409)
    if sub.status != "active":
        raise BusinessError("address_not_active", f"{sub.address} is {sub.status.replace('_', ' ')}; try again once "
                            "it is active.", "address", 409)
    return sub


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
