"""How a customer's change at cPanel fails: a refusal (UAPI status 0) is final at once; a technical
fault is retried until the step's last attempt (`CHANGE_ATTEMPTS`), then final too. Either way the
failure is written to the audit log for operators and raised as a non-retryable ApplicationError
with a refusal type, so the workflow's queue of changes moves on."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from providers.errors import LogicalError, TechnicalError
from store import audit
from workflows.contracts import CHANGE_ATTEMPTS, Refusal

log = logging.getLogger(__name__)


def refused(message: str) -> str:
    """cPanel's own words after our sentence (the client prefixes them with the function)."""
    return message.partition(": ")[2] or message


@asynccontextmanager
async def change_at_cpanel(sessions: async_sessionmaker[AsyncSession], *, actor: str, action: str, address: str,
                           what: str, on_failure: Callable[[AsyncSession, str, str], Awaitable[None]] | None = None
                           ) -> AsyncIterator[None]:
    """`action` names the audit entry (`<action>_refused` / `<action>_failed`); `what` the change in the
    customer's words; `on_failure(session, code, message)` runs in the audit entry's transaction."""
    try:
        yield
    except LogicalError as exc:
        message = f"The mail server refused the {what}: {refused(exc.message)}"
        await _record(sessions, actor, f"{action}_refused", address, Refusal.PROVIDER_REFUSED, message, on_failure)
        raise ApplicationError(message, type=Refusal.PROVIDER_REFUSED, non_retryable=True) from exc
    except TechnicalError as exc:
        if activity.info().attempt < CHANGE_ATTEMPTS:
            raise
        message = f"The mail server did not answer, so the {what} was not made; please try again later."
        log.warning("giving up on %s for %s after %d attempts: %s", action, address, CHANGE_ATTEMPTS, exc)
        await _record(sessions, actor, f"{action}_failed", address, Refusal.PROVIDER_UNAVAILABLE, message,
                      on_failure)
        raise ApplicationError(message, type=Refusal.PROVIDER_UNAVAILABLE, non_retryable=True) from exc


async def _record(sessions, actor: str, action: str, address: str, code: str, message: str, on_failure) -> None:
    async with sessions.begin() as session:
        audit.record(session, actor or "system", action, "subscription", address, None,
                     {"code": code, "message": message})
        if on_failure is not None:
            await on_failure(session, code, message)
