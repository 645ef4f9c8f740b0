"""The domain portfolio as customers browse it: categories with counts, domains searched and paged."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.addresses import display_domain
from store.models import Category, Domain


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

        def like(text: str) -> str:
            return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

        # the ASCII column for "xn--" or plain input, the Unicode column for a partial "münch"
        stmt = stmt.where(or_(Domain.name.like(like(ascii_needle), escape="\\"),
                              Domain.display_name.like(like(needle), escape="\\")))
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
    """(name, slug, parent name, listed domains) for every category, each parent followed by its
    subcategories; a parent counts its subcategories' domains too. Two queries, no domain rows."""
    cats = (await session.execute(select(Category).options(selectinload(Category.parent)))).scalars().all()
    own = dict((await session.execute(
        select(Domain.category_id, func.count()).where(Domain.listed.is_(True)).group_by(Domain.category_id))).all())
    below: dict[int, int] = {}
    for c in cats:
        if c.parent_id is not None:
            below[c.parent_id] = below.get(c.parent_id, 0) + own.get(c.id, 0)
    ordered = sorted(cats, key=lambda c: ((c.parent.name if c.parent else c.name).lower(), c.parent_id is not None,
                                          c.name.lower()))
    return [(c.name, c.slug, c.parent.name if c.parent else None, own.get(c.id, 0) + below.get(c.id, 0))
            for c in ordered]
