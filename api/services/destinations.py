"""Where a forwarder may deliver, and a customer's change of it: never to itself, never into a
chain of our own forwarders that leads back to it (across customers), never to an address at our
domains that is not in use. The change is asked of the address's workflow, which applies it only
after the new destination confirms."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client as TemporalClient

from api.temporal import Gateway
from core.addresses import circle_sentence, forwarding_circle, normalize_destination
from core.errors import BusinessError
from core.refusals import Refusals, refuse
from core.statuses import ChangeStatus
from core.tokens import DESTINATION_LINK, token_ok
from store import destinations
from store.models import Client, DestinationChange, Subscription
from workflows.contracts import (
    DestinationConfirmation,
    DestinationRequest,
)

CONFIRM_WITHIN = timedelta(hours=48)


async def check_destination(session: AsyncSession, address: str, raw: str, field: str = "destination") -> str:
    destination = normalize_destination(raw, field).lower()
    if destination == address:
        raise refuse(Refusals.DESTINATION_LOOP, field)
    domain = destination.rpartition("@")[2]
    if await destinations.is_our_domain(session, domain):
        if await destinations.live_subscription(session, destination) is None:
            raise refuse(Refusals.DESTINATION_NOT_IN_USE, field, destination=destination)
        hops = await destinations.hops_from(session, destination)
        loop = forwarding_circle(address, destination, lambda a: hops.get(a, []))
        if loop:
            raise refuse(Refusals.DESTINATION_LOOP, field, message=circle_sentence(loop))
    return destination


class DestinationChanges:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], temporal: TemporalClient, secret: str):
        self.sessions, self.secret = sessions, secret
        self.gateway = Gateway(temporal)

    async def request(self, client: Client, address: str, raw: str) -> DestinationChange:
        async with self.sessions.begin() as session:
            sub = await destinations.own_active(session, client.id, address, "forwarder")
            address = sub.address
            destination = await check_destination(session, address, raw)
            if destination == (sub.destination or "").lower():
                raise refuse(Refusals.DESTINATION_UNCHANGED, "destination", address=address, destination=destination)
            change = await destinations.request_change(session, sub, destination, now=datetime.now(timezone.utc),
                                                       ttl=CONFIRM_WITHIN, actor=f"client:{client.id}")
        await self.gateway.address(address).destination_requested(
            DestinationRequest(change.id, destination),
            refused=refuse(Refusals.SERVICE_UNAVAILABLE,
                           message="We could not take the change just now; please try again."))
        return change

    async def pending(self, change_id: int, token: str) -> DestinationChange:
        """The change a confirmation link stands for, if the link is genuine and still good (or its
        outcome: applied, being applied, refused)."""
        async with self.sessions() as session:
            change = await destinations.change(session, change_id)
        if change is None or not token_ok(self.secret, DESTINATION_LINK, change_id, token):
            raise refuse(Refusals.LINK_INVALID, message="This confirmation link is not valid.")
        if change.status in (ChangeStatus.APPLIED, ChangeStatus.CONFIRMED, ChangeStatus.REFUSED):
            return change
        if change.status != ChangeStatus.PENDING:
            raise refuse(Refusals.LINK_SUPERSEDED)
        if change.expires_at.replace(tzinfo=change.expires_at.tzinfo or timezone.utc) < datetime.now(timezone.utc):
            raise refuse(Refusals.LINK_EXPIRED, message="This confirmation link has expired; ask for the change again.")
        return change

    async def refusal(self, change: DestinationChange) -> str:
        async with self.sessions() as session:
            return await destinations.refusal(session, change)

    async def confirm(self, change_id: int, token: str) -> DestinationChange:
        """Check again, now: since the change was asked for, another may have been confirmed that
        closes a circle with this one (each fine alone). Checked and marked under the forwarding
        lock, so two confirmations cannot pass each other; the workflow checks once more at cPanel."""
        change = await self.pending(change_id, token)
        if change.status == ChangeStatus.REFUSED:
            raise refuse(Refusals.DESTINATION_LOOP, message=await self.refusal(change), status=409)
        if change.status == ChangeStatus.APPLIED:
            return change
        async with self.sessions.begin() as session:
            await destinations.lock_forwarding(session)
            sub = await session.get(Subscription, change.subscription_id)
            refused = None
            if change.status == ChangeStatus.PENDING:     # confirmed before: checked then, only told again below
                try:
                    await check_destination(session, sub.address, change.new_destination)
                except BusinessError as exc:
                    refused = exc
                    await destinations.refuse_change(session, change_id, "destination-owner", exc.code, exc.message)
                else:
                    await destinations.confirm_change(session, change_id)
        if refused is not None:
            refused.status, refused.field = 409, None
            raise refused
        await self.gateway.address(sub.address).destination_confirmed(
            DestinationConfirmation(change_id),
            refused=refuse(Refusals.ADDRESS_CLOSED))
        async with self.sessions() as session:
            return await destinations.change(session, change_id)

    async def outcome(self, change_id: int, wait: float = 5.0) -> DestinationChange:
        """The change once the workflow has applied or refused it, waiting a few seconds at most."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            async with self.sessions() as session:
                change = await destinations.change(session, change_id)
            if (change.status not in (ChangeStatus.PENDING, ChangeStatus.CONFIRMED)
                    or asyncio.get_running_loop().time() > deadline):
                return change
            await asyncio.sleep(0.25)
