"""The audit log: who did what to which thing, with the before and after; and what was refused."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import BusinessError
from store.models import AuditEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def record(session: AsyncSession, actor: str, action: str, entity: str, entity_id: object,
           before: dict | None = None, after: dict | None = None) -> None:
    session.add(AuditEntry(actor=actor, action=action, entity=entity, entity_id=str(entity_id),
                           before=_jsonable(before), after=_jsonable(after)))


@asynccontextmanager
async def refusals(sessions: async_sessionmaker[AsyncSession], actor: str, action: str, entity: str,
                   entity_id: object, **attempt: Any) -> AsyncIterator[None]:
    """A refused attempt (a BusinessError inside the block) is written as `<action>.refused` with its
    code, reason and what was attempted, in a transaction of its own: the refused change itself was
    rolled back, so the ledger is as it was, but the attempt is on record. The refusal goes on."""
    try:
        yield
    except BusinessError as exc:
        async with sessions.begin() as session:
            record(session, actor, f"{action}.refused", entity, entity_id, None,
                   {"code": exc.code, "message": exc.message, **attempt})
        raise
