"""/api/v1/operator: operators' own invoices and drafts, credit, billing modes, arrears, credit
notes, refunds, promo codes and CSV exports (api.services.billing, as the Billing page calls it)."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from api.deps import BillingDep, CsrfHeader, Operator, SettingsDep
from api.params import Id
from api.schemas.billing import (BillingModeIn, BillingModeOut, CancelInvoiceIn, CreditAdjustedOut, CreditIn,
                                 CustomInvoiceIn, DraftIn, DunningOut, InvoiceChangeOut, InvoiceLineIn, InvoiceOut,
                                 InvoicesOut, PromoActiveIn, PromoIn, PromoOut, PromosOut, RefundIn, RefundOut,
                                 RefundsOut)
from api.schemas.common import OPERATOR, OPERATOR_WRITE, refusals
from api.services import invoice_lines
from api.services.billing import promo_rule
from core.money import Money
from core.statuses import InvoiceStatus
from store import promos

router = APIRouter(prefix="/api/v1/operator", tags=["operator billing"])
LINES = ("lines_missing", "lines_too_many", "description_missing", "quantity_invalid", "amount_invalid",
         "discount_invalid", "period_invalid", "date_invalid", "due_in_past")
PROMO = ("promo_code_invalid", "promo_code_exists", "percent_invalid", "amount_invalid", "promo_value_invalid",
         "promo_window_invalid", "promo_limit_invalid", "promo_kind_invalid", "domain_invalid")


def _items(lines: list[InvoiceLineIn], currency: str):
    return invoice_lines.items([invoice_lines.LineEntry(line.description, line.quantity, line.unit_price,
                                                        line.discount, line.period_start, line.period_end)
                                for line in lines], currency)


@router.post("/clients/{client_id}/credit", status_code=201, dependencies=[CsrfHeader],
             response_model=CreditAdjustedOut,
             responses=refusals(*OPERATOR_WRITE, "client_unknown", "amount_invalid", "reason_missing",
                                "balance_insufficient"))
async def adjust_credit(client_id: Id, body: CreditIn, operator: Operator, billing: BillingDep):
    """Operators: add (or take back) credit with a reason the client sees; never below zero."""
    entry, reference, balance = await billing.adjust_credit(operator, client_id, body.amount, body.reason,
                                                            body.reference)
    return {"entry": entry, "reference": reference, "balance": balance.amount()}


def _invoice_json(invoice, client=None, paid: int | None = None) -> dict:
    money = lambda minor: Money(minor, invoice.currency).amount()  # noqa: E731
    out = {"id": invoice.id, "number": invoice.number, "status": invoice.status, "client_id": invoice.client_id,
           "total": money(invoice.total_minor), "tax": money(invoice.tax_minor),
           "issued_at": invoice.issued_at.isoformat(timespec="seconds"), "due_at": invoice.due_at.isoformat(),
           "pdf": f"/api/v1/invoices/{invoice.number}.pdf"}
    if client is not None:
        out["client_email"] = client.email
    if paid is not None:
        out["paid"] = money(paid)
        out["due"] = money(max(0, invoice.total_minor - paid) if invoice.status == InvoiceStatus.UNPAID else 0)
    return out


@router.post("/invoices", status_code=201, dependencies=[CsrfHeader], response_model=InvoiceOut,
             response_model_exclude_unset=True, responses=refusals(*OPERATOR_WRITE, "client_unknown", *LINES))
async def create_custom_invoice(body: CustomInvoiceIn, operator: Operator, billing: BillingDep, settings: SettingsDep):
    """Operators: an invoice of your own (support hours, setup work) for a client, taxed at the client's
    rate, emailed with its PDF, paid from credit as far as it goes, then chased: a reminder before the
    due date, overdue reminders, and the client's addresses suspended after DUNNING_SUSPEND_AFTER_DAYS.
    With `"draft": true` it is kept unnumbered and unseen by the client until you issue it."""
    invoice = await billing.create_invoice(operator, body.client_id, _items(body.lines, settings.currency),
                                           body.due_on, date.today(), draft=body.draft)
    return _invoice_json(invoice)


@router.get("/invoices", response_model=InvoicesOut, response_model_exclude_unset=True,
            responses=refusals(*OPERATOR, "status_invalid"))
async def list_invoices(operator: Operator, billing: BillingDep,
                        status: Annotated[str, Query(max_length=12)] = "",
                        client_id: Id | None = None):
    """Operators: invoices newest first (100 at most), by status (draft, unpaid, paid, cancelled,
    refunded) and client, with what is paid and due on each."""
    rows = await billing.invoices(status.strip(), client_id)
    return {"invoices": [_invoice_json(invoice, client, paid) for invoice, client, paid in rows]}


@router.put("/invoices/drafts/{invoice_id}", dependencies=[CsrfHeader], response_model=InvoiceOut,
            response_model_exclude_unset=True,
            responses=refusals(*OPERATOR_WRITE, "draft_unknown", "invoice_not_draft", *LINES))
async def update_draft(invoice_id: Id, body: DraftIn, operator: Operator, billing: BillingDep, settings: SettingsDep):
    """Operators: replace a draft's lines and due date. An issued invoice is never edited."""
    return _invoice_json(await billing.update_draft(operator, invoice_id, _items(body.lines, settings.currency),
                                                    body.due_on))


