"""cPanel steps: create or remove a forwarder, checking the account first so retries are no-ops."""
from __future__ import annotations

from temporalio import activity

from activities.heartbeat import heartbeating
from temporalio.exceptions import ApplicationError

from providers.cpanel.protocol import CpanelAPI
from providers.errors import LogicalError
from workflows.contracts import ProvisionForwarder, Refusal, RemoveForwarder


class ProvisioningActivities:
    def __init__(self, cpanel: CpanelAPI):
        self._cpanel = cpanel

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
