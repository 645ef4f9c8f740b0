"""/api/v1/orders: place an order, read it, pay it (PayPal, cheque or wire, credit) or cancel it;
each one call into api.services.customer_orders, as the order page makes it."""
from __future__ import annotations

from fastapi import APIRouter

from api.deps import BillingDep, CheckoutDep, CsrfHeader, SessionsDep, SettingsDep, SignedIn
from api.params import Id
from api.schemas.common import SIGNED_IN, WRITE, refusals
from api.schemas.orders import CancellingOut, CreditPaymentOut, ManualIn, OrderIn, PayPalOut
from api.services import customer_orders, payments
from api.services.ordering import WantedAddress
from api.services.payments import HowToPay
from api.views import OrderView
from core.money import Money

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
PAYING = (*WRITE, "order_not_found", "order_not_payable")


@router.post("", status_code=201, dependencies=[CsrfHeader], response_model=OrderView,
             responses=refusals(*WRITE, "order_empty", "order_too_large", "address_invalid", "address_repeated",
                                "address_taken", "kind_invalid", "term_not_allowed", "destination_invalid",
                                "password_too_short", "promo_unknown", "promo_not_applicable",
                                "service_unavailable"))
async def create_order(body: OrderIn, client: SignedIn, checkout: CheckoutDep, sessions: SessionsDep):
    wanted = [WantedAddress(l.local_part, l.domain, l.kind, l.years, l.destination, l.password) for l in body.lines]
    order = await customer_orders.place(checkout, client, wanted, body.promo_code)
    return await customer_orders.own(sessions, checkout, client, order.id)


@router.get("/{order_id}", response_model=OrderView, responses=refusals(*SIGNED_IN, "order_not_found"))
async def get_order(order_id: Id, client: SignedIn, checkout: CheckoutDep, sessions: SessionsDep):
    return await customer_orders.own(sessions, checkout, client, order_id)


@router.post("/{order_id}/paypal", dependencies=[CsrfHeader], response_model=PayPalOut,
             responses=refusals(*PAYING, "payment_unavailable"))
async def pay_with_paypal(order_id: Id, client: SignedIn, checkout: CheckoutDep, sessions: SessionsDep):
    """Creates (once) the PayPal order; send the buyer to `approve_url`."""
    started = await customer_orders.pay_with_paypal(sessions, checkout, client, order_id)
    return {"paypal_order_id": started.paypal_order_id, "approve_url": started.approve_url}


@router.post("/{order_id}/manual", dependencies=[CsrfHeader], response_model=HowToPay,
             responses=refusals(*PAYING, "method_invalid", "method_unavailable"))
async def pay_manually(order_id: Id, body: ManualIn, client: SignedIn, checkout: CheckoutDep,
                       sessions: SessionsDep, settings: SettingsDep):
    """Pay by cheque or wire: the addresses stay held (14 days by default) until an operator records it."""
    instructions = await customer_orders.pay_manually(sessions, checkout, settings, client, order_id, body.method)
    return payments.how_to_pay(settings, instructions)


@router.post("/{order_id}/cancel", status_code=202, dependencies=[CsrfHeader], response_model=CancellingOut,
             responses=refusals(*WRITE, "order_not_found", "order_not_cancellable"))
async def cancel_order(order_id: Id, client: SignedIn, checkout: CheckoutDep, sessions: SessionsDep):
    """Cancel an unpaid order: its addresses are released at once."""
    await customer_orders.cancel(sessions, checkout, client, order_id)
    return {"status": "cancelling"}


@router.post("/{order_id}/credit", dependencies=[CsrfHeader], response_model=CreditPaymentOut,
             responses=refusals(*PAYING, "balance_insufficient"))
async def pay_order_with_credit(order_id: Id, client: SignedIn, billing: BillingDep):
    """Pay the order from your credit balance: all that is due, or as much as the balance holds (the
    rest stays due, to pay another way)."""
    state = await customer_orders.pay_with_credit(billing, client, order_id)
    return {"order_id": order_id, "status": state.status, "message": state.message,
            "due": Money(state.due_minor or 0).amount() if state.due_minor is not None else None}
