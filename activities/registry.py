"""Enom step: make the domain's registration reach a date, extending by whole years if needed.

Technical failures (our credentials, the IP allow-list, the balance, Enom's own trouble) are raised
for Temporal to retry, and staff are emailed (at most once an hour per kind); only the registry
refusing the domain parks the address in attention. A renewal is never repeated: `Extend` is sent
without `OverrideOrder=1`, so Enom refuses a second one within 24 hours, and after a refusal the
expiry is read back — a held earlier Extend of ours that landed late counts as done. Each Extend is
on record (`registry_renewals`) before it goes; a refusal while our own renewal of the domain is
less than 24 hours old leaves the registration short, to be topped up later, instead of parking."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from core.terms import Extension, plan_extension
from providers.enom.protocol import RegistrarAPI
from providers.errors import LogicalError, TechnicalError
from store import orders, registry
from workflows.contracts import CoverageResult, EnsureCoverage, Refusal

# What each kind of technical trouble means to staff, and what fixes it.
ALERTS = {
    "credentials": ("the API login or token is refused",
                    "Check ENOM_UID and ENOM_PW (the API token) against the Enom reseller account."),
    "ip_not_allowed": ("the worker's IP address is not on the account's allow-list",
                       "Add the worker's outgoing IP address to the API allow-list in the Enom account."),
    "balance": ("the reseller balance cannot pay for renewals",
                "Top up the Enom reseller balance (or fix its payment method)."),
    "system": ("Enom reports a system error", "Usually Enom's own; check status.enom.com if it lasts."),
    "connection_failed": ("Enom cannot reach the registry", "Usually passes; check status.enom.com if it lasts."),
    "maintenance": ("Enom or the registry is down for maintenance", "Wait for the maintenance to end."),
    "failed_to_process": ("Enom failed to process requests", "Usually passes; contact Enom if it lasts."),
    "unknown": ("Enom answers with an error we cannot classify", "Read the error and contact Enom."),
    "timeout": ("Enom is not answering in time", "Check the network from the worker to Enom."),
    "unreachable": ("Enom cannot be reached", "Check the network from the worker to Enom and ENOM_URL."),
}
# Enom refuses a second renewal of a domain this soon after the first (unless OverrideOrder=1).
RENEWAL_GUARD = timedelta(hours=24)
# Timeouts and an unreachable Enom pass on their own often enough: alert from this attempt on.
QUIET_ATTEMPTS = {"timeout": 3, "unreachable": 3}


class RegistryActivities:
    def __init__(self, registrar: RegistrarAPI, sessions: async_sessionmaker[AsyncSession], alerts=None):
        """`alerts`: anything with `alert_staff(provider, kind, context)` (NotificationActivities)."""
        self._registrar = registrar
        self._sessions = sessions
        self._alerts = alerts

    @activity.defn(name="ensure_domain_coverage")
    @heartbeating
    async def ensure_domain_coverage(self, inp: EnsureCoverage) -> CoverageResult:
        # Check-then-act: a retry after a lost Extend answer sees the new expiry and extends nothing.
        try:
            expiry = await self._registrar.get_expiry(inp.domain)
            plan = plan_extension(expiry, inp.required_until, inp.today)
            if plan.needed:
                activity.logger.info("extending %s by %d year(s)", inp.domain, plan.years)
                expiry = await self._extend(inp.domain, expiry, plan)
        except TechnicalError as exc:
            await self._alert(exc)
            raise
        except LogicalError as exc:
            raise ApplicationError(exc.message, type=Refusal.COVERAGE_IMPOSSIBLE, non_retryable=True) from exc
        async with self._sessions.begin() as session:
            await orders.set_domain_expiry(session, inp.domain, expiry)
        return CoverageResult(expiry=expiry, covered=expiry >= inp.required_until, extended_years=plan.years)

    async def _extend(self, domain: str, before: date, plan: Extension) -> date:
        async with self._sessions.begin() as session:   # on record before it goes: a lost answer too
            renewal = await registry.record_request(session, domain, plan.years, before, _now())
        try:
            await self._registrar.extend(domain, plan.years)
        except LogicalError as refused:
            # Enom refuses a second renewal within 24 hours (and we never override that): an Extend
            # of ours that timed out may have landed after we read the expiry. What it says now decides.
            after = await self._registrar.get_expiry(domain)
            async with self._sessions.begin() as session:
                await registry.settle(session, renewal, registry.REFUSED, after)
                recent = await registry.extended_since(session, domain, _now() - RENEWAL_GUARD)
            if after >= plan.new_expiry:
                activity.logger.warning("Enom refused extending %s (%s) but it already runs to %s: an earlier "
                                        "attempt's Extend landed; nothing more to do", domain, refused.message, after)
                return after
            if after != before:
                raise TechnicalError(f"the registration of {domain} moved to {after} while extending it; "
                                     "planning again", provider="enom", kind="moved") from refused
            if recent is not None:
                # another address's renewal of this domain went through less than 24 hours ago: the
                # registration stays short for now, and the address tops it up later as it does
                # when the 10-year cap bites (CoverageResult.covered is False)
                activity.logger.warning("Enom refused extending %s again within 24 hours of %s; it stays at %s "
                                        "and is topped up later", domain, recent.requested_at, after)
                return after
            raise
        after = await self._registrar.get_expiry(domain)
        async with self._sessions.begin() as session:
            await registry.settle(session, renewal, registry.EXTENDED, after)
        return after

    async def _alert(self, exc: TechnicalError) -> None:
        kind = exc.kind or "unknown"
        activity.logger.warning("Enom technical failure (%s): %s", kind, exc.message)
        if self._alerts is None or kind not in ALERTS or activity.info().attempt < QUIET_ATTEMPTS.get(kind, 1):
            return
        what, remedy = ALERTS[kind]
        try:
            await self._alerts.alert_staff("enom", kind, {"provider_name": "Enom", "what": what,
                                                          "error": exc.message, "remedy": remedy},
                                           datetime.now(timezone.utc))
        except Exception:  # noqa: BLE001 - telling staff must never hide the failure being retried
            activity.logger.exception("could not alert staff about Enom (%s)", kind)


def _now() -> datetime:
    return datetime.now(timezone.utc)
