"""The client's Invoices page: every invoice with what is paid and due, the credit balance and its
entries; chased invoices (an operator's own, a postpaid order's) are paid here."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import BillingDep, FormClient, PageClient, SessionsDep, SettingsDep
from api.routers.pages.common import back_with, render, said
from api.schemas.account import SwitchForm
from api.services import payments
from core.errors import BusinessError
from core.refusals import Refusals, refuse
from core.money import Money
from store import billing, credit

router = APIRouter(include_in_schema=False)


@router.get("/invoices", response_class=HTMLResponse)
async def invoices_page(request: Request, client: PageClient, sessions: SessionsDep, settings: SettingsDep,
                        billing_service: BillingDep):
    return await _invoices_page(request, client, sessions, settings, billing_service)


async def _invoices_page(request: Request, client, sessions, settings, billing_service, error=None,
                         status: int = 200) -> HTMLResponse:
    async with sessions() as session:
        rows = await billing.statement(session, client.id)
        balance = await credit.balance(session, client.id, settings.currency)
        entries = await credit.entries(session, client.id, limit=50)
    # unpaid invoices paid here (an operator's own, a postpaid order's) rather than on an order's page
    chased = await billing_service.chased_invoices([i for i, _, due, _ in rows if due])
    return render(request, "invoices.html", status=status, client=client, invoices=rows, money=Money,
                  balance=balance, entries=entries, chased=chased, error=error, done="" if error else said(request),
                  payee_name=settings.payee_name,
                  payee_postal_address=settings.payee_postal_address, bank_details=settings.bank_details,
                  manual_methods=payments.offered_methods(settings))


@router.post("/invoices/{number}/{how}", response_class=HTMLResponse)
async def invoice_pay(request: Request, number: str, how: str, client: FormClient, sessions: SessionsDep,
                      settings: SettingsDep, billing_service: BillingDep):
    """Pay one of your chased invoices: `paypal` (off to PayPal's approval page) or `credit`."""
    try:
        if how == "paypal":
            checkout = await billing_service.begin_invoice_paypal(client, number)
            return RedirectResponse(checkout.approve_url, status_code=303)
        if how != "credit":
            raise refuse(Refusals.METHOD_INVALID, "how", message="Pay with PayPal or from your credit balance.",
                         status=404)
        state = await billing_service.pay_invoice_with_credit(client, number)
    except BusinessError as exc:
        return await _invoices_page(request, client, sessions, settings, billing_service, error=exc,
                                    status=exc.status)
    left = Money(state.due_minor, settings.currency)
    return back_with(request, "/invoices", f"Invoice {state.number}: paid from your credit." if state.due_minor <= 0
                     else f"Invoice {state.number}: your credit paid part of it; {left.display()} is still due.")


@router.post("/invoices/apply-credit")
async def invoices_apply_credit(client: FormClient, billing_service: BillingDep, form: Annotated[SwitchForm, Form()]):
    await billing_service.set_apply_credit(client, form.enabled == "on")
    return RedirectResponse("/invoices", status_code=303)
