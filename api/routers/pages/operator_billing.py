"""Operators' Billing page: invoices (new, drafts, payments, credit notes, refunds), arrears,
credit adjustments, promo codes and how each client is billed. Every form is one service call."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import BillingDep, FormOperator, PageOperator, SessionsDep, SettingsDep
from api.params import Id
from api.routers.pages.common import back_with, render, said
from api.schemas.billing import ActionForm, BillingModeForm, CreditForm, InvoiceActionForm
from api.services import invoice_lines, promo_input
from api.services.accounts import client_by_email
from api.services.billing import INVOICE_STATUSES, BulkRow
from core.billing import BILLING_MODES
from core.errors import BusinessError
from core.refusals import Refusals, refuse
from core.money import Money
from core.statuses import RefundStatus
from store import promos

router = APIRouter(include_in_schema=False)
ROWS = 5   # lines on the new-invoice form


async def _billing_page(request: Request, client, billing_service, settings, status_filter: str = "", error=None,
                        done: str = "", status: int = 200, form: dict | None = None) -> HTMLResponse:
    rows = await billing_service.invoices(status_filter if status_filter in INVOICE_STATUSES else "")
    codes = [(row, used, promos.rule_of(row).describe()) for row, used in await billing_service.promo_codes()]
    refunds = await billing_service.refunds_by_invoice([invoice.id for invoice, _, _ in rows])
    return render(request, "operator_billing.html", status=status, client=client, rows=rows, money=Money,
                  refunds=refunds,
                  behind=await billing_service.arrears(), statuses=INVOICE_STATUSES, status_filter=status_filter,
                  error=error, done=done, today=date.today().isoformat(), form=form or {},
                  modes=BILLING_MODES, currency=settings.currency, codes=codes,
                  # a refund form sent twice (a double click, a reload) is the same refund
                  refund_key=f"page:{uuid.uuid4().hex}")


def _billing_done(request: Request, message: str) -> RedirectResponse:
    return back_with(request, "/operator/billing", message)


@router.get("/operator/billing", response_class=HTMLResponse)
async def operator_billing(request: Request, client: PageOperator, billing_service: BillingDep,
                           settings: SettingsDep, status: str = ""):
    return await _billing_page(request, client, billing_service, settings, status[:12], done=said(request))


@router.get("/operator/billing/export")
async def operator_export(request: Request, client: PageOperator, billing_service: BillingDep, settings: SettingsDep,
                          kind: str = "invoices", start: Annotated[str, Query(alias="from", max_length=10)] = "",
                          end: Annotated[str, Query(alias="to", max_length=10)] = ""):
    """The export form's answer: the CSV (the service the API's export calls), or the page saying why not."""
    try:
        name, text = await billing_service.export_csv(kind[:20], start or None, end or None, date.today())
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/operator/billing/invoices", response_class=HTMLResponse)
async def operator_new_invoice(request: Request, client: FormOperator, sessions: SessionsDep,
                               billing_service: BillingDep, settings: SettingsDep):
    """An invoice of the operator's own from the page's form: up to five lines, each with an optional
    service period; empty lines are skipped."""
    fields = {k: str(v)[:400] for k, v in (await request.form()).items()}
    draft = fields.get("action") == "draft"
    try:
        customer = await client_by_email(sessions, fields.get("client_email", ""))
        rows = [i for i in range(ROWS) if fields.get(f"description_{i}", "").strip()
                or fields.get(f"unit_price_{i}", "").strip()]
        entries = [invoice_lines.LineEntry(
            fields.get(f"description_{i}", ""), fields.get(f"quantity_{i}", ""),
            fields.get(f"unit_price_{i}", "").strip(), fields.get(f"discount_{i}", "").strip() or None,
            fields.get(f"period_start_{i}", ""), fields.get(f"period_end_{i}", "")) for i in rows]
        items = invoice_lines.items(entries, settings.currency, lambda n, name: invoice_lines.form_field(rows[n], name))
        invoice = await billing_service.create_invoice(client, customer.id, items, fields.get("due_on") or None,
                                                       date.today(), draft=draft)
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status,
                                   form=fields)
    return _billing_done(request, f"Draft {invoice.number} saved." if draft
                         else f"Invoice {invoice.number} issued and emailed.")


@router.post("/operator/billing/drafts/{invoice_id}", response_class=HTMLResponse)
async def operator_draft_action(request: Request, invoice_id: Id, client: FormOperator, billing_service: BillingDep,
                                settings: SettingsDep, form: Annotated[ActionForm, Form()]):
    try:
        if form.action == "issue":
            done = f"Invoice {(await billing_service.issue_draft(client, invoice_id)).number} issued and emailed."
        elif form.action == "delete":
            done = f"Draft {await billing_service.delete_draft(client, invoice_id)} deleted."
        else:
            raise refuse(Refusals.ACTION_INVALID, "action")
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status)
    return _billing_done(request, done)


@router.post("/operator/billing/invoices/{number}", response_class=HTMLResponse)
async def operator_invoice_action(request: Request, number: str, client: FormOperator, billing_service: BillingDep,
                                  settings: SettingsDep, form: Annotated[InvoiceActionForm, Form()]):
    """Record a cheque or wire against an invoice (any: its order's or its own workflow decides),
    cancel it with a credit note, or refund (part of) its PayPal payment."""
    try:
        if form.action == "pay":
            entry = BulkRow(number, form.method, form.amount, form.reference, form.received_on)
            [row] = await billing_service.record_bulk(client, [entry], date.today())
            if not row["recorded"]:
                raise BusinessError(row["code"], row["message"], row["field"], 409)
            done = f"Payment {form.reference.strip()} recorded on invoice {number}; {row['outstanding']} still due."
        elif form.action == "cancel":
            result = await billing_service.cancel_invoice(client, number, form.reason)
            done = f"Invoice {number}: {result['status']}."
        elif form.action == "refund":
            key = f"{form.key}:{number}" if form.key else None
            result = await billing_service.refund(client, number, form.amount, form.reason, key)
            done = (f"Invoice {number}: refund of {form.amount.strip()} requested; its progress shows beside the "
                    f"invoice." if result["status"] == RefundStatus.REQUESTED else
                    f"Invoice {number}: refund of {form.amount.strip()} {result['status']}.")
        else:
            raise refuse(Refusals.ACTION_INVALID, "action", message="Record a payment, refund or cancel the invoice.")
    except BusinessError as exc:
        if not exc.message.startswith(f"Invoice {number[:32]}"):   # the sentence may name it already
            exc.message = f"Invoice {number[:32]}: {exc.message}"
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status)
    return _billing_done(request, done)


@router.post("/operator/billing/credit", response_class=HTMLResponse)
async def operator_adjust_credit(request: Request, client: FormOperator, sessions: SessionsDep,
                                 billing_service: BillingDep, settings: SettingsDep,
                                 form: Annotated[CreditForm, Form()]):
    try:
        customer = await client_by_email(sessions, form.client_email)
        _, _, balance = await billing_service.adjust_credit(client, customer.id, form.amount, form.reason)
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status)
    return _billing_done(request, f"{customer.email}'s credit balance is now {balance.display()}.")


@router.post("/operator/billing/promo-codes", response_class=HTMLResponse)
async def operator_new_promo(request: Request, client: FormOperator, billing_service: BillingDep,
                             settings: SettingsDep):
    form = await request.form()   # read whole: what was typed goes back into the form when refused
    try:
        rule = promo_input.rule_from_form(form, [str(k) for k in form.getlist("kinds")], settings.currency)
        row = await billing_service.create_promo(client, rule)
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status,
                                   form={k: str(v)[:400] for k, v in form.items()})
    return _billing_done(request, f"Promo code {row.code} created.")


@router.post("/operator/billing/promo-codes/{code}", response_class=HTMLResponse)
async def operator_promo_active(request: Request, code: str, client: FormOperator, billing_service: BillingDep,
                                settings: SettingsDep, form: Annotated[ActionForm, Form()]):
    try:
        row, _ = await billing_service.set_promo_active(client, code, form.action == "reinstate")
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status)
    return _billing_done(request, f"Promo code {row.code} {'offered again' if row.active else 'withdrawn'}.")


@router.post("/operator/billing/clients", response_class=HTMLResponse)
async def operator_client_billing(request: Request, client: FormOperator, sessions: SessionsDep,
                                  billing_service: BillingDep, settings: SettingsDep,
                                  form: Annotated[BillingModeForm, Form()]):
    try:
        customer = await client_by_email(sessions, form.client_email)
        changed = await billing_service.set_billing_mode(client, customer.id, form.mode)
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status)
    return _billing_done(request, f"{changed.email} is billed {changed.billing_mode} from now on.")
