"""The cart page: add what the grid ticked, remove a line, and check out (one order for the cart)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import CheckoutDep, FormClient, FormCsrf, MaybeClient, ReadSessionsDep, SettingsDep
from api.routers.pages.common import render
from api.services import cart, customer_orders
from api.services.ordering import WantedAddress
from core.errors import BusinessError

router = APIRouter(include_in_schema=False)


@router.post("/cart", dependencies=[FormCsrf])
async def cart_add(request: Request, pick: Annotated[list[str] | None, Form(max_length=320)] = None):
    """The grid's "add to cart": every ticked address with the kind chosen beside it."""
    form = await request.form()
    picks = [(address, str(form.get(f"kind:{address}", "forwarder"))[:20]) for address in (pick or [])[:50]]
    cart.add(request.state.session, picks)
    return RedirectResponse("/cart", status_code=303)


@router.get("/cart", response_class=HTMLResponse)
async def cart_page(request: Request, client: MaybeClient, sessions: ReadSessionsDep, settings: SettingsDep):
    return await _render_cart(request, client, sessions, settings)


async def _render_cart(request: Request, client, sessions, settings, status: int = 200, error=None,
                       entered: dict | None = None) -> HTMLResponse:
    lines, now = await cart.current(sessions, request.state.session, request.app.state.portfolio)
    return render(request, "cart.html", status=status, client=client, lines=lines, now=now, error=error,
                  entered=entered or {}, terms={"forwarder": settings.forwarder_terms,
                                                "mailbox": settings.mailbox_terms},
                  prices={"forwarder": settings.forwarder_price_per_year, "mailbox": settings.mailbox_price_per_year},
                  currency=settings.currency, default_destination=client.email if client else "")


@router.post("/cart/remove", dependencies=[FormCsrf])
async def cart_remove(request: Request, address: Annotated[str, Form(max_length=320)] = ""):
    cart.remove(request.state.session, address)
    return RedirectResponse("/cart", status_code=303)


@router.post("/cart/checkout", response_class=HTMLResponse)
async def cart_checkout(request: Request, client: FormClient, sessions: ReadSessionsDep, settings: SettingsDep,
                        checkout: CheckoutDep):
    """Place one order for the whole cart: each line's kind, term and destination (or password)."""
    form = await request.form()
    lines = cart.lines(request.state.session)
    entered = {key: str(value)[:1024] for key, value in form.items() if key != "csrf"}
    wanted = []
    for i, line in enumerate(lines):
        kind = entered.get(f"kind_{i}", line.kind)
        try:
            years = int(entered.get(f"years_{i}", "1"))
        except ValueError:
            years = 0
        wanted.append(WantedAddress(line.local_part, line.domain, kind, years, entered.get(f"destination_{i}", ""),
                                    entered.get(f"password_{i}", "")))
    try:
        order = await customer_orders.place(checkout, client, wanted, entered.get("promo_code", ""))
    except BusinessError as exc:
        entered = {k: v for k, v in entered.items() if not k.startswith("password_")}  # never echoed back
        return await _render_cart(request, client, sessions, settings, exc.status if exc.status < 500 else 503,
                                  exc, entered)
    cart.clear(request.state.session)
    return RedirectResponse(f"/orders/{order.id}", status_code=303)
