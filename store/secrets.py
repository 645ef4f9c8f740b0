"""Mailbox passwords in transit from checkout to cPanel: sealed with Fernet under a key from
settings, read once by the provisioning activity, then deleted."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import MailboxSecret


class SecretBox:
    def __init__(self, secret: str):
        key = base64.urlsafe_b64encode(hashlib.sha256(("mailmarket-secrets:" + secret).encode()).digest())
        self._fernet = Fernet(key)

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("the stored secret cannot be decrypted with this key") from None


@dataclass(frozen=True)
class PendingPassword:
    password: str
    attempted: bool   # an earlier attempt may already have created the mailbox


async def keep_mailbox_password(session: AsyncSession, box: SecretBox, subscription_id: int, password: str) -> None:
    """Seal a password for the next cPanel step; a newer one replaces one not yet applied."""
    await forget(session, [subscription_id])
    session.add(MailboxSecret(subscription_id=subscription_id, ciphertext=box.seal(password)))


async def pending_password(session: AsyncSession, box: SecretBox, subscription_id: int) -> PendingPassword | None:
    row = (await session.execute(
        select(MailboxSecret).where(MailboxSecret.subscription_id == subscription_id))).scalar_one_or_none()
    return None if row is None else PendingPassword(box.open(row.ciphertext), row.attempted_at is not None)


async def mark_attempted(session: AsyncSession, subscription_id: int, now: datetime) -> None:
    row = (await session.execute(
        select(MailboxSecret).where(MailboxSecret.subscription_id == subscription_id))).scalar_one()
    row.attempted_at = row.attempted_at or now


async def forget(session: AsyncSession, subscription_ids: list[int]) -> None:
    await session.execute(delete(MailboxSecret).where(MailboxSecret.subscription_id.in_(subscription_ids)))
