"""Enom step: make the domain's registration reach a date, extending by whole years if needed."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.heartbeat import heartbeating
from temporalio.exceptions import ApplicationError

from core.terms import plan_extension
from providers.enom.protocol import RegistrarAPI
from providers.errors import LogicalError
from store import orders
from workflows.contracts import CoverageResult, EnsureCoverage, Refusal


class RegistryActivities:
    def __init__(self, registrar: RegistrarAPI, sessions: async_sessionmaker[AsyncSession]):
        self._registrar = registrar
        self._sessions = sessions

    @activity.defn(name="ensure_domain_coverage")
    @heartbeating
    async def ensure_domain_coverage(self, inp: EnsureCoverage) -> CoverageResult:
        # Check-then-act: a retry after a lost Extend answer sees the new expiry and extends nothing.
        try:
            expiry = await self._registrar.get_expiry(inp.domain)
            plan = plan_extension(expiry, inp.required_until, inp.today)
            if plan.needed:
                activity.logger.info("extending %s by %d year(s)", inp.domain, plan.years)
                await self._registrar.extend(inp.domain, plan.years)
                expiry = await self._registrar.get_expiry(inp.domain)
        except LogicalError as exc:
            raise ApplicationError(exc.message, type=Refusal.COVERAGE_IMPOSSIBLE, non_retryable=True) from exc
        async with self._sessions.begin() as session:
            await orders.set_domain_expiry(session, inp.domain, expiry)
        return CoverageResult(expiry=expiry, covered=expiry >= inp.required_until, extended_years=plan.years)
