"""Renewals: renewal orders and their invoices for addresses already running, the renewal offer of
each term (its code, stored as a digest, and the customer's decision), paying from credit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.billing import Line
from core.money import Money
from core.refusals import Refusals, refuse
from core.statuses import RENEWABLE_STATUSES, BillingMode, InvoiceStatus, OrderKind, OrderStatus, RenewalDecision
from core.terms import add_years
from store import audit, billing, invoicing, orders
from store.models import Client, Invoice, Order, OrderLine, RenewalOffer, Subscription

RENEWABLE = RENEWABLE_STATUSES


@dataclass(frozen=True)
class RenewalItem:
    subscription: Subscription
    years: int
    unit_price: Money       # per year


async def subscription(session: AsyncSession, subscription_id: int) -> Subscription:
    sub = (await session.execute(select(Subscription).where(Subscription.id == subscription_id)
                                 .options(selectinload(Subscription.domain)))).scalar_one_or_none()
    if sub is None:
        raise LookupError(f"subscription {subscription_id} does not exist")
    return sub


async def open_orders_for(session: AsyncSession, subscription_id: int) -> list[Order]:
    """Renewal orders still waiting for money that include this address."""
    return list((await session.execute(
        select(Order).join(OrderLine, OrderLine.order_id == Order.id)
        .where(OrderLine.subscription_id == subscription_id, Order.kind == OrderKind.RENEWAL,
               Order.status == OrderStatus.PENDING_PAYMENT).options(selectinload(Order.lines)))).scalars().unique())


async def renewal_settled(session: AsyncSession, subscription_id: int, term_end: date) -> bool:
    """A renewal of this term is already on its way: open, or paid after the term it renews began."""
    if await open_orders_for(session, subscription_id):
        return True
    sub = await session.get(Subscription, subscription_id)
    return sub is not None and sub.term_end is not None and sub.term_end > term_end


async def place_renewal(session: AsyncSession, client: Client, items: list[RenewalItem], *, now: datetime,
                        due_at: datetime, actor: str, terms: invoicing.InvoiceTerms = invoicing.InvoiceTerms(),
                        billing_mode: str = BillingMode.PREPAID) -> tuple[Order, Invoice | None]:
    """A renewal order and its invoice (none for an exempt client); the caller commits, then starts
    its order workflow."""
    if not items:
        raise refuse(Refusals.RENEWAL_EMPTY, "items")
    currency = items[0].unit_price.currency
    order = Order(client_id=client.id, status=orders.OPENING_STATUS[billing_mode], billing=billing_mode,
                  kind=OrderKind.RENEWAL, currency=currency, total_minor=0)
    session.add(order)
    await session.flush()
    lines = []
    for item in items:
        sub = item.subscription
        assert sub.term_end is not None
        description = f"Renewal of email {sub.kind} {sub.address}, {item.years} year{'s' if item.years > 1 else ''}"
        lines.append(invoicing.Item(Line(description, item.years, item.unit_price, tax_bp=terms.tax_bp),
                                    period_years=item.years, period_start=sub.term_end,
                                    period_end=add_years(sub.term_end, item.years)))
    invoice, totals = await orders.invoice_order(session, order, lines, now=now, due_at=due_at, terms=terms)
    for item, line, line_total in zip(items, lines, totals):
        session.add(OrderLine(order_id=order.id, subscription_id=item.subscription.id,
                              description=line.line.description,
                              kind=item.subscription.kind, years=item.years, unit_minor=item.unit_price.minor,
                              amount_minor=line_total.minor))
    audit.record(session, actor, "renewal.invoiced", "order", order.id,
                 after={"addresses": [i.subscription.address for i in items],
                        "total": Money(order.total_minor, currency).amount(),
                        "invoice": invoice.number if invoice else None, "billing": billing_mode})
    return order, invoice


async def ensure_offer(session: AsyncSession, sub: Subscription, term_end: date, code_digest: str) -> RenewalOffer:
    query = select(RenewalOffer).where(RenewalOffer.subscription_id == sub.id, RenewalOffer.term_end == term_end)
    offer = (await session.execute(query)).scalar_one_or_none()
    if offer is not None:
        return offer
    offer = RenewalOffer(subscription_id=sub.id, term_end=term_end, code_digest=code_digest)
    session.add(offer)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        offer = (await session.execute(query)).scalar_one()
    return offer


async def offer_by_code(session: AsyncSession, code_digest: str) -> RenewalOffer | None:
    return (await session.execute(select(RenewalOffer).where(RenewalOffer.code_digest == code_digest)
                                  .options(selectinload(RenewalOffer.subscription)
                                           .selectinload(Subscription.domain)))).scalar_one_or_none()


async def offers_for(session: AsyncSession, subs: list[Subscription]) -> dict[int, RenewalOffer]:
    """Each subscription's offer for its current term, in one query."""
    if not subs:
        return {}
    current = {(s.id, s.term_end) for s in subs}
    rows = (await session.execute(select(RenewalOffer).where(
        RenewalOffer.subscription_id.in_([s.id for s in subs])))).scalars()
    return {o.subscription_id: o for o in rows if (o.subscription_id, o.term_end) in current}


