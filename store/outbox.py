"""Outgoing notifications, keyed by business key: the record that makes sending happen once.

A row moves `pending` -> `sending` -> `sent`, or to `failed` (the server refused it for good, or it
could not be sent within the retry window); `failed` and `sent` are final. `sending` is committed
right before the SMTP DATA command and `sent` right after the server's 250, so only a crash between
those two leaves a row `sending` with its outcome unknown; the next attempt claims it once the lease
is over and sends it again under the same Message-ID (at-least-once)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.statuses import OutboxStatus
from store.models import OutboundEmail

PENDING, SENDING, SENT, FAILED = OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.FAILED
FINAL = (SENT, FAILED)
ALERT_PREFIX = "alert:"


async def claim(session: AsyncSession, *, key: str, client_id: int | None, recipient: str, subject: str,
                message_id: str, now: datetime | None = None) -> OutboundEmail:
    """The outbox row for `key`, created (at `now`) if new. Its `state` tells whether it is still to
    be sent; `created_at` is when it was first attempted."""
    row = (await session.execute(select(OutboundEmail).where(OutboundEmail.key == key))).scalar_one_or_none()
    if row is not None:
        return row
    row = OutboundEmail(key=key, client_id=client_id, recipient=recipient, subject=subject, message_id=message_id,
                        state=PENDING, attempts=0, **({"created_at": now} if now else {}))
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a concurrent attempt claimed it first
        return (await session.execute(select(OutboundEmail).where(OutboundEmail.key == key))).scalar_one()
    return row


async def begin_sending(session: AsyncSession, key: str, now: datetime, lease: timedelta) -> tuple[str, str]:
    """Take the row for one DATA: `("claimed", previous state)` when this attempt may send it (it
    was pending, or `sending` by an attempt whose lease is over: that one's outcome is unknown);
    otherwise `(state, state)`, where state is final or `sending` by an attempt still in its lease."""
    row = (await session.execute(select(OutboundEmail.state, OutboundEmail.sending_at)
                                 .where(OutboundEmail.key == key))).one()
    taken = await session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.key == key,
               or_(OutboundEmail.state == PENDING,
                   (OutboundEmail.state == SENDING) & (OutboundEmail.sending_at < now - lease)))
        .values(state=SENDING, sending_at=now, attempts=OutboundEmail.attempts + 1)
        .execution_options(synchronize_session=False))
    if taken.rowcount == 1:
        return "claimed", row.state
    state = (await session.execute(select(OutboundEmail.state).where(OutboundEmail.key == key))).scalar_one()
    return state, state


async def mark_sent(session: AsyncSession, key: str, at: datetime) -> None:
    await session.execute(update(OutboundEmail).where(OutboundEmail.key == key)
                          .values(state=SENT, sent_at=at).execution_options(synchronize_session=False))


async def mark_deferred(session: AsyncSession, key: str, code: int | None, text: str, *, released: bool) -> None:
    """A technical failure, to be retried: the last reply kept for operators. `released` puts a row
    this attempt had taken back to pending (the server certainly did not keep the message)."""
    values: dict = {"reply_code": code, "reply_text": text[:500]}
    if released:
        values["state"] = PENDING
    await session.execute(update(OutboundEmail).where(OutboundEmail.key == key, OutboundEmail.state.notin_(FINAL))
                          .values(**values).execution_options(synchronize_session=False))


async def mark_failed(session: AsyncSession, key: str, at: datetime, code: int | None, text: str) -> None:
    """Final: the message will not be sent again. Operators see it on /operator/mail."""
    await session.execute(update(OutboundEmail).where(OutboundEmail.key == key, OutboundEmail.state != SENT)
                          .values(state=FAILED, failed_at=at, reply_code=code, reply_text=text[:500])
                          .execution_options(synchronize_session=False))


async def undelivered(session: AsyncSession, limit: int = 200) -> list[OutboundEmail]:
    """Messages that failed for good, newest first, then those waiting for a retry after a refusal."""
    failed = (await session.execute(select(OutboundEmail).where(OutboundEmail.state == FAILED)
                                    .order_by(OutboundEmail.failed_at.desc(), OutboundEmail.id.desc())
                                    .limit(limit))).scalars().all()
    retrying = (await session.execute(select(OutboundEmail)
                                      .where(OutboundEmail.state.in_((PENDING, SENDING)),
                                             OutboundEmail.reply_text.is_not(None))
                                      .order_by(OutboundEmail.id.desc()).limit(limit))).scalars().all()
    return [*failed, *retrying]


async def provider_alerts(session: AsyncSession, since: datetime, limit: int = 100) -> list[OutboundEmail]:
    """The alerts staff were emailed about providers (one row per kind, hour and operator)."""
    return list((await session.execute(select(OutboundEmail)
                                       .where(OutboundEmail.key.startswith(ALERT_PREFIX),
                                              OutboundEmail.created_at >= since)
                                       .order_by(OutboundEmail.id.desc()).limit(limit))).scalars().all())
