"""Changing where a forwarder delivers: email the new destination a confirmation link, then switch
on cPanel (new forwarder first, so mail never stops) and record it. Each step safe to repeat."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.heartbeat import heartbeating
from activities.notifications import NotificationActivities
from core.tokens import DESTINATION_LINK, link_token
from providers.cpanel.lookup import forwarders_of
from providers.cpanel.protocol import CpanelAPI
from store import destinations
from workflows.contracts import DestinationCheck, SendNotification, SwitchForwarder



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
        current = await forwarders_of(self._cpanel, inp.address)
        if not any(f.destination.lower() == inp.new_destination for f in current):
            await self._cpanel.add_forwarder(inp.address, inp.new_destination)
        for old in current:
            if old.destination.lower() != inp.new_destination:
                await self._cpanel.delete_forwarder(old.address, old.destination)
        async with self._sessions.begin() as session:
            await destinations.apply_change(session, inp.change_id, datetime.now(timezone.utc))
