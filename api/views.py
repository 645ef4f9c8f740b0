"""Read models the JSON API and the pages share: an order with its invoice and live status,
a client's addresses, the catalog, and availability of one name across domains."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api.services.checkout import Checkout
from core.addresses import display_domain, normalize_domain, normalize_local_part
from core.errors import BusinessError
from core.money import Money
from store import catalog, orders

MAX_DOMAINS = 20


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

    @property
    def final(self) -> bool:
        """Nothing more will change without the customer: the page stops refreshing."""
        if self.status == "cancelled":
            return True
        return self.status == "paid" and all(l.status not in ("pending_payment", "provisioning") for l in self.lines)

    def as_dict(self) -> dict:
        return asdict(self)


async def order_view(session: AsyncSession, checkout: Checkout, order_id: int, client_id: int) -> OrderView:
    order = await orders.order_with_lines(session, order_id)
    if order is None or order.client_id != client_id:
        raise BusinessError("order_not_found", "There is no such order in your account.", "order_id", 404)
    invoice = await orders.invoice_for_order(session, order_id)
    live = await checkout.order_state(order_id) if order.status == "pending_payment" else None
    payment_status = live.status if live else order.status
    currency = order.currency
    return OrderView(
        id=order.id, status=order.status, payment_status=payment_status, message=live.message if live else "",
        total=Money(order.total_minor, currency).display(), currency=currency,
        invoice_number=invoice.number if invoice else "", invoice_status=invoice.status if invoice else "",
        lines=[OrderLineView(line.subscription.address, line.kind, line.years,
                             Money(line.amount_minor, currency).display(), line.subscription.destination,
                             line.subscription.status,
                             line.subscription.term_end.isoformat() if line.subscription.term_end else None)
               for line in order.lines])


async def addresses_view(session: AsyncSession, client_id: int) -> list[dict]:
    return [{"address": s.address, "kind": s.kind, "status": s.status, "destination": s.destination,
             "term_start": s.term_start.isoformat() if s.term_start else None,
             "term_end": s.term_end.isoformat() if s.term_end else None, "order_id": s.order_id}
            for s in await orders.subscriptions_of(session, client_id)]


async def catalog_view(session: AsyncSession) -> list[dict]:
    return [{"name": c.name, "slug": c.slug, "parent": c.parent, "domains": c.domains}
            for c in await catalog.categories(session)]


async def availability_view(session: AsyncSession, name: str, domains: list[str]) -> dict:
    local = normalize_local_part(name, "name")
    wanted = [d for d in dict.fromkeys(d.strip() for d in domains) if d]
    if not wanted:
        raise BusinessError("domains_empty", "Choose at least one domain.", "domains")
    if len(wanted) > MAX_DOMAINS:
        raise BusinessError("domains_too_many", f"Check at most {MAX_DOMAINS} domains at once.", "domains")
    found = []
    for raw in wanted:
        name_ascii = normalize_domain(raw, "domains")
        domain = await catalog.listed_domain(session, name_ascii)
        if domain is None:
            raise BusinessError("domain_unknown", f"We do not sell addresses at {name_ascii}.", "domains")
        found.append(domain)
    status = await catalog.availability(session, local, found)
    public = {"reserved": "unavailable", "taken": "unavailable", "available": "available"}
    return {"name": local, "results": [
        {"domain": display_domain(d.name), "domain_ascii": d.name, "address": f"{local}@{d.name}",
         "status": public[status[d.name]]} for d in found]}
