"""Sign-up (and its confirmation link), sign-in and sign-out pages; the rules are
api.services.accounts', the same for the JSON API."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import AccountsDep, FormClient, FormCsrf
from api.routers.pages.common import render, safe_next
from api.schemas.auth import LoginForm, SignUpForm
from core.errors import BusinessError

router = APIRouter(include_in_schema=False)


@router.get("/signup", response_class=HTMLResponse)
async def signup_form(request: Request, next: str = "/"):
    return render(request, "signup.html", error=None, email="", name="", next=safe_next(next))


@router.post("/signup", response_class=HTMLResponse, dependencies=[FormCsrf])
async def signup_submit(request: Request, accounts: AccountsDep, form: Annotated[SignUpForm, Form()]):
    try:
        message = await accounts.sign_up(form.email, form.password, form.name)
    except BusinessError as exc:
        return render(request, "signup.html", status=exc.status, error=exc, email=form.email, name=form.name,
                      next=safe_next(form.next))
    # the same page whether or not the address has an account
    return render(request, "signup.html", status=202, error=None, sent=message, email="", name="",
                  next=safe_next(form.next))


@router.get("/signup/confirm/{token}", response_class=HTMLResponse)
async def signup_confirm_form(request: Request, token: str, accounts: AccountsDep):
    # a page with a button, not a sign-in on GET: mail scanners that open links would use it up
    client = await accounts.pending_confirmation(token)
    return render(request, "signup_confirm.html", email=client.email, token=token[:200])


@router.post("/signup/confirm/{token}", dependencies=[FormCsrf])
async def signup_confirm(request: Request, token: str, accounts: AccountsDep):
    await accounts.confirm(request, token[:200])
    return RedirectResponse("/addresses", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/"):
    return render(request, "login.html", error=None, email="", next=safe_next(next))


@router.post("/login", response_class=HTMLResponse, dependencies=[FormCsrf])
async def login_submit(request: Request, accounts: AccountsDep, form: Annotated[LoginForm, Form()]):
    try:
        await accounts.sign_in(request, form.email, form.password)
    except BusinessError as exc:
        response = render(request, "login.html", status=exc.status, error=exc, email=form.email,
                          next=safe_next(form.next))
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return RedirectResponse(safe_next(form.next), status_code=303)


@router.post("/logout", dependencies=[FormCsrf])
async def logout(request: Request, accounts: AccountsDep):
    await accounts.sign_out(request)
    return RedirectResponse("/", status_code=303)


@router.post("/logout/everywhere")
async def logout_everywhere(request: Request, client: FormClient, accounts: AccountsDep):
    await accounts.sign_out_everywhere(request, client)
    return RedirectResponse("/login", status_code=303)
