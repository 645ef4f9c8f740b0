"""Orders, their invoices and payments, and the address subscriptions they create.

Placing an order reserves every address in the same transaction that writes the order and its
invoice: the partial unique index on live addresses turns a race into one winner and a refusal.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.billing import Line
from core.money import Money
from core.refusals import Refusals, refuse
from core.statuses import OPENING_ORDER_STATUS, BillingMode, InvoiceStatus, OrderStatus, SubscriptionStatus
from store import audit, billing, secrets
from store.invoicing import InvoiceTerms, Item, write_lines
from store.models import (
    Client,
    Domain,
    Invoice,
    InvoiceSequence,
    Order,
    OrderLine,
    Payment,
    Subscription,
)


@dataclass(frozen=True)
class LineSpec:
    local_part: str
    domain: Domain
    kind: str
    years: int
    destination: str
    unit_price: Money          # per year
    discount: Money | None = None   # a promo code's share of this line
    promo_code: str = ""

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain.name}"


async def next_invoice_number(session: AsyncSession, year: int, fmt: str = "{year}-{seq:06d}") -> str:
    return await billing.next_number(session, InvoiceSequence, year, fmt)


OPENING_STATUS = OPENING_ORDER_STATUS   # by billing mode (core.statuses)


async def place_order(session: AsyncSession, client: Client, lines: list[LineSpec], *, now: datetime,
                      due_at: datetime, workflow_id_for, terms: InvoiceTerms = InvoiceTerms(),
                      billing_mode: str = BillingMode.PREPAID) -> tuple[Order, Invoice | None, list[Subscription]]:
    """Write order, invoice (none when the client is exempt) and pending subscriptions; refuse (and
    write nothing) if any address is already held. The caller commits."""
    if not lines:
        raise refuse(Refusals.ORDER_EMPTY, "lines")
    currency = lines[0].unit_price.currency
    order = Order(client_id=client.id, status=OPENING_STATUS[billing_mode], billing=billing_mode, currency=currency,
                  total_minor=0)
    session.add(order)
    await session.flush()
    try:
        async with session.begin_nested():
            subs = []
            for spec in lines:
                sub = Subscription(address=spec.address, local_part=spec.local_part, domain_id=spec.domain.id,
                                   kind=spec.kind, client_id=client.id, order_id=order.id, term_years=spec.years,
                                   status=SubscriptionStatus.PENDING_PAYMENT, destination=spec.destination,
                                   workflow_id=workflow_id_for(spec.address))
                session.add(sub)
                subs.append(sub)
            await session.flush()
    except IntegrityError:
        raise refuse(Refusals.ADDRESS_TAKEN, "address") from None

    items = []
    for spec, sub in zip(lines, subs):
        description = f"Email {spec.kind} {spec.address}, {spec.years} year{'s' if spec.years > 1 else ''}"
        if spec.discount and spec.discount.minor:
            description += f" (promo code {spec.promo_code})"
        items.append(Item(Line(description, spec.years, spec.unit_price, spec.discount, tax_bp=terms.tax_bp),
                          period_years=spec.years))
    invoice, totals = await invoice_order(session, order, items, now=now, due_at=due_at, terms=terms)
    for spec, sub, item, line_total in zip(lines, subs, items, totals):
        session.add(OrderLine(order_id=order.id, subscription_id=sub.id, description=item.line.description,
                              kind=spec.kind, years=spec.years, unit_minor=spec.unit_price.minor,
                              amount_minor=line_total.minor))
    audit.record(session, f"client:{client.id}", "order.placed", "order", order.id,
                 after={"addresses": [s.address for s in lines], "total": Money(order.total_minor, currency).amount(),
                        "invoice": invoice.number if invoice else None, "billing": billing_mode})
    return order, invoice, subs


async def invoice_order(session: AsyncSession, order: Order, items: list[Item], *, now: datetime, due_at: datetime,
                        terms: InvoiceTerms) -> tuple[Invoice | None, list[Money]]:
    """The order's invoice with these lines, numbered now, and each line's total; an exempt order gets
    no invoice (and no number), only its lines' worth as the order's total."""
    if order.billing == BillingMode.EXEMPT:
        totals = [item.line.totals().total for item in items]
        order.total_minor = sum(t.minor for t in totals)
        return None, totals
    invoice = Invoice(number=await next_invoice_number(session, now.year, terms.number_format),
                      client_id=order.client_id, order_id=order.id, status=InvoiceStatus.UNPAID,
                      currency=order.currency, total_minor=0, issued_at=now, due_at=due_at)
    session.add(invoice)
    await session.flush()
    totals = await write_lines(session, invoice, items)
    order.total_minor = invoice.total_minor
    return invoice, totals


async def order_with_lines(session: AsyncSession, order_id: int) -> Order | None:
    return (await session.execute(
        select(Order).where(Order.id == order_id)
        .options(selectinload(Order.lines).selectinload(OrderLine.subscription)))).scalar_one_or_none()


async def invoice_for_order(session: AsyncSession, order_id: int) -> Invoice | None:
    return (await session.execute(
        select(Invoice).where(Invoice.order_id == order_id).options(selectinload(Invoice.lines)))).scalar_one_or_none()


async def invoice_by_number(session: AsyncSession, number: str) -> Invoice | None:
    return (await session.execute(select(Invoice).where(Invoice.number == number))).scalar_one_or_none()


async def order_by_paypal_id(session: AsyncSession, paypal_order_id: str) -> Order | None:
    return (await session.execute(select(Order).where(Order.paypal_order_id == paypal_order_id))).scalar_one_or_none()


async def paying_by_paypal_id(session: AsyncSession, paypal_order_id: str) -> tuple[Order | None, Invoice | None]:
    """What a PayPal order pays: an order (its checkout is recorded on the order) or an invoice paid
    on its own (recorded on the invoice); (None, None) when it is none of ours."""
    order = await order_by_paypal_id(session, paypal_order_id)
    return (order, None) if order is not None else (None, await invoice_by_paypal_id(session, paypal_order_id))


async def invoice_by_paypal_id(session: AsyncSession, paypal_order_id: str) -> Invoice | None:
    return (await session.execute(select(Invoice).where(Invoice.paypal_order_id == paypal_order_id))
            ).scalar_one_or_none()


async def record_invoice_paypal_order(session: AsyncSession, invoice_id: int, paypal_order_id: str) -> None:
    invoice = await session.get(Invoice, invoice_id)
    if invoice is None:
        raise LookupError(f"invoice {invoice_id} does not exist")
    if invoice.paypal_order_id != paypal_order_id:
        audit.record(session, "system", "invoice.paypal_created", "invoice", invoice.number,
                     {"paypal_order_id": invoice.paypal_order_id}, {"paypal_order_id": paypal_order_id})
        invoice.paypal_order_id = paypal_order_id


async def pending_order_for(session: AsyncSession, client_id: int, address: str) -> Order | None:
    """The client's own unpaid order holding this address, so a double submit returns it."""
    return (await session.execute(
        select(Order).join(Subscription, Subscription.order_id == Order.id)
        .where(Subscription.address == address, Subscription.client_id == client_id,
               Subscription.status == SubscriptionStatus.PENDING_PAYMENT,
               Order.status == OrderStatus.PENDING_PAYMENT))).scalars().first()


