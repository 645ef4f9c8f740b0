"""The record of renewals sent to the registrar (`registry_renewals`), one row per `Extend`."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.statuses import RegistryOutcome
from store.models import RegistryRenewal

SENT, EXTENDED, REFUSED = RegistryOutcome.SENT, RegistryOutcome.EXTENDED, RegistryOutcome.REFUSED


async def record_request(session: AsyncSession, domain: str, years: int, expiry_before: date, at: datetime) -> int:
    """Written and committed before the request goes, so a lost answer is on record too."""
    row = RegistryRenewal(domain=domain, years=years, expiry_before=expiry_before, requested_at=at, outcome=SENT)
    session.add(row)
    await session.flush()
    return row.id


async def settle(session: AsyncSession, renewal_id: int, outcome: str, expiry_after: date | None = None) -> None:
    await session.execute(update(RegistryRenewal).where(RegistryRenewal.id == renewal_id)
                          .values(outcome=outcome, expiry_after=expiry_after))


async def extended_since(session: AsyncSession, domain: str, since: datetime) -> RegistryRenewal | None:
    """Our latest renewal of `domain` that the registrar took, if it was requested after `since`."""
    return (await session.execute(select(RegistryRenewal)
                                  .where(RegistryRenewal.domain == domain, RegistryRenewal.outcome == EXTENDED,
                                         RegistryRenewal.requested_at >= since)
                                  .order_by(RegistryRenewal.requested_at.desc()).limit(1))).scalar_one_or_none()
