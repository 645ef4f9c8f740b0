"""What an accountant takes away for a period: invoices, payments (refunds as negative rows), credit
notes and the credit ledger, as rows of strings ready for CSV, amounts as plain decimals. Each row
carries what is needed to tie it to the others: invoice numbers, payment references, note numbers."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.money import Money
from core.refusals import Refusals, refuse
from core.statuses import InvoiceStatus
from store.billing import paid_column
from store.models import Client, CreditEntry, CreditNote, Invoice, Payment

MAX_DAYS = 3 * 366
KINDS = ("invoices", "payments", "credit-notes", "credit")

COLUMNS = {
    "invoices": ["number", "issued_on", "due_on", "status", "client_id", "client_email", "client_name", "currency",
                 "subtotal", "discount", "tax", "total", "paid", "outstanding", "credit_note", "order_id"],
    "payments": ["received_on", "invoice", "client_id", "client_email", "method", "reference", "currency", "amount",
                 "applied", "to_credit", "recorded_by"],
    "credit-notes": ["number", "issued_on", "invoice", "client_id", "client_email", "currency", "amount",
                     "credited", "reason", "issued_by"],
    "credit": ["date", "client_id", "client_email", "kind", "reference", "invoice", "currency", "amount", "reason",
               "by"],
}


def parse_range(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """`from`..`to` inclusive, YYYY-MM-DD; by default the current month so far."""
    def one(raw: str | None, default: date, field: str) -> date:
        if not raw:
            return default
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise refuse(Refusals.DATE_INVALID, field, raw=raw[:20]) from None
    first, last = one(start, today.replace(day=1), "from"), one(end, today, "to")
    if last < first:
        raise refuse(Refusals.RANGE_INVALID, "to")
    if (last - first).days > MAX_DAYS:
        raise refuse(Refusals.RANGE_INVALID, "to", message="Export at most three years at a time.")
    return first, last


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return (datetime.combine(first, time.min, timezone.utc),
            datetime.combine(last + timedelta(days=1), time.min, timezone.utc))


def _money(minor: int, currency: str) -> str:
    return Money(int(minor), currency).amount()


async def rows(session: AsyncSession, kind: str, first: date, last: date) -> list[dict[str, str]]:
    if kind not in KINDS:
        raise refuse(Refusals.EXPORT_UNKNOWN, "kind", names=", ".join(KINDS))
    lo, hi = _bounds(first, last)
    return await {"invoices": _invoices, "payments": _payments, "credit-notes": _notes,
                  "credit": _ledger}[kind](session, lo, hi)


async def _invoices(session: AsyncSession, lo: datetime, hi: datetime) -> list[dict[str, str]]:
    result = await session.execute(
        select(Invoice, Client, paid_column(), CreditNote.number)
        .join(Client, Client.id == Invoice.client_id)
        .outerjoin(CreditNote, CreditNote.invoice_id == Invoice.id)
        .where(Invoice.issued_at >= lo, Invoice.issued_at < hi, Invoice.status != InvoiceStatus.DRAFT)
        .order_by(Invoice.issued_at, Invoice.id))
    out = []
    for invoice, client, paid_minor, note in result:
        c = invoice.currency
        outstanding = max(0, invoice.total_minor - int(paid_minor)) if invoice.status == InvoiceStatus.UNPAID else 0
        out.append({"number": invoice.number, "issued_on": invoice.issued_at.date().isoformat(),
                    "due_on": invoice.due_at.date().isoformat(), "status": invoice.status,
                    "client_id": str(client.id), "client_email": client.email, "client_name": client.name,
                    "currency": c, "subtotal": _money(invoice.subtotal_minor, c),
                    "discount": _money(invoice.discount_minor, c), "tax": _money(invoice.tax_minor, c),
                    "total": _money(invoice.total_minor, c), "paid": _money(paid_minor, c),
                    "outstanding": _money(outstanding, c), "credit_note": note or "",
                    "order_id": str(invoice.order_id or "")})
    return out


async def _payments(session: AsyncSession, lo: datetime, hi: datetime) -> list[dict[str, str]]:
    result = await session.execute(
        select(Payment, Invoice.number, Client).join(Invoice, Invoice.id == Payment.invoice_id)
        .join(Client, Client.id == Invoice.client_id)
        .where(Payment.received_at >= lo, Payment.received_at < hi).order_by(Payment.received_at, Payment.id))
    return [{"received_on": p.received_at.date().isoformat(), "invoice": number, "client_id": str(client.id),
             "client_email": client.email, "method": p.method, "reference": p.reference, "currency": p.currency,
             "amount": _money(p.amount_minor, p.currency), "applied": _money(p.applied_minor, p.currency),
             "to_credit": _money(p.amount_minor - p.applied_minor, p.currency), "recorded_by": p.actor}
            for p, number, client in result]


async def _notes(session: AsyncSession, lo: datetime, hi: datetime) -> list[dict[str, str]]:
    result = await session.execute(
        select(CreditNote, Invoice.number, Client).join(Invoice, Invoice.id == CreditNote.invoice_id)
        .join(Client, Client.id == CreditNote.client_id)
        .where(CreditNote.issued_at >= lo, CreditNote.issued_at < hi).order_by(CreditNote.issued_at, CreditNote.id))
    return [{"number": n.number, "issued_on": n.issued_at.date().isoformat(), "invoice": number,
             "client_id": str(client.id), "client_email": client.email, "currency": n.currency,
             "amount": _money(n.amount_minor, n.currency), "credited": _money(n.credited_minor, n.currency),
             "reason": n.reason, "issued_by": n.actor} for n, number, client in result]


async def _ledger(session: AsyncSession, lo: datetime, hi: datetime) -> list[dict[str, str]]:
    result = await session.execute(
        select(CreditEntry, Client, Invoice.number).join(Client, Client.id == CreditEntry.client_id)
        .outerjoin(Invoice, Invoice.id == CreditEntry.invoice_id)
        .where(CreditEntry.created_at >= lo, CreditEntry.created_at < hi)
        .order_by(CreditEntry.created_at, CreditEntry.id))
    return [{"date": e.created_at.date().isoformat(), "client_id": str(client.id), "client_email": client.email,
             "kind": e.kind, "reference": e.reference, "invoice": number or "", "currency": e.currency,
             "amount": _money(e.amount_minor, e.currency), "reason": e.reason, "by": e.actor}
            for e, client, number in result]
