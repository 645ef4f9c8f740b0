"""The domain portfolio as customers browse it, and whether one name is free across domains."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.addresses import display_domain
from store.models import Category, Domain


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
