"""Operators' own invoices (support hours, setup work; drafts until issued), how a client is billed,
and what chasing invoices writes down: notices sent per invoice, a client's services suspended for
an overdue invoice and lifted on payment, and the operators' list of clients by reminders had."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.billing import Line
from core.errors import BusinessError
from core.money import Money
from core.refusals import Refusals, refuse
from core.statuses import BillingMode, InvoiceStatus, SubscriptionStatus
from store import audit, orders
from store.billing import paid_column
from store.db import for_update, locked_one
from store.invoicing import InvoiceTerms, Item, write_lines
from store.models import Client, Invoice, InvoiceLine, Order, Subscription

MAX_LINES = 50
DRAFT_PREFIX = "DRAFT-"


def _checked(items: list[Item], terms: InvoiceTerms, *, now: datetime, due_at: datetime) -> list[Item]:
    """The operator's lines, each checked by core.billing, taxed at the client's rate from `terms`."""
    if not items:
        raise refuse(Refusals.LINES_MISSING, "lines")
    if len(items) > MAX_LINES:
        raise refuse(Refusals.LINES_TOO_MANY, "lines", max_lines=MAX_LINES)
    for i, item in enumerate(items):
        if not item.line.description.strip():
            raise refuse(Refusals.DESCRIPTION_MISSING, f"lines.{i}.description")
        try:
            item.line.totals()
        except BusinessError as exc:
            raise BusinessError(exc.code, exc.message, f"lines.{i}.{exc.field}") from None
    if due_at.date() < now.date():
        raise refuse(Refusals.DUE_IN_PAST, "due_on")
    return [replace(item, line=replace(item.line, tax_bp=terms.tax_bp)) for item in items]


async def create_custom_invoice(session: AsyncSession, client: Client, items: list[Item], *, now: datetime,
                                due_at: datetime, terms: InvoiceTerms, actor: str, draft: bool = False) -> Invoice:
    """Issue an invoice with the operator's lines, or keep it as a draft: unnumbered (`DRAFT-<id>`),
    unseen by the client, editable until issued. The caller commits."""
    items = _checked(items, terms, now=now, due_at=due_at)
    invoice = Invoice(number=f"{DRAFT_PREFIX}new-{secrets.token_hex(6)}" if draft
                      else await orders.next_invoice_number(session, now.year, terms.number_format),
                      client_id=client.id, order_id=None, status=InvoiceStatus.DRAFT if draft else InvoiceStatus.UNPAID,
                      currency=items[0].line.unit.currency, total_minor=0, issued_at=now, due_at=due_at,
                      created_by=actor)
    session.add(invoice)
    await session.flush()
    if draft:
        invoice.number = f"{DRAFT_PREFIX}{invoice.id}"
    await write_lines(session, invoice, items)
    audit.record(session, actor, "invoice.drafted" if draft else "invoice.issued", "invoice", invoice.number, None,
                 {"client": client.id, "total": Money(invoice.total_minor, invoice.currency).amount(),
                  "lines": [i.line.description for i in items], "due": due_at.date()})
    return invoice


async def locked_draft(session: AsyncSession, invoice_id: int) -> Invoice:
    """The draft, locked for a change; an issued invoice is never edited."""
    query = select(Invoice).where(Invoice.id == invoice_id).options(selectinload(Invoice.lines))
    invoice = await locked_one(session, query, Refusals.DRAFT_UNKNOWN, "invoice", invoice_id=invoice_id)
    if invoice.status != InvoiceStatus.DRAFT:
        raise refuse(Refusals.INVOICE_NOT_DRAFT, "invoice", number=invoice.number)
    return invoice


async def update_draft(session: AsyncSession, invoice_id: int, items: list[Item], *, now: datetime, due_at: datetime,
                       terms: InvoiceTerms, actor: str) -> Invoice:
    """Replace a draft's lines and due date."""
    invoice = await locked_draft(session, invoice_id)
    items = _checked(items, terms, now=now, due_at=due_at)
    before = {"total": Money(invoice.total_minor, invoice.currency).amount(), "due": invoice.due_at.date()}
    await session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
    invoice.currency, invoice.due_at = items[0].line.unit.currency, due_at
    await write_lines(session, invoice, items)
    audit.record(session, actor, "invoice.draft_changed", "invoice", invoice.number, before,
                 {"total": Money(invoice.total_minor, invoice.currency).amount(), "due": due_at.date(),
                  "lines": [i.line.description for i in items]})
    await session.flush()
    session.expire(invoice, ["lines"])
    return invoice


