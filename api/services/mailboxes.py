"""A customer's control of their own mailbox: a new password (checked, sealed, never in a workflow's
history) and an automatic reply, each through the address's workflow; and how full it is, read from
the `mailbox_usage` read model (a read never writes the workflow's history, nor calls cPanel)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client as TemporalClient

from api.temporal import Gateway
from core.clock import utc
from core.refusals import Refusals, refuse
from core.refusals import Refusals, refuse
from core.passwords import check_mailbox_password
from store import audit, destinations, secrets
from store import mailbox_usage as readings
from store.models import Client, Subscription
from store.secrets import SecretBox
from workflows.contracts import (
    Autoresponder,
    ChangeOutcome,
    MailboxPasswordChanged,
    MailboxUsageState,
)

CLOSED = refuse(Refusals.ADDRESS_NOT_ACTIVE, message="This mailbox is not active.")
NOT_READ = refuse(Refusals.USAGE_NOT_READ)


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
        """As the read model last had it from cPanel (after each change, and at each inventory sync),
        with when: `read_at`."""
        async with self.sessions() as session:
            sub = await destinations.own_active(session, client.id, address, "mailbox")
            row = await readings.reading(session, sub.address)
        if row is None or row.read_at is None or row.used_mb is None:
            raise NOT_READ
        return MailboxUsageState(row.used_mb, row.quota_mb, row.autoresponder_subject, read_at=utc(row.read_at))


def parse_when(raw: str | None, field: str) -> datetime | None:
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise refuse(Refusals.DATE_INVALID, field, message="Give a date and time like 2026-12-24T09:00.") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)  # times are UTC unless they say