async def awaiting_payment(session: AsyncSession, limit: int = 500) -> list[tuple[Order, Invoice, Client]]:
    """Orders still waiting for their money, oldest first, for the operator's payments page."""
    rows = (await session.execute(
        select(Order, Invoice, Client).join(Invoice, Invoice.order_id == Order.id).join(Client, Client.id == Order.client_id)
        .where(Order.status == OrderStatus.PENDING_PAYMENT).order_by(Order.id).limit(limit))).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def record_paypal_order(session: AsyncSession, order_id: int, paypal_order_id: str) -> None:
    order = await session.get(Order, order_id)
    if order is None:
        raise LookupError(f"order {order_id} does not exist")
    if order.paypal_order_id != paypal_order_id:
        before = {"paypal_order_id": order.paypal_order_id}
        order.paypal_order_id = paypal_order_id
        audit.record(session, "system", "order.paypal_created", "order", order_id, before,
                     {"paypal_order_id": paypal_order_id})


async def record_payment(session: AsyncSession, *, order_id: int, method: str, amount: Money, reference: str,
                         received_at: datetime, actor: str = "system") -> billing.PaymentOutcome:
    """Apply a payment to the order's invoice once (see store.billing.apply_payment)."""
    invoice = await invoice_for_order(session, order_id)
    if invoice is None:
        raise LookupError(f"order {order_id} has no invoice")
    return await billing.apply_payment(session, invoice_id=invoice.id, method=method, amount=amount,
                                       reference=reference, received_at=received_at, actor=actor)


CANCEL_REASONS = {
    "payment_deadline_passed": "not paid by the deadline",
}


