"""cPanel steps: create or remove a forwarder or a mailbox, checking the account first so retries are
no-ops. A mailbox's password comes sealed from the database and is deleted once cPanel has it. After
each change to a mailbox its reading (space, quota, automatic reply) is read back into the
`mailbox_usage` read model, which the mailbox page shows."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.cpanel_changes import change_at_cpanel, refused
from activities.heartbeat import heartbeating

from providers.cpanel.lookup import forwarders_of, mailbox_of
from providers.cpanel.protocol import AutoResponder, CpanelAPI
from providers.errors import LogicalError, TechnicalError
from store import audit, secrets
from store import mailbox_usage as readings
from store.secrets import SecretBox
from workflows.contracts import (
    ApplyAutoresponder,
    MailboxRef,
    MailboxUsageState,
    ProvisionForwarder,
    ProvisionMailbox,
    Refusal,
    RemoveForwarder,
    RemoveMailbox,
    SetMailboxPassword,
)

log = logging.getLogger(__name__)


class ProvisioningActivities:
    def __init__(self, cpanel: CpanelAPI, sessions: async_sessionmaker[AsyncSession], box: SecretBox):
        self._cpanel, self._sessions, self._box = cpanel, sessions, box

    @activity.defn(name="provision_mailbox")
    @heartbeating
    async def provision_mailbox(self, inp: ProvisionMailbox) -> None:
        async with self._sessions() as session:
            pending = await secrets.pending_password(session, self._box, inp.subscription_id)
        exists = await mailbox_of(self._cpanel, inp.address) is not None
        if pending is None:
            if exists:
                await self._read_back(inp.address, autoresponder="")
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
        await self._read_back(inp.address, autoresponder="")

    @activity.defn(name="set_mailbox_password")
    @heartbeating
    async def set_mailbox_password(self, inp: SetMailboxPassword) -> None:
        async with self._sessions() as session:
            pending = await secrets.pending_password(session, self._box, inp.subscription_id)
        if pending is None:
            return  # applied by an earlier attempt (and forgotten)

        async def forget_refused(session: AsyncSession, code: str, _message: str) -> None:
            if code == Refusal.PROVIDER_REFUSED:   # cPanel will never take this one; the customer sets another
                await secrets.forget(session, [inp.subscription_id])

        async with change_at_cpanel(self._sessions, actor=inp.actor, action="mailbox.password",
                                    address=inp.address, what="new password",
                                    on_failure=forget_refused):
            await self._cpanel.passwd_pop(inp.address, pending.password)
        async with self._sessions.begin() as session:
            await secrets.forget(session, [inp.subscription_id])
            audit.record(session, inp.actor, "mailbox.password_changed", "subscription", inp.address)
        await self._read_back(inp.address)

    @activity.defn(name="apply_autoresponder")
    @heartbeating
    async def apply_autoresponder(self, inp: ApplyAutoresponder) -> None:
        """The workflow's validator has checked the reply against its clock; cPanel may still refuse
        (a feature switched off, a clock that disagrees), which is final."""
        reply = inp.reply
        async with change_at_cpanel(self._sessions, actor=reply.actor, action="mailbox.autoresponder",
                                    address=inp.address, what="automatic reply"):
            if reply.enabled:
                start = int(reply.start.timestamp()) if reply.start else int(datetime.now(timezone.utc).timestamp())
                stop = int(reply.stop.timestamp()) if reply.stop else start + 10 * 366 * 86400
                await self._cpanel.add_auto_responder(inp.address, inp.from_name, AutoResponder(
                    reply.subject, reply.body, reply.interval_hours, start, stop))
            else:
                await self._cpanel.delete_auto_responder(inp.address)
        async with self._sessions.begin() as session:
            audit.record(session, reply.actor or "system", "mailbox.autoresponder_" + ("set" if reply.enabled
                                                                                       else "cleared"),
                         "subscription", inp.address, after={"subject": reply.subject} if reply.enabled else None)
        await self._read_back(inp.address, autoresponder=reply.subject if reply.enabled else "")

    async def _read_back(self, address: str, autoresponder: str | None = None) -> None:
        """The mailbox's reading as cPanel has it now, with the automatic reply just set (None: as on
        file). The change is made already, so a failed read only waits for the next inventory sync."""
        at = datetime.now(timezone.utc)
        try:
            usage = await self._cpanel.mailbox_usage(address)
        except (TechnicalError, LogicalError) as exc:
            log.warning("usage of %s not read back: %s", address, exc)
            usage = None
        async with self._sessions.begin() as session:
            if usage is not None:
                await readings.record_usage(session, address, readings.Usage(usage.used_bytes, usage.quota_mb), at)
            if autoresponder is not None:
                await readings.record_autoresponder(session, address, autoresponder)

    @activity.defn(name="mailbox_usage")
    @heartbeating
    async def mailbox_usage(self, inp: MailboxRef) -> MailboxUsageState:
        """Retired with the update that ran it (no page asks cPanel any more); registered while a
        run started before could still schedule it."""
        try:
            usage = await self._cpanel.mailbox_usage(inp.address)
            reply = await self._cpanel.get_auto_responder(inp.address)
        except LogicalError as exc:
            raise ApplicationError(f"The mail server would not say: {refused(exc.message)}",
                                   type=Refusal.PROVIDER_REFUSED, non_retryable=True) from exc
        return MailboxUsageState(usage.used_mb if usage else 0.0, usage.quota_mb if usage else None,
                                 reply.subject if reply else "")

    @activity.defn(name="remove_mailbox")
    @heartbeating
    async def remove_mailbox(self, inp: RemoveMailbox) -> None:
        if await mailbox_of(self._cpanel, inp.address) is not None:
            await self._cpanel.delete_pop(inp.address)
        async with self._sessions.begin() as session:
            await readings.forget(session, inp.address)

    @activity.defn(name="provision_forwarder")
    @heartbeating
    async def provision_forwarder(self, inp: ProvisionForwarder) -> None:
        existing = await forwarders_of(self._cpanel, inp.address)
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
        for forwarder in await forwarders_of(self._cpanel, inp.address):
            if forwarder.destination.lower() == inp.destination.lower():
                await self._cpanel.delete_forwarder(forwarder.address, forwarder.destination)
