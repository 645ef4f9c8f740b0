"""An order's pages: the order (pay with PayPal, credit, cheque or wire; cancel), PayPal's return
and what became of the payment. Each action is one call into api.services.customer_orders."""
from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import BillingDep, CheckoutDep, FormClient, MaybeClient, PageClient, SessionsDep, SettingsDep
from api.params import Id
from api.routers.pages.common import back_with, render, said
from api.schemas.orders import ManualForm
from api.services import customer_orders, payments
from api.views import OrderView
from core.errors import BusinessError
from core.refusals import Refusals, refuse
from core.statuses import SETTLED_ORDER_STATUSES, InvoiceStatus, OrderRunStatus, OrderStatus
from store import credit
from workflows.contracts import PAYPAL_APPROVED, PayPalApproved

router = APIRouter(include_in_schema=False)
PAYPAL_BEGUN = "paypal_begun"   # session key: checkouts this browser began without signing in (renewal codes)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_page(request: Request, order_id: Id, client: PageClient, sessions: SessionsDep,
                     checkout: CheckoutDep, settings: SettingsDep):
    view = await customer_orders.own(sessions, checkout, client, order_id)
    return await _order_page(request, client, sessions, settings, view)


async def _order_page(request: Request, client, sessions, settings, view: OrderView, status: int = 200,
                      error: BusinessError | None = None) -> HTMLResponse:
    async with sessions() as session:
        balance = await credit.balance(session, client.id, view.currency)
    return render(request, "order.html", status=status, client=client, order=view, balance=balance, error=error,
                  done="" if error else said(request),
                  payee_name=settings.payee_name, payee_postal_address=settings.payee_postal_address,
                  bank_details=settings.bank_details, manual_methods=payments.offered_methods(settings))


async def _refused(request: Request, client, sessions, checkout, settings, order_id: int,
                   exc: BusinessError) -> HTMLResponse:
    """The order page again, saying why the action was refused (an order not the client's is not found)."""
    if exc.status == 404 or exc.status >= 500:
        raise exc
    view = await customer_orders.own(sessions, checkout, client, order_id)
    return await _order_page(request, client, sessions, settings, view, exc.status, exc)


@router.post("/orders/{order_id}/pay", response_class=HTMLResponse)
async def order_pay(request: Request, order_id: Id, client: FormClient, sessions: SessionsDep,
                    checkout: CheckoutDep, settings: SettingsDep):
    try:
        started = await customer_orders.pay_with_paypal(sessions, checkout, client, order_id)
    except BusinessError as exc:
        return await _refused(request, client, sessions, checkout, settings, order_id, exc)
    return RedirectResponse(started.approve_url, status_code=303)


@router.post("/orders/{order_id}/credit", response_class=HTMLResponse)
async def order_pay_with_credit(request: Request, order_id: Id, client: FormClient, sessions: SessionsDep,
                                checkout: CheckoutDep, settings: SettingsDep, billing_service: BillingDep):
    try:
        await customer_orders.pay_with_credit(billing_service, client, order_id)
    except BusinessError as exc:
        return await _refused(request, client, sessions, checkout, settings, order_id, exc)
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


@router.post("/orders/{order_id}/manual", response_class=HTMLResponse)
async def order_pay_manually(request: Request, order_id: Id, client: FormClient, sessions: SessionsDep,
                             checkout: CheckoutDep, settings: SettingsDep, form: Annotated[ManualForm, Form()]):
    try:
        await customer_orders.pay_manually(sessions, checkout, settings, client, order_id, form.method)
    except BusinessError as exc:
        return await _refused(request, client, sessions, checkout, settings, order_id, exc)
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


@router.post("/orders/{order_id}/cancel", response_class=HTMLResponse)
async def order_cancel(request: Request, order_id: Id, client: FormClient, sessions: SessionsDep,
                       checkout: CheckoutDep, settings: SettingsDep):
    try:
        await customer_orders.cancel(sessions, checkout, client, order_id)
    except BusinessError as exc:
        return await _refused(request, client, sessions, checkout, settings, order_id, exc)
    return back_with(request, f"/orders/{order_id}", f"Order {order_id} is being cancelled: nothing more is due on "
                     "it, and its addresses are released in a moment.")


@router.get("/paypal/return")
async def paypal_return(request: Request, checkout: CheckoutDep, billing_service: BillingDep, client: MaybeClient,
                        token: str = ""):
    """Where PayPal sends the payer back. A hint, never proof: the approval goes to the workflow (which
    asks PayPal before capturing) only for the signed-in owner of the order or invoice, or for the
    browser that began the checkout with a renewal code. Anyone else learns nothing: a visitor is asked
    to sign in and come back, a signed-in stranger sees the page an unknown token gets."""
    token = token[:64]
    order = await checkout.order_for_paypal(token) if token else None
    invoice = await billing_service.invoice_for_paypal(token) if token and order is None else None
    owner = order.client_id if order else invoice.client_id if invoice else None
    if owner is not None and client is not None and client.id == owner:
        if order is not None:
            await checkout.relay_approval(order, token)
            return RedirectResponse(f"/orders/{order.id}/payment", status_code=303)
        await billing_service.relay_paypal_hint(token, PAYPAL_APPROVED, PayPalApproved(token))
        return RedirectResponse("/invoices", status_code=303)
    if order is not None and client is None and token in request.state.session.get(PAYPAL_BEGUN, []):
        await checkout.relay_approval(order, token)
        return render(request, "payment_received.html", state="confirming", order=None)
    if client is None:
        back = f"/paypal/return?{urlencode({'token': token})}"
        return render(request, "payment_received.html", state="sign_in",
                      sign_in=f"/login?{urlencode({'next': back})}", order=None)
    raise refuse(Refusals.PAYPAL_UNKNOWN)


@router.get("/orders/{order_id}/payment", response_class=HTMLResponse)
async def order_payment(request: Request, order_id: Id, client: PageClient, sessions: SessionsDep,
                        checkout: CheckoutDep):
    """After PayPal: what is true of the payment now (received only once it is captured)."""
    view = await customer_orders.own(sessions, checkout, client, order_id)
    if view.status in SETTLED_ORDER_STATUSES or view.invoice_status == InvoiceStatus.PAID:
        state = "received"
    elif view.status == OrderStatus.CANCELLED or view.payment_status in (
            OrderRunStatus.DECLINED, OrderRunStatus.PAYMENT_PENDING, OrderRunStatus.ATTENTION):
        state = view.payment_status if view.status != OrderStatus.CANCELLED else "cancelled"
    else:
        state = "confirming"
    return render(request, "payment_received.html", client=client, state=state, order=view)
