"""Changing where a forwarder delivers: email the new destination a confirmation link, then switch
on cPanel (new forwarder first, so mail never stops) and record it. Each step safe to repeat."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from temporalio.exceptions import ApplicationError

from activities.cpanel_changes import change_at_cpanel
from activities.heartbeat import heartbeating
from activities.notifications import NotificationActivities
from core.addresses import circle_sentence, forwarding_circle
from core.tokens import DESTINATION_LINK, link_token
from providers.cpanel.lookup import forwarders_of
from providers.cpanel.protocol import CpanelAPI, Forwarder
from store import destinations
from workflows.contracts import DestinationCheck, Refusal, SendNotification, SwitchForwarder



class DestinationActivities:
    def __init__(self, cpanel: CpanelAPI, sessions: async_sessionmaker[AsyncSession],
                 notifications: NotificationActivities, secret: str, base_url: str):
        self._cpanel, self._sessions, self._notifications = cpanel, sessions, notifications
        self._secret, self._base = secret, base_url.rstrip("/")

    @activity.defn(name="send_destination_check")
    @heartbeating
    async def send_destination_check(self, inp: DestinationCheck) -> None:
        link = f"{self._base}/destination/confirm/{inp.change_id}/{link_token(self._secret, DESTINATION_LINK, inp.change_id)}"
        await self._notifications.send_notification(SendNotification(
            key=f"destination-check:{inp.change_id}", template="destination_check", to=inp.new_destination,
            client_id=None, context={"address": inp.address, "destination": inp.new_destination, "link": link,
                                     "name": inp.client_name}))

    @activity.defn(name="switch_forwarder")
    @heartbeating
    async def switch_forwarder(self, inp: SwitchForwarder) -> None:
        """Check once more, against what cPanel forwards now and under the forwarding lock, that the
        switch closes no circle: another change may have been applied since this one was confirmed.
        A circle, or cPanel's refusal, is final: the change is refused and the old destination stays."""
        async def refuse(session: AsyncSession, code: str, message: str) -> None:
            await destinations.refuse_change(session, inp.change_id, "system", code, message)

        new = inp.new_destination.lower()
        async with self._sessions.begin() as session:
            await destinations.lock_forwarding(session)
            async with change_at_cpanel(self._sessions, actor="system", action="destination.switch",
                                        address=inp.address, what="change of destination", on_failure=refuse):
                loop = await self._circle(session, inp.address, new)
                if loop is None:
                    current = await forwarders_of(self._cpanel, inp.address)
                    if not any(f.destination.lower() == new for f in current):
                        await self._cpanel.add_forwarder(inp.address, new)
                    for old in current:
                        if old.destination.lower() != new:
                            await self._cpanel.delete_forwarder(old.address, old.destination)
            if loop is not None:
                message = circle_sentence(loop)
                await refuse(session, Refusal.DESTINATION_LOOP, message)
            else:
                await destinations.apply_change(session, inp.change_id, datetime.now(timezone.utc))
        if loop is not None:
            raise ApplicationError(message, type=Refusal.DESTINATION_LOOP, non_retryable=True)

    async def _circle(self, session: AsyncSession, address: str, destination: str) -> list[str] | None:
        """The circle `address -> destination -> ...` would close through the forwarders cPanel has
        now on our domains (every line of each), or None."""
        hops: dict[str, list[str]] = {}
        listed: dict[str, list[Forwarder]] = {}
        todo = [destination]
        while todo and len(hops) < 50:
            current = todo.pop()
            if current in hops:
                continue
            domain = current.rpartition("@")[2]
            if domain not in listed:
                listed[domain] = await self._cpanel.list_forwarders(domain) \
                    if await destinations.is_our_domain(session, domain) else []
            hops[current] = [f.destination.lower() for f in listed[domain] if f.address == current and not f.bounces]
            todo += hops[current]
        return forwarding_circle(address, destination, lambda a: hops.get(a, []))
