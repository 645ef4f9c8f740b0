"""Promo codes and their uses. A checkout locks the code's row while it counts the uses and records
its own, so two checkouts at once can never take a code past its limit; a cancelled order gives its
use back (store.billing.cancel_invoice)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.money import Money
from core.promos import PromoRule
from core.refusals import Refusals, refuse
from store import audit
from store.db import locked_one
from store.models import PromoCode, PromoRedemption


def rule_of(row: PromoCode) -> PromoRule:
    return PromoRule(code=row.code, percent_bp=row.percent_bp,
                     amount=Money(row.amount_minor, row.currency) if row.amount_minor else None,
                     starts_at=row.starts_at, ends_at=row.ends_at, max_uses=row.max_uses,
                     max_uses_per_client=row.max_uses_per_client,
                     kinds=tuple(k for k in row.kinds.split(",") if k),
                     domains=tuple(d for d in row.domains.split(",") if d), active=row.active)


async def create(session: AsyncSession, rule: PromoRule, currency: str, actor: str) -> PromoCode:
    rule.validate()
    row = PromoCode(code=rule.code, percent_bp=rule.percent_bp, amount_minor=rule.amount.minor if rule.amount else 0,
                    currency=rule.amount.currency if rule.amount else currency, starts_at=rule.starts_at,
                    ends_at=rule.ends_at, max_uses=rule.max_uses, max_uses_per_client=rule.max_uses_per_client,
                    kinds=",".join(rule.kinds), domains=",".join(rule.domains), active=True, created_by=actor)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise refuse(Refusals.PROMO_CODE_EXISTS, "code", promo=rule.code) from None
    audit.record(session, actor, "promo.created", "promo_code", rule.code, None,
                 {"value": rule.describe(), "max_uses": rule.max_uses, "per_client": rule.max_uses_per_client,
                  "kinds": row.kinds, "domains": row.domains,
                  "starts_at": rule.starts_at, "ends_at": rule.ends_at})
    return row


async def locked(session: AsyncSession, code: str) -> PromoCode:
    return await locked_one(session, select(PromoCode).where(PromoCode.code == code),
                            Refusals.PROMO_UNKNOWN, "promo_code", promo=code)


async def uses(session: AsyncSession, promo_id: int, client_id: int | None = None) -> int:
    query = select(func.count()).select_from(PromoRedemption).where(
        PromoRedemption.promo_id == promo_id, PromoRedemption.released.is_(False))
    if client_id is not None:
        query = query.where(PromoRedemption.client_id == client_id)
    return int((await session.execute(query)).scalar_one())


async def redeem(session: AsyncSession, promo: PromoCode, client_id: int, order_id: int, discount: Money) -> None:
    session.add(PromoRedemption(promo_id=promo.id, client_id=client_id, order_id=order_id,
                                discount_minor=discount.minor))
    audit.record(session, f"client:{client_id}", "promo.redeemed", "promo_code", promo.code, None,
                 {"order": order_id, "discount": discount.amount()})


async def set_active(session: AsyncSession, code: str, active: bool, actor: str) -> PromoCode:
    row = await locked(session, code)
    if row.active != active:
        audit.record(session, actor, "promo.active", "promo_code", code, {"active": row.active}, {"active": active})
        row.active = active
    return row


async def listing(session: AsyncSession) -> list[tuple[PromoCode, int]]:
    counted = (select(PromoRedemption.promo_id, func.count().label("n")).where(PromoRedemption.released.is_(False))
               .group_by(PromoRedemption.promo_id).subquery())
    rows = await session.execute(select(PromoCode, func.coalesce(counted.c.n, 0))
                                 .outerjoin(counted, counted.c.promo_id == PromoCode.id)
                                 .order_by(PromoCode.created_at.desc(), PromoCode.id.desc()))
    return [(row, int(n)) for row, n in rows]