@router.post("/invoices/drafts/{invoice_id}/issue", dependencies=[CsrfHeader], response_model=InvoiceOut,
             response_model_exclude_unset=True,
             responses=refusals(*OPERATOR_WRITE, "draft_unknown", "invoice_not_draft"))
async def issue_draft(invoice_id: Id, operator: Operator, billing: BillingDep):
    """Operators: issue a draft: it takes the next invoice number, today's date and the client's tax
    rate, and is emailed and chased like any invoice of yours."""
    return _invoice_json(await billing.issue_draft(operator, invoice_id))


@router.delete("/invoices/drafts/{invoice_id}", status_code=204, dependencies=[CsrfHeader], response_class=Response,
               responses=refusals(*OPERATOR_WRITE, "draft_unknown", "invoice_not_draft"))
async def delete_draft(invoice_id: Id, operator: Operator, billing: BillingDep):
    """Operators: throw a draft away (it was never numbered, so nothing needs a credit note)."""
    await billing.delete_draft(operator, invoice_id)
    return Response(status_code=204)


@router.put("/clients/{client_id}/billing", dependencies=[CsrfHeader], response_model=BillingModeOut,
            responses=refusals(*OPERATOR_WRITE, "client_unknown", "billing_mode_invalid"))
async def set_billing_mode(client_id: Id, body: BillingModeIn, operator: Operator, billing: BillingDep):
    """Operators: how a client is billed from their next order or renewal on. `prepaid` (the default):
    addresses start once paid. `postpaid`: they start at once; the invoice is due POSTPAID_DUE_DAYS later
    and chased like your own invoices (reminders, then suspension). `exempt`: never invoiced."""
    client = await billing.set_billing_mode(operator, client_id, body.mode)
    return {"client_id": client.id, "billing_mode": client.billing_mode}


@router.get("/dunning", response_model=DunningOut, responses=refusals(*OPERATOR))
async def dunning_list(operator: Operator, billing: BillingDep):
    """Operators: clients with overdue invoices of yours, most reminded first."""
    return {"clients": [{"client_id": d.client.id, "email": d.client.email, "name": d.client.name,
                         "overdue_invoices": d.invoices, "reminders": d.reminders, "owed": d.owed.amount(),
                         "oldest_due": d.oldest_due.date().isoformat(),
                         "suspended": d.client.suspended_at is not None} for d in await billing.arrears()]}


@router.post("/invoices/{number}/cancel", dependencies=[CsrfHeader], response_model=InvoiceChangeOut,
             response_model_exclude_unset=True,
             responses=refusals(*OPERATOR_WRITE, "invoice_unknown", "invoice_cancelled", "invoice_draft",
                                "reason_missing"))