async def cancel_order(session: AsyncSession, order_id: int, reason: str, actor: str = "system",
                       now: datetime | None = None, unstarted: bool = False) -> None:
    """Cancel an unpaid order: its invoice gets a credit note (anything paid on it becomes credit).
    `unstarted`: its workflow never started, so an order on account (invoiced, exempt) is cancelled
    as placed too."""
    order = await order_with_lines(session, order_id)
    if order is None or order.status == OrderStatus.CANCELLED:
        return
    opening = unstarted and order.status == OPENING_STATUS[order.billing]
    if order.status != OrderStatus.PENDING_PAYMENT and not opening:
        raise refuse(Refusals.ORDER_NOT_CANCELLABLE, order_id=order_id, state=order.status)
    order.status = OrderStatus.CANCELLED
    invoice = await invoice_for_order(session, order_id)
    if invoice is not None and invoice.status == InvoiceStatus.UNPAID:
        await billing.cancel_invoice(session, invoice_id=invoice.id, actor=actor, now=now or datetime.now(timezone.utc),
                                     reason=f"Order {order_id}: {CANCEL_REASONS.get(reason, reason.replace('_', ' '))}")
    for line in order.lines:
        if line.subscription.status == SubscriptionStatus.PENDING_PAYMENT:
            line.subscription.status, line.subscription.status_reason = SubscriptionStatus.CANCELLED, reason
    await secrets.forget(session, [line.subscription_id for line in order.lines])
    audit.record(session, actor, "order.cancelled", "order", order_id, {"status": OrderStatus.PENDING_PAYMENT},
                 {"status": OrderStatus.CANCELLED, "reason": reason})


async def activate_subscription(session: AsyncSession, subscription_id: int, start: date, end: date,
                                renewed: bool = False, years: int | None = None) -> None:
    sub = await session.get(Subscription, subscription_id)
    if sub is None:
        raise LookupError(f"subscription {subscription_id} does not exist")
    if sub.status == SubscriptionStatus.ACTIVE and sub.term_start == start and sub.term_end == end:
        return
    before = {"status": sub.status, "term_start": sub.term_start, "term_end": sub.term_end}
    sub.status, sub.status_reason, sub.term_start, sub.term_end = SubscriptionStatus.ACTIVE, "", start, end
    if renewed:   # a new term: the client's cancellation (if any) was overtaken by paying again
        sub.cancel_at_term_end, sub.grace_until, sub.quarantine_until = False, None, None
        if years:
            sub.term_years = years
    audit.record(session, "system", "subscription.renewed" if renewed else "subscription.activated",
                 "subscription", sub.address, before,
                 {"status": SubscriptionStatus.ACTIVE, "term_start": start, "term_end": end})


async def set_subscription_status(session: AsyncSession, subscription_id: int, status: str, reason: str,
                                  actor: str = "system", until: date | None = None) -> None:
    sub = await session.get(Subscription, subscription_id)
    if sub is None:
        raise LookupError(f"subscription {subscription_id} does not exist")
    if sub.status == status and sub.status_reason == reason:
        return
    before = {"status": sub.status, "reason": sub.status_reason}
    sub.status, sub.status_reason = status, reason
    if status == SubscriptionStatus.EXPIRED:
        sub.grace_until = until
    elif status == SubscriptionStatus.QUARANTINED:
        sub.quarantine_until = until
    audit.record(session, actor, "subscription.status", "subscription", sub.address, before,
                 {"status": status, "reason": reason, **({"until": until} if until else {})})


async def mark_cancel_at_term_end(session: AsyncSession, subscription_id: int, actor: str, reason: str) -> None:
    sub = await session.get(Subscription, subscription_id)
    if sub is None:
        raise LookupError(f"subscription {subscription_id} does not exist")
    if sub.cancel_at_term_end:
        return
    sub.cancel_at_term_end = True
    audit.record(session, actor, "subscription.cancelled", "subscription", sub.address,
                 {"cancel_at_term_end": False}, {"cancel_at_term_end": True, "term_end": sub.term_end,
                                                 "reason": reason})


async def subscriptions_of(session: AsyncSession, client_id: int) -> list[Subscription]:
    return list((await session.execute(
        select(Subscription).where(Subscription.client_id == client_id)
        .order_by(Subscription.created_at.desc(), Subscription.id.desc()))).scalars())


async def set_domain_expiry(session: AsyncSession, domain_name: str, expiry: date) -> None:
    domain = (await session.execute(select(Domain).where(Domain.name == domain_name))).scalar_one_or_none()
    if domain is not None and domain.registrar_expiry != expiry:
        before = {"registrar_expiry": domain.registrar_expiry}
        domain.registrar_expiry = expiry
        audit.record(session, "system", "domain.expiry_synced", "domain", domain_name, before,
                     {"registrar_expiry": expiry})


async def invoice_document(session: AsyncSession, number: str) -> tuple[Invoice, Client, list[Payment]] | None:
    """An invoice with its lines, its client and its payments (refunds as negative payments)."""
    invoice = (await session.execute(select(Invoice).where(Invoice.number == number)
                                     .options(selectinload(Invoice.lines)))).scalar_one_or_none()
    if invoice is None:
        return None
    client = await session.get(Client, invoice.client_id)
    assert client is not None
    paid = list((await session.execute(select(Payment).where(Payment.invoice_id == invoice.id)
                                       .order_by(Payment.received_at, Payment.id))).scalars())
    return invoice, client, paid
