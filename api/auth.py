"""Sign-in: argon2 password hashes, a signed cookie carrying a server-side session's token and a CSRF token."""
from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.refusals import Refusals, refuse
from store import web_sessions

COOKIE = "mm_session"
MAX_AGE = int(web_sessions.IDLE_LIFETIME.total_seconds())   # the browser forgets an idle cookie then too
PASSWORD_MIN = 10
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password or "") < PASSWORD_MIN:
        raise refuse(Refusals.PASSWORD_TOO_SHORT, "password", message=f"Use at least {PASSWORD_MIN} characters.")
    if len(password) > 1024:
        raise refuse(Refusals.PASSWORD_TOO_LONG, "password", message="That password is too long.")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerifyMismatchError, InvalidHashError):
        return False


class SessionMiddleware:
    """`request.state.session` is a dict {sid?, cid?, cart?, csrf}; every visitor gets a CSRF token at once.

    The signed cookie holds the CSRF token, an anonymous visitor's cart and, once signed in, the
    session token (`sid`). Who is signed in (`cid`) is never taken from the cookie: it is read from
    the session's row on each request that carries a token (one primary-key read), so a revoked or
    ended session signs nobody in from the next request on. A key that leaked or a cookie copied
    before sign-out is worth nothing without a live row.

    Plain ASGI rather than BaseHTTPMiddleware: it wraps every request, including each availability
    check, and the task-and-stream machinery of the latter costs about a millisecond a request."""

    def __init__(self, app: ASGIApp, secret: str, secure: bool):
        self.app = app
        self._signer = URLSafeTimedSerializer(secret, salt="mm-session")
        self._secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = HTTPConnection(scope).cookies.get(COOKIE)
        data: dict = {}
        if raw:
            try:
                data = self._signer.loads(raw, max_age=int(web_sessions.IDLE_LIFETIME.total_seconds()))
            except BadSignature:
                data = {}
        data.pop("cid", None)   # a cookie from before server-side sessions: it signs nobody in
        if not data.get("csrf"):
            data = {"csrf": secrets.token_urlsafe(24)}
        refresh = False
        if data.get("sid"):
            live = await self._live(scope, data["sid"])
            if live is None:
                data = {k: v for k, v in data.items() if k != "sid"}
                refresh = True
            else:
                data["cid"] = live.client_id
                refresh = live.stale   # re-signed, so the cookie's own idle limit restarts too
        state = scope.setdefault("state", {})
        state["session"] = data
        before = dict(data)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and (state["session"] != before or not raw or refresh):
                kept = {k: v for k, v in state["session"].items() if k != "cid"}
                carrier = Response()
                carrier.set_cookie(COOKIE, self._signer.dumps(kept), max_age=MAX_AGE, httponly=True,
                                   secure=self._secure, samesite="lax", path="/")
                headers = MutableHeaders(scope=message)
                for name, value in carrier.raw_headers:
                    if name == b"set-cookie":
                        headers.append("set-cookie", value.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    @staticmethod
    async def _live(scope: Scope, token: str) -> web_sessions.Live | None:
        reads = getattr(scope["app"].state, "read_sessions", None)
        if reads is None or not isinstance(token, str):
            return None
        now = datetime.now(timezone.utc)
        async with reads() as session:
            live = await web_sessions.live_session(session, token, now)
            if live is not None and live.stale:
                await web_sessions.touch(session, token, now)
        return live


async def sign_in(request: Request, client_id: int) -> None:
    """A new session for the client. A fresh CSRF token too, so a token seen before sign-in is worth
    nothing after; the cart a visitor filled before signing in stays."""
    cart = request.state.session.get("cart")
    previous = request.state.session.get("sid")
    async with request.app.state.sessions.begin() as session:
        if previous:   # signing in again (as anyone) ends the session this browser had
            await web_sessions.revoke(session, previous, datetime.now(timezone.utc))
        token = await web_sessions.open_session(
            session, client_id, now=datetime.now(timezone.utc),
            user_agent=request.headers.get("user-agent", ""), ip=request.app.state.limiter.client_ip(request))
    request.state.session = {"sid": token, "cid": client_id, "csrf": secrets.token_urlsafe(24),
                             **({"cart": cart} if cart else {})}


async def sign_out(request: Request) -> None:
    """Ends this session on the server: the cookie, wherever it was copied, signs nobody in again."""
    token = request.state.session.get("sid")
    if token:
        async with request.app.state.sessions.begin() as session:
            await web_sessions.revoke(session, token, datetime.now(timezone.utc))
    request.state.session = {"csrf": secrets.token_urlsafe(24)}


def csrf_ok(request: Request, supplied: str | None) -> bool:
    expected = request.state.session.get("csrf", "")
    return bool(supplied) and hmac.compare_digest(expected, supplied or "")
