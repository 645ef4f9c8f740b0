"""cPanel inventory step: read all mailboxes (with their disk use) once and forwarders and automatic
replies per domain; store per domain the inventory (availability) and the mailbox read model (the
mailbox page's space, quota and reply)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.heartbeat import heartbeating
from providers.cpanel.protocol import CpanelAPI
from providers.errors import LogicalError
from store import inventory
from store import mailbox_usage as readings
from workflows.contracts import InventoryChunk, InventorySyncResult

log = logging.getLogger(__name__)


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
        usage: dict[str, dict[str, readings.Usage]] = {d: {} for d in chunk.domains}
        read_at = datetime.now(timezone.utc)
        for address, disk in (await self._cpanel.list_pops_with_disk()).items():
            local, _, domain = address.partition("@")
            if domain in wanted:
                found[domain].add((local, "mailbox"))
                usage[domain][address] = readings.Usage(disk.used_bytes, disk.quota_mb)
        replies: dict[str, dict[str, str] | None] = {}
        result = InventorySyncResult()
        for domain in chunk.domains:
            for forwarder in await self._cpanel.list_forwarders(domain):
                found[domain].add((forwarder.address.partition("@")[0], "forwarder"))
            replies[domain] = await self._replies(domain) if usage[domain] else {}
        now = datetime.now(timezone.utc)
        async with self._sessions.begin() as session:
            for domain, entries in found.items():
                if await inventory.replace_domain(session, domain, entries, now):
                    result.domains += 1
                    result.forwarders += sum(1 for _, kind in entries if kind == "forwarder")
                    result.mailboxes += sum(1 for _, kind in entries if kind == "mailbox")
                    known = replies[domain]
                    await readings.replace_domain(session, domain, {
                        address: (disk, None if known is None else known.get(address, ""))
                        for address, disk in usage[domain].items()}, read_at)
        return result

    async def _replies(self, domain: str) -> dict[str, str] | None:
        """The domain's automatic replies; None when cPanel will not list them (the feature off for the
        account): the replies on file stay, and the availability inventory still syncs."""
        try:
            return await self._cpanel.list_auto_responders(domain)
        except LogicalError as exc:
            log.warning("automatic replies of %s not listed: %s", domain, exc)
            return None
