"""Request dependencies: settings, DB sessions, the services, the signed-in client or operator, and
the CSRF checks (a header for JSON writes, the form's field for pages), so no handler does its own.
All `async def`: FastAPI runs a plain `def` dependency in a worker thread, a hop per request."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth import csrf_ok
from api.services.accounts import Accounts
from api.services.billing import Billing
from api.services.checkout import Checkout
from api.services.destinations import DestinationChanges
from api.services.mailboxes import Mailboxes
from api.services.renewals import Renewals
from core.refusals import Refusals, refuse
from settings import Settings
from store.clients import client_by_id
from store.models import Client


def _from_app(name: str):
    """A dependency answering the app's `state.<name>` (set once by api.app's factory): the settings,
    the session factories and the services."""
    async def dependency(request: Request):
        return getattr(request.app.state, name)
    dependency.__name__ = f"app_{name}"
    return Depends(dependency)


async def current_client(request: Request) -> Client | None:
    cid = request.state.session.get("cid")
    if not cid:
        return None
    async with request.app.state.sessions() as session:
        client = await client_by_id(session, cid)
    request.state.client = client   # an error page rendered for this request shows who is signed in
    return client


async def require_client(client: Annotated[Client | None, Depends(current_client)]) -> Client:
    if client is None:
        raise refuse(Refusals.NOT_SIGNED_IN)
    return client


async def require_operator(client: Annotated[Client, Depends(require_client)]) -> Client:
    if not client.is_operator:
        raise refuse(Refusals.FORBIDDEN, message="Only operators may do this.")
    return client


async def require_csrf_header(request: Request, x_csrf_token: Annotated[str | None, Header()] = None) -> None:
    """JSON writes carry the session's CSRF token in X-CSRF-Token (from /auth/session)."""
    if not csrf_ok(request, x_csrf_token):
        raise refuse(Refusals.CSRF_FAILED)


SettingsDep = Annotated[Settings, _from_app("settings")]
SessionsDep = Annotated[async_sessionmaker[AsyncSession], _from_app("sessions")]
# reads that need no transaction (availability checks): each statement commits
ReadSessionsDep = Annotated[async_sessionmaker[AsyncSession], _from_app("read_sessions")]
DestinationsDep = Annotated[DestinationChanges, _from_app("destinations")]
MailboxesDep = Annotated[Mailboxes, _from_app("mailboxes")]
CheckoutDep = Annotated[Checkout, _from_app("checkout")]
RenewalsDep = Annotated[Renewals, _from_app("renewals")]
BillingDep = Annotated[Billing, _from_app("billing")]
AccountsDep = Annotated[Accounts, _from_app("accounts")]
MaybeClient = Annotated[Client | None, Depends(current_client)]
SignedIn = Annotated[Client, Depends(require_client)]
Operator = Annotated[Client, Depends(require_operator)]
CsrfHeader = Depends(require_csrf_header)


# ---- the page prelude ----------------------------------------------------------------------------
# Pages share the JSON API's rules for who may ask: a page refused with `not_signed_in` redirects to
# /login?next=<the page> (api.routers.pages.common.error_page), `forbidden` shows the error page. A
# posted form carries the session's CSRF token in its `csrf` field, checked here once for every form.

async def require_form_csrf(request: Request) -> None:
    form = await request.form()   # cached: the handler's form model reads this same form
    if not csrf_ok(request, str(form.get("csrf", ""))):
        raise refuse(Refusals.CSRF_FAILED, message="This form has expired; go back, reload the page and try again.")


async def require_form_client(request: Request, client: SignedIn) -> Client:
    """A form posted by a signed-in client: signed in first (a stale form after sign-out goes to
    the sign-in page), then fresh."""
    await require_form_csrf(request)
    return client


async def require_form_operator(client: Annotated[Client, Depends(require_form_client)]) -> Client:
    if not client.is_operator:
        raise refuse(Refusals.FORBIDDEN, message="Only operators may do this.")
    return client


PageClient = SignedIn        # a page for signed-in clients: a visitor is sent to sign in and brought back
PageOperator = Operator
FormCsrf = Depends(require_form_csrf)                                 # a form anyone may post
FormClient = Annotated[Client, Depends(require_form_client)]          # a signed-in client's form
FormOperator = Annotated[Client, Depends(require_form_operator)]      # an operator's form
