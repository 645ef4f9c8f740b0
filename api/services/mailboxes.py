"""A customer's control of their own mailbox: a new password (checked, sealed, never in a workflow's
history), an automatic reply, and how full it is. Each goes through the address's workflow."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client as TemporalClient

from api.temporal import Gateway
from core.errors import BusinessError
from core.passwords import check_mailbox_password
from store import audit, destinations, secrets
from store.models import Client, Subscription
from store.secrets import SecretBox
from workflows.contracts import (
    Autoresponder,
    ChangeOutcome,
    MailboxPasswordChanged,
    MailboxRef,
    MailboxUsageState,
)

CLOSED = BusinessError("address_not_active", "This mailbox is not active.", status=409)


class Mailboxes:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], temporal: TemporalClient, box: SecretBox):
        self.sessions, self.box = sessions, box
        self.gateway = Gateway(temporal)

    async def mailbox(self, client: Client, address: str) -> Subscription:
        async with self.sessions() as session:
            return await destinations.own_active(session, client.id, address, "mailbox")

    async def change_password(self, client: Client, address: str, password: str) -> None:
        async with self.sessions.begin() as session:
            sub = await destinations.own_active(session, client.id, address, "mailbox")
            local, _, domain = sub.address.partition("@")
            check_mailbox_password(password, local, domain)
            await secrets.keep_mailbox_password(session, self.box, sub.id, password)
            audit.record(session, f"client:{client.id}", "mailbox.password_requested", "subscription", sub.address)
        await self.gateway.address(sub.address).mailbox_password_changed(
            MailboxPasswordChanged(f"client:{client.id}"), refused=CLOSED)

    async def set_autoresponder(self, client: Client, address: str, reply: Autoresponder) -> Autoresponder:
        sub = await self.mailbox(client, address)
        reply.actor = f"client:{client.id}"
        return await self.gateway.address(sub.address).set_autoresponder(reply, closed=CLOSED)

    async def last_change(self, client: Client, address: str) -> ChangeOutcome | None:
        """How the latest change at cPanel ended (a query: reading writes no history); None when the
        workflow cannot say just now."""
        sub = await self.mailbox(client, address)
        state = await self.gateway.address(sub.address).state()
        return state.last_change if state is not None else None

    async def usage(self, client: Client, address: str) -> MailboxUsageState:
        sub = await self.mailbox(client, address)
        return await self.gateway.address(sub.address).mailbox_usage(MailboxRef(sub.address), closed=CLOSED)


def parse_when(raw: str | None, field: str) -> datetime | None:
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise BusinessError("date_invalid", "Give a date and time like 2026-12-24T09:00.", field) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)  # times are UTC unless they say
