"""/api/v1/invoices: the client's invoices with what is paid and due, paying a chased one (PayPal or
credit), and any invoice's PDF."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import BillingDep, CsrfHeader, SessionsDep, SettingsDep, SignedIn
from api.schemas.account import InvoiceCreditOut, StatementOut
from api.schemas.common import SIGNED_IN, WRITE, refusals
from api.schemas.orders import PayPalOut
from core.refusals import Refusals, refuse
from core.money import Money
from core.statuses import InvoiceStatus
from store import billing as billing_store
from store import orders

router = APIRouter(prefix="/api/v1/invoices", tags=["invoices"])
CHASED = (*WRITE, "invoice_not_found", "invoice_paid_by_order", "invoice_not_payable")


def _own_document(document, client, number: str):
    if document is None or (not client.is_operator and (document[0].client_id != client.id
                                                        or document[0].status == InvoiceStatus.DRAFT)):
        raise refuse(Refusals.INVOICE_NOT_FOUND, "number", number=number)
    return document


@router.get("", response_model=StatementOut, responses=refusals(*SIGNED_IN))
async def my_invoices(client: SignedIn, sessions: SessionsDep):
    """Your invoices, newest first, with what is paid and still due, and any credit note cancelling one."""
    async with sessions() as session:
        rows = await billing_store.statement(session, client.id)
    return {"invoices": [{"number": i.number, "status": i.status, "issued_at": i.issued_at.isoformat(timespec="seconds"),
                          "due_at": i.due_at.isoformat(timespec="seconds"), "currency": i.currency,
                          "subtotal": Money(i.subtotal_minor, i.currency).amount(),
                          "discount": Money(i.discount_minor, i.currency).amount(),
                          "tax": Money(i.tax_minor, i.currency).amount(),
                          "total": Money(i.total_minor, i.currency).amount(),
                          "paid": Money(paid, i.currency).amount(), "due": Money(due, i.currency).amount(),
                          "credit_note": note.number if note else None,
                          "pdf": f"/api/v1/invoices/{i.number}.pdf"} for i, paid, due, note in rows]}


@router.post("/{number}/paypal", dependencies=[CsrfHeader], response_model=PayPalOut,
             responses=refusals(*CHASED, "payment_unavailable"))
async def pay_invoice_with_paypal(number: str, client: SignedIn, billing: BillingDep):
    """Pay one of your invoices that is not an order's (support work, a postpaid order) with PayPal: send
    the payer to `approve_url`; PayPal brings them back to /paypal/return and the payment is recorded."""
    checkout = await billing.begin_invoice_paypal(client, number)
    return {"paypal_order_id": checkout.paypal_order_id, "approve_url": checkout.approve_url}


@router.post("/{number}/credit", dependencies=[CsrfHeader], response_model=InvoiceCreditOut,
             responses=refusals(*CHASED, "balance_insufficient"))
async def pay_invoice_with_credit(number: str, client: SignedIn, billing: BillingDep):
    """Pay one of your invoices that is not an order's (support work, a postpaid order) from your credit
    balance: all that is due, or as much as the balance holds."""
    state = await billing.pay_invoice_with_credit(client, number)
    return {"invoice": state.number, "status": state.status, "due": state.due_minor, "message": state.message}


@router.get("/{number}.pdf", response_class=Response,
            responses={**refusals(*SIGNED_IN, "invoice_not_found"),
                       200: {"content": {"application/pdf": {}}, "description": "the invoice as a PDF"}})
async def invoice_pdf(number: str, client: SignedIn, sessions: SessionsDep, settings: SettingsDep):
    """The invoice as a PDF (the client's own; operators any)."""
    from store.invoice_pdf import render as invoice_pdf_render   # fpdf2 takes half a second to import
    async with sessions() as session:
        invoice, owner, paid = _own_document(await orders.invoice_document(session, number[:32]), client, number[:32])
        data = invoice_pdf_render(invoice, list(invoice.lines), owner, paid, settings.seller())
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="invoice-{invoice.number}.pdf"'})