async def open_invoices_for(session: AsyncSession, subscription_ids: list[int]) -> dict[int, tuple[Order, Invoice]]:
    """The waiting renewal order (and its invoice) of each subscription that has one, in one query."""
    if not subscription_ids:
        return {}
    rows = (await session.execute(
        select(OrderLine.subscription_id, Order, Invoice).join(Order, Order.id == OrderLine.order_id)
        .join(Invoice, Invoice.order_id == Order.id)
        .where(OrderLine.subscription_id.in_(subscription_ids), Order.kind == OrderKind.RENEWAL,
               Order.status == OrderStatus.PENDING_PAYMENT).order_by(Order.id))).all()
    found: dict[int, tuple[Order, Invoice]] = {}
    for sub_id, order, invoice in rows:
        found.setdefault(sub_id, (order, invoice))   # the oldest, if several wait
    return found


async def decide(session: AsyncSession, offer: RenewalOffer, decision: str, *, via: str, actor: str,
                 now: datetime) -> None:
    if decision not in (RenewalDecision.CONFIRMED, RenewalDecision.DECLINED):
        raise refuse(Refusals.DECISION_INVALID, "decision")
    before = {"decision": offer.decision}
    offer.decision, offer.decided_via, offer.decided_at = decision, via, now
    audit.record(session, actor, f"renewal.{decision}", "subscription", offer.subscription.address
                 if offer.subscription is not None else offer.subscription_id, before,
                 {"decision": decision, "via": via, "term_end": offer.term_end})


async def expiring(session: AsyncSession, client_id: int, until: date) -> list[Subscription]:
    """The client's addresses whose term ends by `until` (and those in grace), soonest first."""
    return list((await session.execute(
        select(Subscription).where(Subscription.client_id == client_id, Subscription.status.in_(RENEWABLE),
                                   Subscription.term_end.is_not(None), Subscription.term_end <= until)
        .options(selectinload(Subscription.domain))
        .order_by(Subscription.term_end, Subscription.address))).scalars())


async def pay_from_balance(session: AsyncSession, order_id: int, *, only_with_auto_renew: bool,
                           now: datetime) -> bool:
    """Pay the order's invoice from the client's credit when the balance covers all of it (and the
    client lets renewals take it). True: paid (now or by an earlier attempt)."""
    invoice = await orders.invoice_for_order(session, order_id)
    if invoice is None:
        raise LookupError(f"order {order_id} has no invoice")
    if invoice.status == InvoiceStatus.PAID:
        return True
    client = await session.get(Client, invoice.client_id)
    assert client is not None
    if invoice.status != InvoiceStatus.UNPAID or (only_with_auto_renew and not client.auto_renew):
        return False
    outcome = await billing.pay_from_credit(session, invoice_id=invoice.id, key=f"credit:{invoice.number}", now=now,
                                            only_in_full=True)
    return outcome is not None and outcome.paid_in_full


async def owned(session: AsyncSession, client_id: int, address: str) -> Subscription | None:
    """The client's own subscription of this address that is still running."""
    return (await session.execute(select(Subscription).where(
        Subscription.client_id == client_id, Subscription.address == address,
        Subscription.status.in_(RENEWABLE)))).scalars().first()
