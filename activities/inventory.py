"""cPanel inventory step: read forwarders per domain and all mailboxes once, store per domain."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.heartbeat import heartbeating
from providers.cpanel.protocol import CpanelAPI
from store import inventory
from workflows.contracts import InventoryChunk, InventorySyncResult


class InventoryActivities:
    def __init__(self, cpanel: CpanelAPI, sessions: async_sessionmaker[AsyncSession]):
        self._cpanel, self._sessions = cpanel, sessions

    @activity.defn(name="portfolio_domains")
    async def portfolio_domains(self) -> list[str]:
        async with self._sessions() as session:
            return await inventory.portfolio_domains(session)

    @activity.defn(name="sync_cpanel_inventory")
    @heartbeating
    async def sync_cpanel_inventory(self, chunk: InventoryChunk) -> InventorySyncResult:
        wanted = set(chunk.domains)
        found: dict[str, set[tuple[str, str]]] = {d: set() for d in chunk.domains}
        for mailbox in await self._cpanel.list_pops():
            local, _, domain = mailbox.email.partition("@")
            if domain in wanted:
                found[domain].add((local, "mailbox"))
        result = InventorySyncResult()
        for domain in chunk.domains:
            for forwarder in await self._cpanel.list_forwarders(domain):
                found[domain].add((forwarder.address.partition("@")[0], "forwarder"))
        now = datetime.now(timezone.utc)
        async with self._sessions.begin() as session:
            for domain, entries in found.items():
                if await inventory.replace_domain(session, domain, entries, now):
                    result.domains += 1
                    result.forwarders += sum(1 for _, kind in entries if kind == "forwarder")
                    result.mailboxes += sum(1 for _, kind in entries if kind == "mailbox")
        return result
