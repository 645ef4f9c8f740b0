"""What the database knows about names × domains, fetched in a fixed number of queries whatever
the grid size: live holders, the cPanel inventory, reserved patterns, listed domains, backups."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.availability import Cell, classify
from store.models import LIVE_STATUSES, CpanelInventory, Domain, DomainBackup, ReservedName, Subscription


@dataclass
class Facts:
    held: set[tuple[int, str]] = field(default_factory=set)        # (domain id, name) with a live holder
    on_server: set[tuple[int, str]] = field(default_factory=set)   # on cPanel and not ours
    exact: dict[int | None, set[str]] = field(default_factory=dict)
    prefixes: dict[int | None, list[str]] = field(default_factory=dict)
    _reserved: dict[int, tuple[frozenset[str], tuple[str, ...]]] = field(default_factory=dict)

    def reserved_for(self, domain_id: int) -> tuple[frozenset[str], tuple[str, ...]]:
        """Global and per-domain entries combined once per domain, not once per cell."""
        if domain_id not in self._reserved:
            self._reserved[domain_id] = (
                frozenset(self.exact.get(None, _NONE) | self.exact.get(domain_id, _NONE)),
                tuple(self.prefixes.get(None, []) + self.prefixes.get(domain_id, [])))
        return self._reserved[domain_id]

    def status(self, domain_id: int, name: str) -> Cell:
        exact, prefixes = self.reserved_for(domain_id)
        return classify(name, held=(domain_id, name) in self.held, on_server=(domain_id, name) in self.on_server,
                        reserved_exact=exact, reserved_prefixes=prefixes)


_NONE: frozenset[str] = frozenset()


async def domains_by_name(session: AsyncSession, names: list[str], *, listed_only: bool) -> dict[str, Domain]:
    stmt = select(Domain).where(Domain.name.in_(names))
    if listed_only:
        stmt = stmt.where(Domain.listed.is_(True))
    return {d.name: d for d in (await session.execute(stmt)).scalars()}


async def all_domains(session: AsyncSession) -> list[Domain]:
    return list((await session.execute(select(Domain))).scalars())


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
    """One round trip, bounded by names and domain ids (not by their product): live holders,
    the cPanel inventory and reserved entries, as one UNION ALL."""
    if not names or not domains:
        return Facts()
    ids = [d.id for d in domains]
    held = select(literal("h").label("src"), Subscription.domain_id, Subscription.local_part.label("name"),
                  literal(False).label("is_prefix")).where(
        Subscription.local_part.in_(names), Subscription.domain_id.in_(ids), Subscription.status.in_(LIVE_STATUSES))
    stock = select(literal("i"), CpanelInventory.domain_id, CpanelInventory.local_part, literal(False)).where(
        CpanelInventory.domain_id.in_(ids), CpanelInventory.local_part.in_(names))
    reserved = select(literal("r"), ReservedName.domain_id, ReservedName.pattern, ReservedName.is_prefix).where(
        or_(ReservedName.domain_id.is_(None), ReservedName.domain_id.in_(ids)),
        or_(ReservedName.pattern.in_(names), ReservedName.is_prefix.is_(True)))
    found = Facts()
    inventory: set[tuple[int, str]] = set()
    for src, domain_id, name, is_prefix in (await session.execute(union_all(held, stock, reserved))).all():
        if src == "h":
            found.held.add((domain_id, name))
        elif src == "i":
            inventory.add((domain_id, name))
        elif is_prefix:
            found.prefixes.setdefault(domain_id, []).append(name[:-1])
        else:
            found.exact.setdefault(domain_id, set()).add(name)
    found.on_server = inventory - found.held  # what we sold is on cPanel too
    return found


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
