"""The mailbox read model: each mailbox's space used, quota and automatic reply as cPanel last said,
and when. Kept by activities (the inventory sync, and the address workflow's changes at cPanel);
the mailbox page reads it, so looking at a mailbox never reaches its workflow or cPanel."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import MailboxUsageReading


@dataclass(frozen=True)
class Usage:
    """What cPanel said of one mailbox: bytes used, quota in MB (None: unlimited)."""
    used_bytes: int
    quota_mb: int | None


async def reading(session: AsyncSession, address: str) -> MailboxUsageReading | None:
    return await session.get(MailboxUsageReading, address.lower())


async def record_usage(session: AsyncSession, address: str, usage: Usage, at: datetime) -> None:
    """The usage as read at `at`; a reading older than the one on file changes nothing."""
    address = address.lower()
    values = {"used_bytes": usage.used_bytes, "quota_mb": usage.quota_mb, "read_at": at}
    await _upsert(session, address, values, newer_than=at)


async def record_autoresponder(session: AsyncSession, address: str, subject: str) -> None:
    """The automatic reply as just set ("" when off)."""
    await _upsert(session, address.lower(), {"autoresponder_subject": subject})


async def replace_domain(session: AsyncSession, domain: str, found: dict[str, tuple[Usage, str | None]],
                         at: datetime) -> None:
    """A sync's reading of the whole domain (address -> usage and reply subject, None: not known, as
    on file; read at `at`). Mailboxes cPanel no longer lists go, unless a change recorded them after."""
    await session.execute(delete(MailboxUsageReading).where(
        MailboxUsageReading.domain == domain, MailboxUsageReading.address.not_in(list(found) or [""]),
        (MailboxUsageReading.read_at.is_(None)) | (MailboxUsageReading.read_at <= at)))
    for address, (usage, subject) in sorted(found.items()):
        values = {"used_bytes": usage.used_bytes, "quota_mb": usage.quota_mb, "read_at": at}
        if subject is not None:
            values["autoresponder_subject"] = subject
        await _upsert(session, address, values, newer_than=at)


async def forget(session: AsyncSession, address: str) -> None:
    await session.execute(delete(MailboxUsageReading).where(MailboxUsageReading.address == address.lower()))


async def _upsert(session: AsyncSession, address: str, values: dict, newer_than: datetime | None = None) -> None:
    """Insert or update one row in one statement (a sync and a change may write the same mailbox at
    once). With `newer_than`, an existing row read later than that is left as it is."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    row = {"address": address, "domain": address.rpartition("@")[2], "autoresponder_subject": "", **values}
    statement = insert(MailboxUsageReading).values(**row)
    where = None
    if newer_than is not None:
        read_at = MailboxUsageReading.read_at
        where = read_at.is_(None) | (read_at <= newer_than)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[MailboxUsageReading.address], set_=values, where=where))

