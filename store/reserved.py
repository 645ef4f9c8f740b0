"""Reserved names as people edit them: the operator's global list and each domain owner's own list,
every change in the audit log. Checks read the same table (store.availability), so an edit shows
in the very next grid."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.availability import valid_pattern
from core.errors import BusinessError
from core.refusals import Refusals, refuse
from store import audit
from store.models import Client, Domain, ReservedName


@dataclass(frozen=True)
class Scope:
    """Which list: global (domain None, operators only) or one domain's (its owner or an operator)."""
    domain: Domain | None

    @property
    def label(self) -> str:
        return self.domain.name if self.domain else "global"


async def scope_for(session: AsyncSession, who: Client, domain_name: str | None) -> Scope:
    if not domain_name:
        if not who.is_operator:
            raise refuse(Refusals.FORBIDDEN, "domain")
        return Scope(None)
    domain = (await session.execute(select(Domain).where(Domain.name == domain_name))).scalar_one_or_none()
    # Someone else's domain answers exactly like a missing one: no hint of what exists.
    if domain is None or not (who.is_operator or domain.owner_client_id == who.id):
        raise refuse(Refusals.DOMAIN_NOT_YOURS, "domain", domain_name=domain_name)
    return Scope(domain)


async def editable_domains(session: AsyncSession, who: Client) -> list[Domain]:
    """The domains whose list this person may edit (for operators: the owned-by-us ones too many to
    list, so only those with entries already; any other is reachable by name)."""
    if who.is_operator:
        stmt = (select(Domain).join(ReservedName, ReservedName.domain_id == Domain.id).distinct()
                .order_by(Domain.name))
    else:
        stmt = select(Domain).where(Domain.owner_client_id == who.id).order_by(Domain.name)
    return list((await session.execute(stmt)).scalars())


async def entries(session: AsyncSession, scope: Scope, *, limit: int = 2000) -> list[ReservedName]:
    cond = ReservedName.domain_id.is_(None) if scope.domain is None else ReservedName.domain_id == scope.domain.id
    return list((await session.execute(
        select(ReservedName).where(cond).order_by(ReservedName.pattern).limit(limit))).scalars())


async def add(session: AsyncSession, who: Client, scope: Scope, raw_pattern: str, reason: str = "") -> ReservedName:
    pattern = valid_pattern(raw_pattern)
    reason = " ".join((reason or "").split())[:200]
    domain_id = scope.domain.id if scope.domain else None
    cond = ReservedName.domain_id.is_(None) if domain_id is None else ReservedName.domain_id == domain_id
    existing = (await session.execute(
        select(ReservedName).where(cond, ReservedName.pattern == pattern))).scalar_one_or_none()
    if existing is not None:
        raise refuse(Refusals.PATTERN_EXISTS, "pattern", pattern=pattern, label=scope.label)
    entry = ReservedName(domain_id=domain_id, pattern=pattern, reason=reason)
    session.add(entry)
    await session.flush()
    audit.record(session, f"client:{who.id}", "reserved.add", "reserved_name", entry.id,
                 after={"list": scope.label, "pattern": pattern, "reason": reason})
    return entry


async def remove(session: AsyncSession, who: Client, entry_id: int) -> ReservedName:
    entry = await session.get(ReservedName, entry_id)
    if entry is None:
        raise refuse(Refusals.ENTRY_UNKNOWN, "id")
    domain = await session.get(Domain, entry.domain_id) if entry.domain_id else None
    try:
        await scope_for(session, who, domain.name if domain else None)
    except BusinessError:  # someone else's entry reads as no entry at all
        raise refuse(Refusals.ENTRY_UNKNOWN, "id") from None
    audit.record(session, f"client:{who.id}", "reserved.remove", "reserved_name", entry.id,
                 before={"list": domain.name if domain else "global", "pattern": entry.pattern,
                         "reason": entry.reason})
    await session.delete(entry)
    return entry
