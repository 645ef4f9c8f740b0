"""Reserved names as the Reserved page and the JSON API change them: the global list (operators)
or one domain's list (its owner or an operator); a domain left blank is the global list."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.addresses import normalize_domain
from store import reserved
from store.models import Client, Domain, ReservedName

Sessions = async_sessionmaker[AsyncSession]


def scope_domain(raw: str | None) -> str | None:
    return normalize_domain(raw, "domain") if raw and raw.strip() else None


async def listing(sessions: Sessions, client: Client, domain: str | None) -> tuple[reserved.Scope, list[ReservedName]]:
    async with sessions() as session:
        scope = await reserved.scope_for(session, client, scope_domain(domain))
        return scope, await reserved.entries(session, scope)


async def add(sessions: Sessions, client: Client, domain: str | None, pattern: str, reason: str
              ) -> tuple[ReservedName, str | None]:
    """The new entry and the domain whose list it is on (None: the global list)."""
    async with sessions.begin() as session:
        scope = await reserved.scope_for(session, client, scope_domain(domain))
        entry = await reserved.add(session, client, scope, pattern, reason)
        return entry, scope.domain.name if scope.domain else None


async def remove(sessions: Sessions, client: Client, entry_id: int) -> str:
    """Removes the entry; answers the domain whose list it was on ("" for the global list)."""
    async with sessions.begin() as session:
        entry = await reserved.remove(session, client, entry_id)
        return (await session.get(Domain, entry.domain_id)).name if entry.domain_id else ""
