"""Signed-in sessions (opened at sign-in, looked up per request, revoked) and failed sign-ins
(counted per address tried and per network, for the throttle)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import SignInFailure, WebSession

# a session ends 30 days after sign-in whatever happens, or after 14 days unused
ABSOLUTE_LIFETIME = timedelta(days=30)
IDLE_LIFETIME = timedelta(days=14)
# last_seen_at is written at most this often: a write per request would cost more than the read
TOUCH_EVERY = timedelta(minutes=5)


def session_id(token: str) -> str:
    """The row's key: the token's SHA-256. The token itself is only ever in the cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Live:
    client_id: int
    stale: bool   # last seen more than TOUCH_EVERY ago: touch it (and refresh the cookie)


async def open_session(session: AsyncSession, client_id: int, *, now: datetime, user_agent: str = "",
                       ip: str = "") -> str:
    """A new session for the client; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(id=session_id(token), client_id=client_id, created_at=now, last_seen_at=now,
                           expires_at=now + ABSOLUTE_LIFETIME, user_agent=user_agent[:300], ip=ip[:64]))
    await session.flush()
    return token


async def live_session(session: AsyncSession, token: str, now: datetime) -> Live | None:
    """Who the token signs in, if its session is neither revoked, nor past its end, nor idle too long.
    One primary-key read; nothing is cached, so a revocation counts from the next request."""
    row = (await session.execute(
        select(WebSession.client_id, WebSession.last_seen_at, WebSession.expires_at, WebSession.revoked_at)
        .where(WebSession.id == session_id(token)))).one_or_none()
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= now:
        return None
    last_seen = _aware(row.last_seen_at)
    if last_seen + IDLE_LIFETIME <= now:
        return None
    return Live(row.client_id, stale=now - last_seen >= TOUCH_EVERY)


async def touch(session: AsyncSession, token: str, now: datetime) -> None:
    await session.execute(update(WebSession).where(WebSession.id == session_id(token)).values(last_seen_at=now))


async def revoke(session: AsyncSession, token: str, now: datetime) -> None:
    await session.execute(update(WebSession).where(WebSession.id == session_id(token),
                                                   WebSession.revoked_at.is_(None)).values(revoked_at=now))


async def revoke_all_sessions(session: AsyncSession, client_id: int, *, except_token: str | None = None,
                              now: datetime | None = None) -> int:
    """End every session of the client (sign out everywhere; a password change keeps the session that
    made it with `except_token`). Returns how many were ended."""
    query = update(WebSession).where(WebSession.client_id == client_id, WebSession.revoked_at.is_(None))
    if except_token:
        query = query.where(WebSession.id != session_id(except_token))
    result = await session.execute(query.values(revoked_at=now or datetime.now(timezone.utc)))
    return result.rowcount or 0


async def recent_failures(session: AsyncSession, key: str, since: datetime) -> list[datetime]:
    rows = await session.execute(select(SignInFailure.at).where(SignInFailure.key == key, SignInFailure.at > since))
    return [_aware(at) for (at,) in rows]


async def record_failure(session: AsyncSession, keys: list[str], *, now: datetime, window: timedelta) -> None:
    await session.execute(delete(SignInFailure).where(SignInFailure.at <= now - window))
    session.add_all([SignInFailure(key=key, at=now) for key in keys])


async def clear_failures(session: AsyncSession, key: str) -> None:
    await session.execute(delete(SignInFailure).where(SignInFailure.key == key))
