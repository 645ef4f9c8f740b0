"""Import the portfolio idempotently: categories and domains upserted, backups replaced in order."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.portfolio import PortfolioRow
from core.refusals import Refusals, refuse
from store import audit
from store.demo import slug
from store.models import Category, Domain, DomainBackup


@dataclass
class ImportSummary:
    categories_created: int = 0
    domains_created: int = 0
    domains_updated: int = 0
    domains_unchanged: int = 0
    backups_set: int = 0
    changed: list[str] = field(default_factory=list)


async def _category(session: AsyncSession, cache: dict, name: str, parent: Category | None,
                    summary: ImportSummary) -> Category:
    key = (parent.id if parent else None, name.lower())
    if key in cache:
        return cache[key]
    stmt = select(Category).where(Category.parent_id.is_(None) if parent is None else Category.parent_id == parent.id)
    found = next((c for c in (await session.execute(stmt)).scalars() if c.name.lower() == name.lower()), None)
    if found is None:
        found = Category(name=name, slug=slug(f"{parent.name}-{name}" if parent else name), parent_id=parent.id if parent else None)
        session.add(found)
        await session.flush()
        summary.categories_created += 1
    cache[key] = found
    return found


async def import_portfolio(session: AsyncSession, rows: list[PortfolioRow], actor: str,
                           progress: Callable[[int], None] = lambda n: None) -> ImportSummary:
    summary = ImportSummary()
    cache: dict = {}
    existing = {d.name: d for d in (await session.execute(select(Domain))).scalars()}
    wanted_backups = {b for r in rows for b in r.backups}
    unknown = sorted(wanted_backups - existing.keys() - {r.domain for r in rows})
    if unknown:
        raise refuse(Refusals.BACKUP_UNKNOWN, names=", ".join(unknown[:10]))
    for done, row in enumerate(rows, start=1):
        top = await _category(session, cache, row.category, None, summary)
        cat = await _category(session, cache, row.subcategory, top, summary) if row.subcategory else top
        domain = existing.get(row.domain)
        if domain is None:
            domain = Domain(name=row.domain, category_id=cat.id, listed=row.listed)
            session.add(domain)
            existing[row.domain] = domain
            summary.domains_created += 1
            summary.changed.append(f"+ {row.domain}")
        elif (domain.category_id, domain.listed) != (cat.id, row.listed):
            before = {"category_id": domain.category_id, "listed": domain.listed}
            domain.category_id, domain.listed = cat.id, row.listed
            summary.domains_updated += 1
            summary.changed.append(f"~ {row.domain}")
            audit.record(session, actor, "domain.imported", "domain", row.domain, before,
                         {"category_id": cat.id, "listed": row.listed})
        else:
            summary.domains_unchanged += 1
        progress(done)
    await session.flush()
    for row in rows:
        domain = existing[row.domain]
        current = [b for (b,) in (await session.execute(
            select(DomainBackup.backup_id).where(DomainBackup.domain_id == domain.id)
            .order_by(DomainBackup.position))).all()]
        target = [existing[b].id for b in row.backups]
        if current != target:
            await session.execute(delete(DomainBackup).where(DomainBackup.domain_id == domain.id))
            session.add_all(DomainBackup(domain_id=domain.id, backup_id=b, position=i) for i, b in enumerate(target))
            summary.backups_set += 1
    audit.record(session, actor, "portfolio.imported", "portfolio", "csv", None,
                 {"created": summary.domains_created, "updated": summary.domains_updated})
    return summary
