"""cPanel steps: create or remove a forwarder or a mailbox, checking the account first so retries are
no-ops. A mailbox's password comes sealed from the database and is deleted once cPanel has it."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating

from providers.cpanel.protocol import CpanelAPI
from providers.errors import LogicalError
from store import secrets
from store.secrets import SecretBox
from workflows.contracts import ProvisionForwarder, ProvisionMailbox, Refusal, RemoveForwarder, RemoveMailbox


class ProvisioningActivities:
    def __init__(self, cpanel: CpanelAPI, sessions: async_sessionmaker[AsyncSession], box: SecretBox):
        self._cpanel, self._sessions, self._box = cpanel, sessions, box

    async def _mailbox_exists(self, address: str) -> bool:
        return any(m.email == address for m in await self._cpanel.list_pops(regex=f"^{re.escape(address)}$"))

    @activity.defn(name="provision_mailbox")
    @heartbeating
    async def provision_mailbox(self, inp: ProvisionMailbox) -> None:
        async with self._sessions() as session:
            pending = await secrets.pending_password(session, self._box, inp.subscription_id)
        exists = await self._mailbox_exists(inp.address)
        if pending is None:
            if exists:
                return  # created, and its password forgotten, by an earlier attempt
            raise ApplicationError(f"The password for {inp.address} is no longer on file; the customer must set "
                                   "one (operator: reset it in cPanel, then retry).",
                                   type=Refusal.PASSWORD_MISSING, non_retryable=True)
        if exists and not pending.attempted:
            raise ApplicationError(f"{inp.address} already exists as a mailbox on the cPanel account; it was not "
                                   "created by us.", type=Refusal.ADDRESS_EXISTS_ON_SERVER, non_retryable=True)
        if not exists:
            async with self._sessions.begin() as session:
                await secrets.mark_attempted(session, inp.subscription_id, datetime.now(timezone.utc))
            local, _, domain = inp.address.partition("@")
            try:
                await self._cpanel.add_pop(local, domain, pending.password, inp.quota_mb)
            except LogicalError as exc:
                raise ApplicationError(exc.message, type=Refusal.PROVIDER_REFUSED, non_retryable=True) from exc
        async with self._sessions.begin() as session:
            await secrets.forget(session, [inp.subscription_id])

    @activity.defn(name="remove_mailbox")
    @heartbeating
    async def remove_mailbox(self, inp: RemoveMailbox) -> None:
        if await self._mailbox_exists(inp.address):
            await self._cpanel.delete_pop(inp.address)

    @activity.defn(name="provision_forwarder")
    @heartbeating
    async def provision_forwarder(self, inp: ProvisionForwarder) -> None:
        domain = inp.address.rpartition("@")[2]
        existing = [f for f in await self._cpanel.list_forwarders(domain) if f.address == inp.address]
        if any(f.destination.lower() == inp.destination.lower() for f in existing):
            return  # done by an earlier attempt
        if existing:
            raise ApplicationError(
                f"{inp.address} already forwards elsewhere on the cPanel account; it was not sold by us.",
                type=Refusal.ADDRESS_EXISTS_ON_SERVER, non_retryable=True)
        try:
            await self._cpanel.add_forwarder(inp.address, inp.destination)
        except LogicalError as exc:
            raise ApplicationError(exc.message, type=Refusal.PROVIDER_REFUSED, non_retryable=True) from exc

    @activity.defn(name="remove_forwarder")
    @heartbeating
    async def remove_forwarder(self, inp: RemoveForwarder) -> None:
        domain = inp.address.rpartition("@")[2]
        existing = [f for f in await self._cpanel.list_forwarders(domain)
                    if f.address == inp.address and f.destination.lower() == inp.destination.lower()]
        for forwarder in existing:
            await self._cpanel.delete_forwarder(forwarder.address, forwarder.destination)
