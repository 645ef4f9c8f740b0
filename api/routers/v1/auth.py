"""/api/v1/auth: the session's CSRF token, sign-up, sign-in and sign-out (api.services.accounts)."""
from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import AccountsDep, CsrfHeader, MaybeClient, SignedIn
from api.schemas.auth import SessionOut, SignIn, SignInOut, SignOutOut, SignUp, SignUpOut
from api.schemas.common import WRITE, refusals

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _client_json(client) -> dict:
    return {"id": client.id, "email": client.email, "name": client.name}


@router.get("/session", response_model=SessionOut, responses=refusals())
async def session_info(request: Request, client: MaybeClient):
    """The CSRF token to send as X-CSRF-Token on every write, and who is signed in."""
    return {"signed_in": client is not None, "client": _client_json(client) if client else None,
            "csrf_token": request.state.session["csrf"]}


@router.post("/signup", status_code=202, dependencies=[CsrfHeader], response_model=SignUpOut,
             responses=refusals("csrf_failed", "name_empty", "address_invalid", "password_too_short",
                                "password_too_long", "service_unavailable"))
async def signup(request: Request, body: SignUp, accounts: AccountsDep):
    """The same answer whether or not the address has an account: the next step is in an email
    (a new account's sign-in link; for an existing one, a note to its owner). Nobody is signed in."""
    message = await accounts.sign_up(body.email, body.password, body.name)
    return {"status": "check_email", "message": message, "csrf_token": request.state.session["csrf"]}


@router.post("/login", dependencies=[CsrfHeader], response_model=SignInOut,
             responses=refusals("csrf_failed", "login_failed", "too_many_attempts"))
async def login(request: Request, body: SignIn, accounts: AccountsDep):
    """Refused with 429 `too_many_attempts` after repeated failures for the address or from the network."""
    client = await accounts.sign_in(request, body.email, body.password)
    return {"client": _client_json(client), "csrf_token": request.state.session["csrf"]}


@router.post("/logout", dependencies=[CsrfHeader], response_model=SignOutOut, response_model_exclude_none=True,
             responses=refusals("csrf_failed"))
async def logout(request: Request, accounts: AccountsDep):
    """Ends this session on the server: the cookie signs nobody in again, wherever it was copied."""
    await accounts.sign_out(request)
    return {"signed_in": False, "csrf_token": request.state.session["csrf"]}


@router.post("/logout-everywhere", dependencies=[CsrfHeader], response_model=SignOutOut,
             responses=refusals(*WRITE))
async def logout_everywhere(request: Request, client: SignedIn, accounts: AccountsDep):
    """Ends every session of the signed-in client: every browser and API client, this one included."""
    ended = await accounts.sign_out_everywhere(request, client)
    return {"signed_in": False, "sessions_ended": ended, "csrf_token": request.state.session["csrf"]}
