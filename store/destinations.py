"""Where forwarders deliver, and changes to it: what a hosted address forwards to (for loop
checks across customers), pending changes awaiting the new destination's confirmation, applying one."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.refusals import Refusals, refuse
from core.statuses import ChangeStatus, SubscriptionStatus
from store import audit
from store.models import LIVE_STATUSES, AuditEntry, DestinationChange, Domain, Subscription


async def live_subscription(session: AsyncSession, address: str) -> Subscription | None:
    return (await session.execute(select(Subscription).where(
        Subscription.address == address, Subscription.status.in_(LIVE_STATUSES)))).scalar_one_or_none()


_WRONG_KIND = {"forwarder": Refusals.NOT_A_FORWARDER, "mailbox": Refusals.NOT_A_MAILBOX}


async def own_active(session: AsyncSession, client_id: int, address: str, kind: str) -> Subscription:
    """The client's own active address of this kind, or the refusal a customer should see."""
    sub = await live_subscription(session, (address or "").strip().lower())
    if sub is None or sub.client_id != client_id:
        raise refuse(Refusals.ADDRESS_NOT_FOUND, "address")
    if sub.kind != kind:
        raise refuse(_WRONG_KIND[kind], "address")
    if sub.status != SubscriptionStatus.ACTIVE:
        raise refuse(Refusals.ADDRESS_NOT_ACTIVE, "address", address=sub.address, state=sub.status.replace("_", " "))
    return sub


async def is_our_domain(session: AsyncSession, domain: str) -> bool:
    return (await session.execute(select(Domain.id).where(Domain.name == domain))).first() is not None


async def hops_from(session: AsyncSession, start: str, limit: int = 50) -> dict[str, list[str]]:
    """Follow hosted forwarders from `start`: {address: everywhere it forwards} for each one met.
    A change confirmed but not yet applied counts as forwarding to both, old and new: it soon will."""
    hops: dict[str, list[str]] = {}
    todo = [start]
    while todo and len(hops) < limit:
        current = todo.pop()
        if current in hops:
            continue
        sub = await live_subscription(session, current)
        if sub is None or sub.kind != "forwarder":
            continue
        targets = [sub.destination.lower()] if sub.destination else []
        targets += [d.lower() for d in (await session.execute(select(DestinationChange.new_destination).where(
            DestinationChange.subscription_id == sub.id,
            DestinationChange.status == ChangeStatus.CONFIRMED))).scalars()]
        hops[current] = list(dict.fromkeys(targets))
        todo += hops[current]
    return hops


async def lock_forwarding(session: AsyncSession) -> None:
    """Serialise every check-then-switch of where our forwarders deliver (to the transaction's end):
    two changes checked at once could each be fine alone and close a circle together."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FORWARDING_LOCK})


FORWARDING_LOCK = 0x6D61696C  # "mail": one advisory lock for the whole forwarding graph


async def request_change(session: AsyncSession, sub: Subscription, new_destination: str, *, now: datetime,
                         ttl: timedelta, actor: str) -> DestinationChange:
    """A new pending change; any earlier pending one for the address is superseded."""
    await session.execute(update(DestinationChange).where(
        DestinationChange.subscription_id == sub.id, DestinationChange.status == ChangeStatus.PENDING)
        .values(status=ChangeStatus.SUPERSEDED))
    change = DestinationChange(subscription_id=sub.id, old_destination=sub.destination,
                               new_destination=new_destination, status=ChangeStatus.PENDING, requested_at=now,
                               expires_at=now + ttl)
    session.add(change)
    await session.flush()
    audit.record(session, actor, "destination.requested", "subscription", sub.address,
                 {"destination": sub.destination}, {"requested": new_destination, "change": change.id})
    return change


async def change(session: AsyncSession, change_id: int) -> DestinationChange | None:
    return await session.get(DestinationChange, change_id)


async def confirm_change(session: AsyncSession, change_id: int) -> None:
    """The new destination followed the link and the check passed: applied next by the workflow."""
    await session.execute(update(DestinationChange).where(
        DestinationChange.id == change_id, DestinationChange.status == ChangeStatus.PENDING)
        .values(status=ChangeStatus.CONFIRMED))


async def refuse_change(session: AsyncSession, change_id: int, actor: str, code: str, message: str) -> None:
    """The change will not be made (the old destination stays); the reason is on the audit log."""
    row = await session.get(DestinationChange, change_id)
    if row is None or row.status in (ChangeStatus.APPLIED, ChangeStatus.REFUSED):
        return
    row.status = ChangeStatus.REFUSED
    sub = await session.get(Subscription, row.subscription_id)
    audit.record(session, actor, "destination.refused", "subscription", sub.address if sub else row.subscription_id,
                 {"destination": row.old_destination},
                 {"requested": row.new_destination, "change": change_id, "code": code, "message": message})


async def refusal(session: AsyncSession, change: DestinationChange) -> str:
    """Why a refused change was not made, as the customer was told."""
    sub = await session.get(Subscription, change.subscription_id)
    entries = (await session.execute(select(AuditEntry.after).where(
        AuditEntry.entity_id == (sub.address if sub else ""), AuditEntry.action == "destination.refused")
        .order_by(AuditEntry.id.desc()))).scalars()
    return next((e.get("message", "") for e in entries if e and e.get("change") == change.id), "")


async def refused_last(session: AsyncSession, client_id: int) -> dict[str, tuple[str, str]]:
    """{address: (destination asked for, why not)} for the client's forwarders whose latest change
    was refused, so the owner learns of it where they asked."""
    latest = (select(DestinationChange.subscription_id, func.max(DestinationChange.id).label("id"))
              .join(Subscription, Subscription.id == DestinationChange.subscription_id)
              .where(Subscription.client_id == client_id).group_by(DestinationChange.subscription_id).subquery())
    rows = (await session.execute(select(DestinationChange).join(latest, latest.c.id == DestinationChange.id)
                                  .where(DestinationChange.status == ChangeStatus.REFUSED))).scalars().all()
    out = {}
    for row in rows:
        sub = await session.get(Subscription, row.subscription_id)
        out[sub.address] = (row.new_destination, await refusal(session, row))
    return out


async def apply_change(session: AsyncSession, change_id: int, now: datetime) -> Subscription:
    """Record the switch (idempotent): the subscription now forwards to the new destination."""
    row = await session.get(DestinationChange, change_id)
    assert row is not None
    sub = await session.get(Subscription, row.subscription_id)
    assert sub is not None
    if row.status != ChangeStatus.APPLIED:
        before = sub.destination
        row.status, row.applied_at = ChangeStatus.APPLIED, now
        sub.destination = row.new_destination
        audit.record(session, "destination-owner", "destination.changed", "subscription", sub.address,
                     {"destination": before}, {"destination": row.new_destination, "change": change_id})
    return sub
