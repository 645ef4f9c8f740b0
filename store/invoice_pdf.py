"""An invoice as a PDF (fpdf2): seller and client, number and dates, each line with its service
period, quantity, unit price, discount and tax, then the totals and what has been paid. Built from
the stored invoice only, so a PDF made today and one made next year are the same document."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from fpdf import FPDF
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import rate_text
from core.money import Money
from core.statuses import InvoiceStatus
from store import orders
from store.invoicing import Seller
from store.models import Client, Invoice, InvoiceLine, Payment


def _latin(text: str) -> str:
    """The PDF's built-in fonts cover Latin-1; anything else is spelled as closely as it can be."""
    text = unicodedata.normalize("NFKC", text or "")
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


@dataclass(frozen=True)
class InvoicePdf:
    """An invoice as it stands now: its client, its payments (refunds negative) and its PDF."""
    invoice: Invoice
    client: Client
    payments: list[Payment]
    pdf: bytes

    @property
    def outstanding_minor(self) -> int:
        return max(0, self.invoice.total_minor - sum(p.applied_minor for p in self.payments))


async def of_number(session: AsyncSession, number: str, seller: Seller) -> InvoicePdf:
    document = await orders.invoice_document(session, number)
    if document is None:
        raise LookupError(f"invoice {number} does not exist")
    invoice, client, payments = document
    return InvoicePdf(invoice, client, payments, render(invoice, list(invoice.lines), client, payments, seller))


def render(invoice: Invoice, lines: list[InvoiceLine], client: Client, payments: list[Payment],
           seller: Seller) -> bytes:
    def money(minor: int) -> str:
        return Money(minor, invoice.currency).display().replace("€", "EUR ")

    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.set_author(_latin(seller.name))
    pdf.set_creation_date(invoice.issued_at)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _latin(seller.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for part in filter(None, [*(seller.address or "").splitlines(), f"Tax ID {seller.tax_id}" if seller.tax_id else ""]):
        pdf.cell(0, 4.5, _latin(part), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "B", 14)
    title = {InvoiceStatus.CANCELLED: "Invoice (cancelled)", InvoiceStatus.REFUNDED: "Invoice (refunded)",
             InvoiceStatus.DRAFT: "Draft invoice (not issued)"}.get(invoice.status, "Invoice")
    pdf.cell(0, 8, f"{title} {invoice.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    facts = [("Issued", invoice.issued_at.date().isoformat()), ("Due", invoice.due_at.date().isoformat()),
             ("Status", invoice.status)]
    if invoice.paid_at:
        facts.append(("Paid", invoice.paid_at.date().isoformat()))
    for label, value in facts:
        pdf.cell(25, 5, label)
        pdf.cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 5, "Billed to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for part in filter(None, [client.name, client.company, client.address_line, client.city, client.country,
                              client.email]):
        pdf.cell(0, 5, _latin(part), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)

    widths = (74, 30, 10, 20, 18, 16, 22)
    heads = ("Description", "Period", "Qty", "Unit", "Discount", "Tax", "Amount")
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_fill_color(235, 240, 238)
    for width, head in zip(widths, heads):
        pdf.cell(width, 6, head, border="B", fill=True, align="L" if head in ("Description", "Period") else "R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 8.5)
    for line in lines:
        period = (f"{line.period_start} - {line.period_end}" if line.period_start and line.period_end
                  else f"{line.period_years} yr" if line.period_years else "")
        cells = (_latin(line.description), period, str(line.quantity), money(line.unit_minor),
                 money(line.discount_minor) if line.discount_minor else "", rate_text(line.tax_bp),
                 money(line.amount_minor + line.tax_minor))
        y = pdf.get_y()
        pdf.multi_cell(widths[0], 5, cells[0], new_x="RIGHT", new_y="TOP", max_line_height=5)
        height = max(5, pdf.get_y() - y) if pdf.get_y() > y else 5
        for width, text in zip(widths[1:], cells[1:]):
            pdf.cell(width, 5, text, align="L" if width == widths[1] else "R")
        pdf.set_y(max(y + height, y + 5))
    pdf.ln(3)

    def total(label: str, minor: int, bold: bool = False) -> None:
        pdf.set_font("Helvetica", "B" if bold else "", 10)
        pdf.cell(sum(widths[:-2]), 6, "")
        pdf.cell(widths[-2], 6, label, align="R")
        pdf.cell(widths[-1], 6, money(minor), align="R", new_x="LMARGIN", new_y="NEXT")

    total("Subtotal", invoice.subtotal_minor)
    if invoice.discount_minor:
        total("Discount", -invoice.discount_minor)
    total("Tax", invoice.tax_minor)
    total("Total", invoice.total_minor, bold=True)
    received = sum(p.amount_minor for p in payments)
    if payments:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(0, 5, "Payments", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        for p in payments:
            pdf.cell(0, 5, _latin(f"{p.received_at.date()}  {p.method}  {p.reference}  {money(p.amount_minor)}"),
                     new_x="LMARGIN", new_y="NEXT")
    closed = invoice.status in (InvoiceStatus.CANCELLED, InvoiceStatus.REFUNDED)
    total("Balance due", 0 if closed else max(0, invoice.total_minor - received), bold=True)
    return bytes(pdf.output())
