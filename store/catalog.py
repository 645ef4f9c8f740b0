"""The domain portfolio as customers browse it, and whether one name is free across domains."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
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


@dataclass(frozen=True)
class DomainPage:
    domains: list[str]          # Unicode names, sorted
    total: int
    page: int
    pages: int


async def search_domains(session: AsyncSession, *, q: str = "", category_slug: str = "", page: int = 1,
                         per_page: int = 60) -> DomainPage:
    """Listed domains matching a text (in either form) and a category or any of its subcategories."""
    stmt = select(Domain.name).where(Domain.listed.is_(True))
    if q:
        needle = q.strip().lower()
        try:
            ascii_needle = needle.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_needle = needle
        escaped = [n.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for n in (needle, ascii_needle)]
        stmt = stmt.where(or_(*[Domain.name.like(f"%{n}%", escape="\\") for n in escaped]))
    if category_slug:
        cat = (await session.execute(select(Category).where(Category.slug == category_slug))).scalar_one_or_none()
        if cat is None:
            return DomainPage([], 0, 1, 1)
        children = select(Category.id).where(Category.parent_id == cat.id)
        stmt = stmt.where(or_(Domain.category_id == cat.id, Domain.category_id.in_(children)))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    names = (await session.execute(stmt.order_by(Domain.name).offset((page - 1) * per_page).limit(per_page))).scalars()
    return DomainPage([display_domain(n) for n in names], total, page, pages)


async def category_counts(session: AsyncSession) -> list[tuple[str, str, str | None, int]]:
    """(name, slug, parent name, listed domains) for every category, parents before children."""
    views = await categories(session)
    below: dict[str, int] = {}
    for v in views:
        if v.parent:
            below[v.parent] = below.get(v.parent, 0) + len(v.domains)
    return [(v.name, v.slug, v.parent, len(v.domains) + (0 if v.parent else below.get(v.name, 0))) for v in views]
