"""The cPanel inventory table: replaced per domain by each sync."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import CpanelInventory, Domain


async def portfolio_domains(session: AsyncSession) -> list[str]:
    return list((await session.execute(select(Domain.name).order_by(Domain.name))).scalars())


async def replace_domain(session: AsyncSession, domain_name: str, entries: set[tuple[str, str]], at: datetime) -> bool:
    """Make the domain's rows exactly `entries` ((local part, kind) pairs). False if unknown."""
    domain_id = (await session.execute(select(Domain.id).where(Domain.name == domain_name))).scalar_one_or_none()
    if domain_id is None:
        return False
    await session.execute(delete(CpanelInventory).where(CpanelInventory.domain_id == domain_id))
    session.add_all(CpanelInventory(domain_id=domain_id, local_part=local, kind=kind, synced_at=at)
                    for local, kind in sorted(entries))
    return True