async def cancel_invoice(number: str, body: CancelInvoiceIn, operator: Operator, billing: BillingDep):
    """Operators: cancel an issued invoice. It is never edited: a credit note for its total is issued,
    and anything paid on it goes to the client's credit balance. An order still waiting for payment
    is cancelled with it (its addresses released)."""
    return await billing.cancel_invoice(operator, number, body.reason)


@router.post("/invoices/{number}/refunds", status_code=202, dependencies=[CsrfHeader], response_model=RefundOut,
             response_model_exclude_unset=True,
             responses=refusals(*OPERATOR_WRITE, "invoice_unknown", "no_paypal_payment", "amount_invalid",
                                "reason_missing", "refund_exceeds_capture", "refund_failed"))
async def refund_invoice(number: str, body: RefundIn, operator: Operator, billing: BillingDep,
                         idempotency_key: Annotated[str | None, Header(max_length=80)] = None):
    """Operators: refund part or all of the invoice's PayPal payment through PayPal. Answered at once
    (202) with the refund's id and status (`requested`: held against the payment, PayPal asked next);
    follow it on GET .../refunds. More than is left of the payment is refused at once (409). Send an
    Idempotency-Key header so that a repeated request is the same refund, never a second one."""
    return await billing.refund(operator, number, body.amount, body.reason, idempotency_key)


@router.get("/invoices/{number}/refunds", response_model=RefundsOut, responses=refusals(*OPERATOR))
async def invoice_refunds(number: str, operator: Operator, billing: BillingDep):
    """Operators: the invoice's refunds, oldest first, each `requested`, `pending` (PayPal is still
    processing it), `completed` or `failed` (with PayPal's reason in `message`)."""
    return {"invoice": number.strip()[:32], "refunds": [r.as_dict() for r in await billing.refunds(number)]}


@router.post("/promo-codes", status_code=201, dependencies=[CsrfHeader], response_model=PromoOut,
             responses=refusals(*OPERATOR_WRITE, *PROMO))
async def create_promo_code(body: PromoIn, operator: Operator, billing: BillingDep, settings: SettingsDep):
    """Operators: a promo code, a percentage or a fixed amount off, in a window, with limits of uses
    overall and per client, for some kinds or domains only."""
    rule = promo_rule(code=body.code, percent=body.percent, amount=body.amount, starts_at=body.starts_at,
                      ends_at=body.ends_at, max_uses=body.max_uses, max_uses_per_client=body.max_uses_per_client,
                      kinds=body.kinds, domains=body.domains, currency=settings.currency)
    return _promo_json(await billing.create_promo(operator, rule), 0)


@router.get("/promo-codes", response_model=PromosOut, responses=refusals(*OPERATOR))
async def list_promo_codes(operator: Operator, billing: BillingDep):
    return {"promo_codes": [_promo_json(row, used) for row, used in await billing.promo_codes()]}


@router.post("/promo-codes/{code}/active", dependencies=[CsrfHeader], response_model=PromoOut,
             responses=refusals(*OPERATOR_WRITE, "promo_unknown"))
async def set_promo_active(code: str, body: PromoActiveIn, operator: Operator, billing: BillingDep):
    return _promo_json(*await billing.set_promo_active(operator, code, body.active))


def _promo_json(row, used: int) -> dict:
    rule = promos.rule_of(row)
    return {"code": row.code, "value": rule.describe(), "active": row.active, "uses": used,
            "max_uses": row.max_uses, "max_uses_per_client": row.max_uses_per_client,
            "kinds": list(rule.kinds), "domains": list(rule.domains),
            "starts_at": row.starts_at.isoformat() if row.starts_at else None,
            "ends_at": row.ends_at.isoformat() if row.ends_at else None}


@router.get("/exports/{kind}.csv", response_class=Response,
            responses={**refusals(*OPERATOR, "export_unknown", "date_invalid", "range_invalid"),
                       200: {"content": {"text/csv": {}}, "description": "the CSV"}})
async def export_csv(kind: str, operator: Operator, billing: BillingDep,
                     start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                     end: Annotated[str | None, Query(alias="to", max_length=10)] = None):
    """Operators: invoices, payments, credit-notes or credit (the ledger) for a period, as CSV."""
    name, text = await billing.export_csv(kind, start, end, date.today())
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
