"""/api/v1/cart: the session's cart (api.services.cart, as the cart page keeps it)."""
from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import CsrfHeader, ReadSessionsDep
from api.schemas.cart import CartIn, CartOut
from api.schemas.common import refusals
from api.services import cart

router = APIRouter(prefix="/api/v1/cart", tags=["cart"])
PICKS = ("csrf_failed", "cart_nothing_picked", "cart_full", "address_invalid", "kind_invalid")


async def _cart_json(request: Request, sessions) -> dict:
    lines, now = await cart.current(sessions, request.state.session, request.app.state.portfolio)
    return {"lines": [{"address": l.shown, "kind": l.kind, "status": now.get(l.address)} for l in lines]}


@router.get("", response_model=CartOut, responses=refusals())
async def get_cart(request: Request, sessions: ReadSessionsDep):
    """The session's cart: what was picked, and whether each is still available now. Check out with
    POST /orders (one line per address, with term and destination or password)."""
    return await _cart_json(request, sessions)


@router.post("", dependencies=[CsrfHeader], response_model=CartOut, responses=refusals(*PICKS))
async def add_to_cart(request: Request, body: CartIn, sessions: ReadSessionsDep):
    cart.add(request.state.session, [(p.address, p.kind) for p in body.picks])
    return await _cart_json(request, sessions)


@router.delete("/{address}", dependencies=[CsrfHeader], response_model=CartOut, responses=refusals(*PICKS))
async def remove_from_cart(request: Request, address: str, sessions: ReadSessionsDep):
    cart.remove(request.state.session, address[:320])
    return await _cart_json(request, sessions)
