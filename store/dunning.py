"""Operators' own invoices (support hours, setup work) and what chasing them writes down: notices sent
per invoice, a client's services suspended for an overdue invoice and lifted on payment, and the
operators' list of clients by how many reminders they have had."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BusinessError
from core.money import Money
from store import audit, orders
from store.billing import paid_per_invoice
from store.db import for_update
from store.invoicing import InvoiceTerms, Item, write_lines
from store.models import Client, Invoice, Subscription

MAX_LINES = 50


async def create_custom_invoice(session: AsyncSession, client: Client, items: list[Item], *, now: datetime,
                                due_at: datetime, terms: InvoiceTerms, actor: str) -> Invoice:
    """Issue an invoice with the operator's lines (each checked by core.billing), taxed at the client's
    rate from `terms`; the caller commits."""
    if not items:
        raise BusinessError("lines_missing", "An invoice needs at least one line.", "lines")
    if len(items) > MAX_LINES:
        raise BusinessError("lines_too_many", f"An invoice holds at most {MAX_LINES} lines.", "lines")
    for i, item in enumerate(items):
        if not item.line.description.strip():
            raise BusinessError("description_missing", "Every line needs a description.", f"lines.{i}.description")
        try:
            item.line.totals()
        except BusinessError as exc:
            raise BusinessError(exc.code, exc.message, f"lines.{i}.{exc.field}") from None
    if due_at < now:
        raise BusinessError("due_in_past", "The due date cannot be before today.", "due_on")
    items = [replace(item, line=replace(item.line, tax_bp=terms.tax_bp)) for item in items]
    invoice = Invoice(number=await orders.next_invoice_number(session, now.year, terms.number_format),
                      client_id=client.id, order_id=None, status="unpaid", currency=items[0].line.unit.currency,
                      total_minor=0, issued_at=now, due_at=due_at, created_by=actor)
    session.add(invoice)
    await session.flush()
    await write_lines(session, invoice, items)
    audit.record(session, actor, "invoice.issued", "invoice", invoice.number, None,
                 {"client": client.id, "total": Money(invoice.total_minor, invoice.currency).amount(),
                  "lines": [i.line.description for i in items], "due": due_at.date()})
    return invoice


async def active_services(session: AsyncSession, client_id: int) -> list[Subscription]:
    return list((await session.execute(select(Subscription).where(
        Subscription.client_id == client_id, Subscription.status == "active").order_by(Subscription.id))).scalars())


async def set_suspended(session: AsyncSession, client_id: int, suspended: bool, invoice_number: str,
                        now: datetime) -> list[Subscription]:
    """Mark (or clear) the client's suspension for this invoice; returns the running addresses."""
    client = (await session.execute(for_update(session, select(Client).where(Client.id == client_id)))).scalar_one()
    before = {"suspended_at": client.suspended_at, "reason": client.suspended_reason}
    if suspended and client.suspended_at is None:
        client.suspended_at, client.suspended_reason = now, f"invoice {invoice_number} overdue"
    elif not suspended and client.suspended_reason == f"invoice {invoice_number} overdue":
        client.suspended_at, client.suspended_reason = None, ""
    if before["suspended_at"] != client.suspended_at:
        audit.record(session, "system", "client.suspended" if suspended else "client.unsuspended", "client",
                     client_id, before, {"suspended_at": client.suspended_at, "reason": client.suspended_reason})
    return await active_services(session, client_id)


async def note_reminder(session: AsyncSession, invoice_id: int, count: int) -> Invoice:
    """The invoice has had `count` notices (a retried step counts once)."""
    invoice = await session.get(Invoice, invoice_id)
    assert invoice is not None
    invoice.reminders_sent = max(invoice.reminders_sent, count)
    return invoice


@dataclass(frozen=True)
class Dunned:
    client: Client
    invoices: int
    reminders: int
    owed: Money
    oldest_due: datetime


async def clients_in_arrears(session: AsyncSession, now: datetime, currency: str) -> list[Dunned]:
    """Clients with unpaid invoices past due, most reminded first, then most owed."""
    paid = paid_per_invoice()
    rows = await session.execute(
        select(Client, func.count(Invoice.id), func.sum(Invoice.reminders_sent),
               func.sum(Invoice.total_minor - func.coalesce(paid.c.paid, 0)), func.min(Invoice.due_at))
        .join(Invoice, Invoice.client_id == Client.id).outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.status == "unpaid", Invoice.due_at < now, Invoice.order_id.is_(None))
        .group_by(Client.id))
    found = [Dunned(client, int(n), int(reminders or 0), Money(int(owed or 0), currency), oldest)
             for client, n, reminders, owed, oldest in rows]
    return sorted(found, key=lambda d: (-d.reminders, -d.owed.minor, d.client.id))
