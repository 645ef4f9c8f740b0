"""The Renewals page (confirm or decline each address ending soon, auto-renew) and the renewal code
page, where a visitor with the code from a renewal invoice decides and pays without signing in."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import CheckoutDep, FormClient, FormCsrf, PageClient, RenewalsDep, SettingsDep
from api.routers.pages.common import render
from api.routers.pages.orders import PAYPAL_BEGUN
from api.schemas.account import SwitchForm
from api.schemas.renewals import CodeForm, RenewPayForm
from api.services.renewals import Choice, code_decision
from core.errors import BusinessError
from core.refusals import Refusals, refuse

router = APIRouter(include_in_schema=False)


async def _renewals_page(request: Request, client, renewals, settings, status: int = 200, error=None,
                         done=None) -> HTMLResponse:
    return render(request, "renewals.html", status=status, client=client, view=await renewals.overview(client),
                  error=error, done=done, months=settings.renewal_window_months)


@router.get("/renewals", response_class=HTMLResponse)
async def renewals_page(request: Request, client: PageClient, renewals: RenewalsDep, settings: SettingsDep):
    return await _renewals_page(request, client, renewals, settings)


@router.post("/renewals", response_class=HTMLResponse)
async def renewals_submit(request: Request, client: FormClient, renewals: RenewalsDep, settings: SettingsDep):
    form = await request.form()   # one `action:<address>` and `years:<address>` per address listed
    choices = []
    for key, value in form.multi_items():
        if key.startswith("action:") and value in ("confirm", "decline"):
            address = key[len("action:"):]
            years = str(form.get(f"years:{address}", "1"))
            choices.append(Choice(address, str(value), int(years) if years.isdecimal() and len(years) <= 2 else 0))
    try:
        done = await renewals.submit(client, choices)
    except BusinessError as exc:
        return await _renewals_page(request, client, renewals, settings, status=exc.status, error=exc)
    return await _renewals_page(request, client, renewals, settings, done=done)


@router.post("/renewals/auto-renew")
async def renewals_auto(client: FormClient, renewals: RenewalsDep, form: Annotated[SwitchForm, Form()]):
    await renewals.set_auto_renew(client, form.enabled == "1")
    return RedirectResponse("/renewals", status_code=303)


@router.get("/renew", response_class=HTMLResponse)
async def renew_code_page(request: Request):
    return render(request, "renew_code.html", answer=None, code="")


async def _code_step(request: Request, renewals, code: str, decision: str | None) -> HTMLResponse:
    try:
        answer = await renewals.by_code(code, request.app.state.limiter.client_ip(request), decision)
    except BusinessError as exc:
        return render(request, "renew_code.html", status=exc.status, answer=None, code=code[:40], error=exc)
    return render(request, "renew_code.html", answer=answer, code=code[:40])


@router.post("/renew", response_class=HTMLResponse, dependencies=[FormCsrf])
async def renew_code_lookup(request: Request, renewals: RenewalsDep, form: Annotated[CodeForm, Form()]):
    return await _code_step(request, renewals, form.code, None)


@router.post("/renew/decide", response_class=HTMLResponse, dependencies=[FormCsrf])
async def renew_code_decide(request: Request, renewals: RenewalsDep, form: Annotated[CodeForm, Form()]):
    return await _code_step(request, renewals, form.code, code_decision(form.decision))


@router.post("/renew/pay", dependencies=[FormCsrf])
async def renew_code_pay(request: Request, renewals: RenewalsDep, checkout: CheckoutDep,
                         form: Annotated[RenewPayForm, Form()]):
    if not renewals.pay_token_ok(form.order_id, form.token):
        raise refuse(Refusals.LINK_INVALID, status=403)
    started = await checkout.begin_paypal(form.order_id)
    # this browser proved the code: its return from PayPal may hand the approval on (see paypal_return)
    begun = request.state.session.get(PAYPAL_BEGUN, [])
    request.state.session[PAYPAL_BEGUN] = [*begun[-4:], started.paypal_order_id]
    return RedirectResponse(started.approve_url, status_code=303)
