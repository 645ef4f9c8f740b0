"""A client's own orders, one function per action for the order page and the JSON API alike:
place, look, pay (PayPal, cheque or wire, credit) and cancel. Each action on an existing order
first checks that it is the client's, and paying or cancelling that it still waits for its money."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.services.billing import Billing
from api.services.checkout import Checkout
from api.services.ordering import WantedAddress
from api.services.payments import customer_method
from api.views import OrderView, order_view
from core.refusals import Refusals, refuse
from core.statuses import OrderStatus
from settings import Settings
from store.models import Client, Order
from workflows.contracts import ManualInstructions, OrderState, PayPalCheckout

Sessions = async_sessionmaker[AsyncSession]


async def place(checkout: Checkout, client: Client, wanted: list[WantedAddress], promo_code: str | None) -> Order:
    return await checkout.place_order(client, wanted, promo_code or "")


async def own(sessions: Sessions, checkout: Checkout, client: Client, order_id: int) -> OrderView:
    """The client's own order as the page and the API show it (404 for anyone else's)."""
    async with sessions() as session:
        return await order_view(session, checkout, order_id, client.id)


async def payable(sessions: Sessions, checkout: Checkout, client: Client, order_id: int) -> OrderView:
    """The client's own order, still waiting for its money (not paid, cancelled, or on account)."""
    view = await own(sessions, checkout, client, order_id)
    if view.status != OrderStatus.PENDING_PAYMENT:
        raise refuse(Refusals.ORDER_NOT_PAYABLE, order_id=order_id, state=view.status)
    return view


async def pay_with_paypal(sessions: Sessions, checkout: Checkout, client: Client, order_id: int) -> PayPalCheckout:
    """Creates (once) the PayPal order for what is due; the buyer is sent to its `approve_url`."""
    await payable(sessions, checkout, client, order_id)
    return await checkout.begin_paypal(order_id)


async def pay_manually(sessions: Sessions, checkout: Checkout, settings: Settings, client: Client, order_id: int,
                       method: str) -> ManualInstructions:
    """Cheque or wire (one the operator offers): the addresses stay held until an operator records it."""
    await payable(sessions, checkout, client, order_id)
    return await checkout.choose_manual(order_id, customer_method(method, settings))


async def pay_with_credit(billing: Billing, client: Client, order_id: int) -> OrderState:
    """All that is due from the credit balance, or as much as it holds (the rest stays due)."""
    return await billing.pay_with_credit(client, order_id)


async def cancel(sessions: Sessions, checkout: Checkout, client: Client, order_id: int) -> None:
    """Cancel an unpaid order (its addresses are released); anything else is refused with the reason."""
    view = await own(sessions, checkout, client, order_id)
    if view.status != OrderStatus.PENDING_PAYMENT:
        raise refuse(Refusals.ORDER_NOT_CANCELLABLE, order_id=order_id, state=view.status)
    await checkout.cancel(order_id, f"client:{client.id}")
