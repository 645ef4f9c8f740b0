"""What the database knows about names × domains, fetched in a fixed number of queries whatever
the grid size: live holders, the cPanel inventory, reserved patterns, listed domains, backups."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from store.models import LIVE_STATUSES, CpanelInventory, Domain, DomainBackup, ReservedName, Subscription


@dataclass
class Facts:
    held: set[str] = field(default_factory=set)                     # addresses with a live holder
    on_server: set[tuple[int, str]] = field(default_factory=set)    # (domain id, name) on cPanel, not ours
    patterns: dict[int | None, list[str]] = field(default_factory=dict)

    def patterns_for(self, domain_id: int) -> list[str]:
        return self.patterns.get(None, []) + self.patterns.get(domain_id, [])


async def domains_by_name(session: AsyncSession, names: list[str], *, listed_only: bool) -> dict[str, Domain]:
    stmt = select(Domain).where(Domain.name.in_(names))
    if listed_only:
        stmt = stmt.where(Domain.listed.is_(True))
    return {d.name: d for d in (await session.execute(stmt)).scalars()}


async def backups_of(session: AsyncSession, domain_ids: list[int]) -> dict[int, list[Domain]]:
    backup = aliased(Domain)
    rows = (await session.execute(
        select(DomainBackup.domain_id, backup).join(backup, backup.id == DomainBackup.backup_id)
        .where(DomainBackup.domain_id.in_(domain_ids)).order_by(DomainBackup.domain_id, DomainBackup.position))).all()
    found: dict[int, list[Domain]] = {}
    for domain_id, domain in rows:
        found.setdefault(domain_id, []).append(domain)
    return found


async def facts(session: AsyncSession, names: list[str], domains: list[Domain]) -> Facts:
    if not names or not domains:
        return Facts()
    ids = [d.id for d in domains]
    addresses = [f"{n}@{d.name}" for n in names for d in domains]
    held = set((await session.execute(
        select(Subscription.address).where(Subscription.address.in_(addresses),
                                           Subscription.status.in_(LIVE_STATUSES)))).scalars())
    pairs = [(d.id, n) for d in domains for n in names]
    by_id = {d.id: d for d in domains}
    inventory = {(domain_id, name) for domain_id, name in (await session.execute(
        select(CpanelInventory.domain_id, CpanelInventory.local_part)
        .where(tuple_(CpanelInventory.domain_id, CpanelInventory.local_part).in_(pairs)))).all()}
    # what we sold is on cPanel too; only the rest "exists"
    on_server = {(d, n) for d, n in inventory if f"{n}@{by_id[d].name}" not in held}
    rows = (await session.execute(
        select(ReservedName.domain_id, ReservedName.pattern)
        .where(or_(ReservedName.domain_id.is_(None), ReservedName.domain_id.in_(ids)))
        .where(or_(ReservedName.pattern.in_(names), ReservedName.pattern.like("%*"))))).all()
    patterns: dict[int | None, list[str]] = {}
    for domain_id, pattern in rows:
        patterns.setdefault(domain_id, []).append(pattern)
    return Facts(held, on_server, patterns)


async def orderable_domain(session: AsyncSession, name: str) -> Domain | None:
    """A listed domain, or an unlisted one that serves as a backup of a listed domain."""
    domain = (await session.execute(select(Domain).where(Domain.name == name))).scalar_one_or_none()
    if domain is None or domain.listed:
        return domain
    parent = aliased(Domain)
    is_backup = (await session.execute(
        select(DomainBackup.id).join(parent, parent.id == DomainBackup.domain_id)
        .where(DomainBackup.backup_id == domain.id, parent.listed.is_(True)).limit(1))).first()
    return domain if is_backup else None
