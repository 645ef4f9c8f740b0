"""Reminder steps reached and the daily digest that carries them: a step is written once per term
of an address; a client's digest of a day takes every step not yet sent, once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.statuses import RenewalDecision, SubscriptionStatus
from store.models import RenewalOffer, Reminder, Subscription

SKIPPED = "skipped"      # digest_key of a step that no longer applies (renewed, cancelled, declined)


@dataclass(frozen=True)
class DigestLine:
    address: str
    kind: str
    term_end: date
    threshold: str


async def queue(session: AsyncSession, *, subscription_id: int, client_id: int, term_end: date, threshold: str,
                due_on: date) -> bool:
    """Record that the step was reached; False when it already was (never sent twice)."""
    session.add(Reminder(subscription_id=subscription_id, client_id=client_id, term_end=term_end,
                         threshold=threshold, due_on=due_on))
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        return False
    return True


def digest_key(client_id: int, day: date) -> str:
    return f"digest:{client_id}:{day.isoformat()}"


async def assemble(session: AsyncSession, client_id: int, day: date) -> tuple[str, list[DigestLine], bool] | None:
    """Give the client's waiting steps today's digest key and return them; a step whose address was
    renewed, cancelled or declined since is dropped, and an address with several steps waiting (after
    a pause) is listed once, at the nearest. If today's digest was already assembled, the
    new steps wait, and today's lines come back with `fresh` False (an interrupted send resumes with
    them; the outbox sends a key once)."""
    key = digest_key(client_id, day)
    ours = await _lines(session, key)
    if ours:
        return key, ours, False
    waiting = list((await session.execute(
        select(Reminder, Subscription).join(Subscription, Subscription.id == Reminder.subscription_id)
        .where(Reminder.client_id == client_id, Reminder.digest_key.is_(None)))).all())
    declined = {(o.subscription_id, o.term_end) for o in (await session.execute(
        select(RenewalOffer).where(RenewalOffer.decision == RenewalDecision.DECLINED,
                                   RenewalOffer.subscription_id.in_([r.subscription_id for r, _ in waiting])))).scalars()}
    nearest: dict[int, Reminder] = {}   # an address appears once, at its nearest step
    for reminder, sub in waiting:
        still = (sub.status == SubscriptionStatus.ACTIVE and sub.term_end == reminder.term_end
                 and not sub.cancel_at_term_end and (sub.id, reminder.term_end) not in declined)
        reminder.digest_key = SKIPPED
        if still and (sub.id not in nearest or reminder.due_on > nearest[sub.id].due_on):
            nearest[sub.id] = reminder
    for reminder in nearest.values():
        reminder.digest_key = key
    await session.flush()
    lines = await _lines(session, key)
    return (key, lines, True) if lines else None


async def _lines(session: AsyncSession, key: str) -> list[DigestLine]:
    rows = (await session.execute(
        select(Reminder, Subscription).join(Subscription, Subscription.id == Reminder.subscription_id)
        .where(Reminder.digest_key == key).order_by(Reminder.due_on.desc(), Subscription.address))).all()
    return [DigestLine(sub.address, sub.kind, r.term_end, r.threshold) for r, sub in rows]


async def waiting(session: AsyncSession, client_id: int) -> int:
    return len((await session.execute(select(Reminder.id).where(
        Reminder.client_id == client_id, Reminder.digest_key.is_(None)))).all())
