"""The cart: addresses a visitor ticked in the grid, each with its kind, kept in the signed session
cookie until checkout. A cart holds nothing: the addresses are held from the moment the order is
placed (the order's payment deadline), which is also when availability is decided for good."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api.services.availability import Portfolio
from api.services.ordering import MAX_LINES
from core.addresses import Address, display_domain
from core.availability import PUBLIC, Cell
from core.refusals import Refusals, refuse
from core.pricing import parse_kind
from store import availability


@dataclass(frozen=True)
class CartLine:
    local_part: str
    domain: str          # ASCII (punycode) form
    kind: str

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain}"

    @property
    def shown(self) -> str:
        return f"{self.local_part}@{display_domain(self.domain)}"


def lines(session: dict) -> list[CartLine]:
    return [CartLine(*entry) for entry in session.get("cart", [])]


def _store(session: dict, cart: list[CartLine]) -> None:
    session["cart"] = [[c.local_part, c.domain, c.kind] for c in cart]


def add(session: dict, picks: list[tuple[str, str]]) -> list[CartLine]:
    """Add (address, kind) picks; a pick already in the cart takes the new kind. All or nothing."""
    cart = lines(session)
    by_address = {c.address: i for i, c in enumerate(cart)}
    if not picks:
        raise refuse(Refusals.CART_NOTHING_PICKED, "address")
    for raw, kind in picks:
        address = Address.from_email(raw)
        line = CartLine(address.local_part, address.domain, parse_kind(kind).value)
        if line.address in by_address:
            cart[by_address[line.address]] = line
        else:
            by_address[line.address] = len(cart)
            cart.append(line)
    if len(cart) > MAX_LINES:
        raise refuse(Refusals.CART_FULL, "address", max_lines=MAX_LINES)
    _store(session, cart)
    return cart


def remove(session: dict, raw: str) -> list[CartLine]:
    unwanted = Address.from_email(raw).email
    cart = [c for c in lines(session) if c.address != unwanted]
    _store(session, cart)
    return cart


def clear(session: dict) -> None:
    session.pop("cart", None)


async def statuses(db: AsyncSession, cart: list[CartLine], portfolio: Portfolio) -> dict[str, str]:
    """What a customer would see for each line right now (available, taken, unavailable)."""
    if not cart:
        return {}
    refs = (await portfolio.fresh(db)).orderable
    known = await availability.facts(db, [c.local_part for c in cart], [refs[c.domain] for c in cart
                                                                      if c.domain in refs])
    return {c.address: PUBLIC[known.status(refs[c.domain].id, c.local_part)] if c.domain in refs
            else PUBLIC[Cell.RESERVED] for c in cart}


async def current(sessions, session: dict, portfolio: Portfolio) -> tuple[list[CartLine], dict[str, str]]:
    """The cart's lines and what each is now, as the cart page and GET /api/v1/cart show them."""
    cart = lines(session)
    async with sessions() as db:
        return cart, await statuses(db, cart, portfolio)
