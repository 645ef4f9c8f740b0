"""Client accounts: sign-up and look-up. Password hashing happens in the caller (api.auth)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.refusals import Refusals, refuse
from store import audit
from store.models import Client


async def create_client(session: AsyncSession, *, email: str, password_hash: str, name: str,
                        company: str = "", phone: str = "", country: str = "") -> Client:
    client = Client(email=email, password_hash=password_hash, name=name, company=company,
                    phone=phone, country=country)
    session.add(client)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise refuse(Refusals.EMAIL_TAKEN, "email") from None
    audit.record(session, f"client:{client.id}", "client.signed_up", "client", client.id,
                 after={"email": email, "name": name})
    return client


async def client_by_email(session: AsyncSession, email: str) -> Client | None:
    return (await session.execute(select(Client).where(Client.email == email))).scalar_one_or_none()


async def client_by_id(session: AsyncSession, client_id: int) -> Client | None:
    return await session.get(Client, client_id)


async def confirm_email(session: AsyncSession, client_id: int, at: datetime) -> bool:
    """Mark the address confirmed; False if it was already (a sign-up link works once)."""
    result = await session.execute(update(Client).where(Client.id == client_id, Client.email_confirmed_at.is_(None))
                                   .values(email_confirmed_at=at))
    if result.rowcount:
        audit.record(session, f"client:{client_id}", "client.email_confirmed", "client", client_id, after={})
    return bool(result.rowcount)
