"""The domain portfolio as customers browse it, and whether one name is free across domains."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.addresses import display_domain
from store.models import LIVE_STATUSES, Category, Domain, ReservedName, Subscription


@dataclass(frozen=True)
class CategoryView:
    id: int
    name: str
    slug: str
    parent: str | None
    domains: list[str]


async def categories(session: AsyncSession) -> list[CategoryView]:
    """Every category with its listed domains (subcategories are named `parent / child`)."""
    cats = (await session.execute(select(Category).options(selectinload(Category.parent))
                                  .order_by(Category.name))).scalars().all()
    rows = (await session.execute(
        select(Domain.name, Domain.category_id).where(Domain.listed.is_(True)).order_by(Domain.name))).all()
    by_cat: dict[int | None, list[str]] = {}
    for name, cat_id in rows:
        by_cat.setdefault(cat_id, []).append(display_domain(name))
    views = [CategoryView(c.id, c.name, c.slug, c.parent.name if c.parent else None, by_cat.get(c.id, []))
             for c in cats]
    return sorted(views, key=lambda v: ((v.parent or v.name).lower(), v.parent is not None, v.name.lower()))


async def listed_domain(session: AsyncSession, name: str) -> Domain | None:
    return (await session.execute(
        select(Domain).where(Domain.name == name, Domain.listed.is_(True)))).scalar_one_or_none()


def _reserved(name: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern.endswith("*") and name.startswith(pattern[:-1]):
            return True
        if name == pattern:
            return True
    return False


async def availability(session: AsyncSession, local_part: str, domains: list[Domain]) -> dict[str, str]:
    """`available`, `taken` or `reserved` for one normalized name at each given domain."""
    ids = [d.id for d in domains]
    addresses = [f"{local_part}@{d.name}" for d in domains]
    taken = set((await session.execute(
        select(Subscription.address).where(Subscription.address.in_(addresses),
                                           Subscription.status.in_(LIVE_STATUSES)))).scalars())
    reserved_rows = (await session.execute(
        select(ReservedName.domain_id, ReservedName.pattern).where(
            (ReservedName.domain_id.is_(None)) | (ReservedName.domain_id.in_(ids))))).all()
    global_patterns = [p for d, p in reserved_rows if d is None]
    result: dict[str, str] = {}
    for domain in domains:
        address = f"{local_part}@{domain.name}"
        own = [p for d, p in reserved_rows if d == domain.id]
        if _reserved(local_part, global_patterns + own):
            result[domain.name] = "reserved"
        elif address in taken:
            result[domain.name] = "taken"
        else:
            result[domain.name] = "available"
    return result
