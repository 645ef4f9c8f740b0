"""Writing an invoice's lines: each line's discount and tax worked out by core.billing, and the
invoice's subtotal, discount, tax and total set from them, so what is stored always adds up."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import Line, invoice_totals
from core.money import Money
from store.models import Invoice, InvoiceLine


@dataclass(frozen=True)
class Seller:
    """Who issues the invoices (printed at the top of each PDF)."""
    name: str
    address: str = ""
    tax_id: str = ""


@dataclass(frozen=True)
class InvoiceTerms:
    """How invoices are numbered and taxed: from settings, the tax rate per client."""
    tax_bp: int = 0
    number_format: str = "{year}-{seq:06d}"


@dataclass(frozen=True)
class Item:
    """A line to invoice (its arithmetic in core.billing) and the service period it pays for."""
    line: Line
    period_years: int = 0
    period_start: date | None = None
    period_end: date | None = None


async def write_lines(session: AsyncSession, invoice: Invoice, items: list[Item]) -> list[Money]:
    """Add the lines and set the invoice's totals; returns each line's total (net + tax)."""
    totals = invoice_totals([i.line for i in items], invoice.currency)
    out = []
    for item in items:
        line, t = item.line, item.line.totals()
        session.add(InvoiceLine(invoice_id=invoice.id, description=line.description, period_years=item.period_years,
                                quantity=line.quantity, unit_minor=line.unit.minor, amount_minor=t.net.minor,
                                discount_minor=t.discount.minor, tax_bp=line.tax_bp, tax_minor=t.tax.minor,
                                period_start=item.period_start, period_end=item.period_end))
        out.append(t.total)
    invoice.subtotal_minor, invoice.discount_minor = totals.subtotal.minor, totals.discount.minor
    invoice.tax_minor, invoice.total_minor = totals.tax.minor, totals.total.minor
    return out
