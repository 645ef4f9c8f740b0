"""Read models the JSON API and the pages share: an order with its invoice and live status,
a client's addresses, the catalog, and availability of one name across domains."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api.services.checkout import Checkout
from core.refusals import Refusals, refuse
from core.money import Money
from core.statuses import MANUAL_METHODS, SETTLED_ORDER_STATUSES, InvoiceStatus, OrderStatus, SubscriptionStatus
from api.services.availability import check_grid
from store import billing, orders


@dataclass
class OrderLineView:
    address: str
    kind: str
    years: int
    amount: str
    destination: str
    status: str
    term_end: str | None


@dataclass
class OrderView:
    id: int
    status: str
    payment_status: str
    message: str
    total: str
    currency: str
    invoice_number: str
    invoice_status: str
    lines: list[OrderLineView]
    method: str = ""                 # paypal | cheque | wire once chosen
    deadline: str | None = None      # ISO time: unpaid by then, cancelled
    kind: str = "new"                # new | renewal (of addresses already running)
    due: str = ""                    # what is still to pay on the invoice (after partial payments, credit)
    paid: str = ""                   # what payments have put towards it so far
    invoice_due_on: str = ""         # a postpaid invoice's due date
    issued: bool = True              # the invoice is issued with credit applied: `due` is what to pay

    @property
    def final(self) -> bool:
        """Nothing more will change without the customer: the page stops refreshing."""
        if self.status == OrderStatus.CANCELLED or (self.status == OrderStatus.PENDING_PAYMENT
                                                    and self.method in MANUAL_METHODS):
            return True
        # settled: paid, or on account (postpaid: invoiced; exempt); and every address started
        return self.status in SETTLED_ORDER_STATUSES and all(
            l.status not in (SubscriptionStatus.PENDING_PAYMENT, SubscriptionStatus.PROVISIONING) for l in self.lines)

    def as_dict(self) -> dict:
        return asdict(self)


async def order_view(session: AsyncSession, checkout: Checkout, order_id: int, client_id: int) -> OrderView:
    order = await orders.order_with_lines(session, order_id)
    if order is None or order.client_id != client_id:
        raise refuse(Refusals.ORDER_NOT_FOUND, "order_id")
    invoice = await orders.invoice_for_order(session, order_id)
    live = await checkout.order_state(order_id) if order.status == OrderStatus.PENDING_PAYMENT else None
    payment_status = live.status if live else order.status
    currency = order.currency
    paid = await billing.paid_on(session, invoice.id) if invoice else 0
    due = max(0, invoice.total_minor - paid) if invoice and invoice.status == InvoiceStatus.UNPAID else 0
    return OrderView(
        due=Money(due, currency).display(), paid=Money(paid, currency).display(),
        id=order.id, kind=order.kind, status=order.status, payment_status=payment_status,
        message=live.message if live else "",
        # no live answer for an order still waiting: what is due cannot be confirmed, so nothing is offered
        issued=live.issued if live else order.status != OrderStatus.PENDING_PAYMENT,
        method=live.method if live else "",
        deadline=live.deadline.isoformat(timespec="minutes") if live and live.deadline else None,
        total=Money(order.total_minor, currency).display(), currency=currency,
        invoice_number=invoice.number if invoice else "", invoice_status=invoice.status if invoice else "",
        invoice_due_on=invoice.due_at.date().isoformat() if invoice else "",
        lines=[OrderLineView(line.subscription.address, line.kind, line.years,
                             Money(line.amount_minor, currency).display(), line.subscription.destination,
                             line.subscription.status,
                             line.subscription.term_end.isoformat() if line.subscription.term_end else None)
               for line in order.lines])


async def addresses_view(session: AsyncSession, client_id: int) -> list[dict]:
    return [{"address": s.address, "kind": s.kind, "status": s.status, "destination": s.destination,
             "term_start": s.term_start.isoformat() if s.term_start else None,
             "term_end": s.term_end.isoformat() if s.term_end else None, "order_id": s.order_id,
             "cancel_at_term_end": s.cancel_at_term_end,
             "grace_until": s.grace_until.isoformat() if s.grace_until else None}
            for s in await orders.subscriptions_of(session, client_id)]


async def grid_view(session: AsyncSession, settings, names: list[str], domains: list[str], *,
                    operator: bool = False, initial: str = "", portfolio=None) -> dict:
    cells = await check_grid(session, names, domains, max_names=settings.grid_max_names,
                             max_domains=settings.grid_max_domains, initial=initial, portfolio=portfolio)
    return {"cells": [c.public(operator) for c in cells]}


def surname_initial(client) -> str:
    """The first letter of the client's last name, for variants such as `mike.g`."""
    parts = (client.name if client else "").split()
    return parts[-1][:1] if len(parts) > 1 else ""