async def issue_draft(session: AsyncSession, invoice_id: int, *, now: datetime, terms: InvoiceTerms,
                      actor: str) -> Invoice:
    """Give the draft its number (the next one: drafts never leave a gap), date it today and tax it at
    the client's rate as it is now; it is then an issued invoice like any other."""
    invoice = await locked_draft(session, invoice_id)
    items = [Item(Line(line.description, line.quantity, Money(line.unit_minor, invoice.currency),
                       Money(line.discount_minor, invoice.currency) if line.discount_minor else None),
                  line.period_years, line.period_start, line.period_end) for line in invoice.lines]
    items = _checked(items, terms, now=now, due_at=invoice.due_at)
    draft_number = invoice.number
    await session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
    invoice.number = await orders.next_invoice_number(session, now.year, terms.number_format)
    invoice.status, invoice.issued_at = InvoiceStatus.UNPAID, now
    await write_lines(session, invoice, items)
    audit.record(session, actor, "invoice.issued", "invoice", invoice.number, {"draft": draft_number},
                 {"client": invoice.client_id, "total": Money(invoice.total_minor, invoice.currency).amount(),
                  "lines": [i.line.description for i in items], "due": invoice.due_at.date()})
    await session.flush()
    session.expire(invoice, ["lines"])
    return invoice


async def delete_draft(session: AsyncSession, invoice_id: int, actor: str) -> str:
    """A draft was never issued, so it goes without a credit note; returns its draft number."""
    invoice = await locked_draft(session, invoice_id)
    number = invoice.number
    await session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
    await session.delete(invoice)
    audit.record(session, actor, "invoice.draft_deleted", "invoice", number,
                 {"total": Money(invoice.total_minor, invoice.currency).amount(), "client": invoice.client_id}, None)
    return number


async def operator_invoices(session: AsyncSession, *, status: str = "", client_id: int | None = None,
                            limit: int = 100) -> list[tuple[Invoice, Client, int]]:
    """Invoices for the operators' list, newest first, each with its client and what is paid on it."""
    query = (select(Invoice, Client, paid_column()).join(Client, Client.id == Invoice.client_id)
             .order_by(Invoice.issued_at.desc(), Invoice.id.desc()).limit(limit))
    if status:
        query = query.where(Invoice.status == status)
    if client_id is not None:
        query = query.where(Invoice.client_id == client_id)
    return [(invoice, client, int(p)) for invoice, client, p in await session.execute(query)]


async def set_billing_mode(session: AsyncSession, client_id: int, mode: str, actor: str) -> Client:
    """How the client is billed from the next order or renewal on; orders already placed keep theirs."""
    client = await locked_one(session, select(Client).where(Client.id == client_id),
                              Refusals.CLIENT_UNKNOWN, "client_id", client_id=client_id)
    if client.billing_mode != mode:
        audit.record(session, actor, "client.billing_mode", "client", client_id, {"billing_mode": client.billing_mode},
                     {"billing_mode": mode})
        client.billing_mode = mode
    return client


async def active_services(session: AsyncSession, client_id: int) -> list[Subscription]:
    return list((await session.execute(select(Subscription).where(
        Subscription.client_id == client_id, Subscription.status == SubscriptionStatus.ACTIVE)
        .order_by(Subscription.id))).scalars())


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
    rows = await session.execute(
        select(Client, func.count(Invoice.id), func.sum(Invoice.reminders_sent),
               func.sum(Invoice.total_minor - paid_column()), func.min(Invoice.due_at))
        .join(Invoice, Invoice.client_id == Client.id)
        .outerjoin(Order, Order.id == Invoice.order_id)
        # chased invoices: the operators' own and postpaid orders' (a prepaid order just lapses)
        .where(Invoice.status == InvoiceStatus.UNPAID, Invoice.due_at < now,
               or_(Invoice.order_id.is_(None), Order.billing == BillingMode.POSTPAID))
        .group_by(Client.id))
    found = [Dunned(client, int(n), int(reminders or 0), Money(int(owed or 0), currency), oldest)
             for client, n, reminders, owed, oldest in rows]
    return sorted(found, key=lambda d: (-d.reminders, -d.owed.minor, d.client.id))
