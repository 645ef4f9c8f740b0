"""The credit balance as a ledger: every change is an entry, the balance is their sum, and no
entry may take it below zero. Entries are keyed (kind, reference) so a retried step writes once."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.money import Money
from core.refusals import Refusals, refuse
from store import audit
from store.db import locked_one
from store.models import Client, CreditEntry


async def balance(session: AsyncSession, client_id: int, currency: str) -> Money:
    total = (await session.execute(select(func.coalesce(func.sum(CreditEntry.amount_minor), 0)).where(
        CreditEntry.client_id == client_id, CreditEntry.currency == currency))).scalar_one()
    return Money(int(total), currency)


async def _lock_client(session: AsyncSession, client_id: int) -> Client:
    """Serialise balance changes of one client (PostgreSQL row lock; SQLite serialises writers)."""
    return await locked_one(session, select(Client).where(Client.id == client_id),
                            Refusals.CLIENT_UNKNOWN, "client_id", client_id=client_id)


async def add_entry(session: AsyncSession, *, client_id: int, amount: Money, kind: str, reference: str,
                    reason: str = "", actor: str = "system", invoice_id: int | None = None) -> CreditEntry:
    """Write one entry (or return the one already written under this kind and reference)."""
    await _lock_client(session, client_id)
    existing = (await session.execute(select(CreditEntry).where(
        CreditEntry.kind == kind, CreditEntry.reference == reference))).scalar_one_or_none()
    if existing is not None:
        return existing
    current = await balance(session, client_id, amount.currency)
    if (current + amount).minor < 0:
        raise refuse(Refusals.BALANCE_INSUFFICIENT, "amount", current=current.display(),
                     amount=Money(-amount.minor, amount.currency).display())
    entry = CreditEntry(client_id=client_id, currency=amount.currency, amount_minor=amount.minor, kind=kind,
                        reference=reference, reason=reason, actor=actor, invoice_id=invoice_id)
    session.add(entry)
    await session.flush()
    audit.record(session, actor, f"credit.{kind}", "client", client_id,
                 {"balance": current.amount()}, {"balance": (current + amount).amount(), "amount": amount.amount(),
                                                 "reference": reference, "reason": reason})
    return entry


async def adjust(session: AsyncSession, *, client_id: int, amount: Money, reason: str, actor: str,
                 reference: str) -> CreditEntry:
    """An operator's manual adjustment: a reason is required; a debit may not overdraw."""
    if not reason.strip():
        raise refuse(Refusals.REASON_MISSING, "reason", message="Say why the balance changes (the client sees it).")
    if amount.minor == 0:
        raise refuse(Refusals.AMOUNT_INVALID, "amount", message="An adjustment of nothing changes nothing.")
    return await add_entry(session, client_id=client_id, amount=amount, kind="adjustment", reference=reference,
                           reason=reason.strip()[:300], actor=actor)


async def entries(session: AsyncSession, client_id: int, limit: int = 200) -> list[CreditEntry]:
    return list((await session.execute(select(CreditEntry).where(CreditEntry.client_id == client_id)
                                       .order_by(CreditEntry.id.desc()).limit(limit))).scalars())


async def _set_choice(session: AsyncSession, client_id: int, name: str, enabled: bool) -> None:
    client = await _lock_client(session, client_id)
    if getattr(client, name) != enabled:
        audit.record(session, f"client:{client_id}", f"client.{name}", "client", client_id,
                     {name: getattr(client, name)}, {name: enabled})
        setattr(client, name, enabled)


async def set_auto_renew(session: AsyncSession, client_id: int, enabled: bool) -> None:
    """On: renewal invoices are paid from the credit balance when it covers them."""
    await _set_choice(session, client_id, "auto_renew", enabled)


async def set_apply_credit(session: AsyncSession, client_id: int, enabled: bool) -> None:
    """On: each new invoice takes what the credit balance can pay of it as soon as it is issued."""
    await _set_choice(session, client_id, "apply_credit", enabled)
