"""The audit log: who did what to which thing, with the before and after."""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

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
