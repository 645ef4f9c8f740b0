"""Sign-in: argon2 password hashes, a signed session cookie carrying the client id and a CSRF token."""
from __future__ import annotations

import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import BusinessError

COOKIE = "mm_session"
MAX_AGE = 14 * 24 * 3600
PASSWORD_MIN = 10
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password or "") < PASSWORD_MIN:
        raise BusinessError("password_too_short", f"Use at least {PASSWORD_MIN} characters.", "password")
    if len(password) > 1024:
        raise BusinessError("password_too_long", "That password is too long.", "password")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerifyMismatchError, InvalidHashError):
        return False


class SessionMiddleware:
    """`request.state.session` is a dict {cid?, csrf}; every visitor gets a CSRF token at once.

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
                data = self._signer.loads(raw, max_age=MAX_AGE)
            except BadSignature:
                data = {}
        if not data.get("csrf"):
            data = {"csrf": secrets.token_urlsafe(24)}
        state = scope.setdefault("state", {})
        state["session"] = data
        before = dict(data)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and (state["session"] != before or not raw):
                carrier = Response()
                carrier.set_cookie(COOKIE, self._signer.dumps(state["session"]), max_age=MAX_AGE, httponly=True,
                                   secure=self._secure, samesite="lax", path="/")
                headers = MutableHeaders(scope=message)
                for name, value in carrier.raw_headers:
                    if name == b"set-cookie":
                        headers.append("set-cookie", value.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def sign_in(request: Request, client_id: int) -> None:
    # a fresh CSRF token at sign-in, so a token seen before sign-in is worth nothing after; the cart
    # a visitor filled before signing in stays
    cart = request.state.session.get("cart")
    request.state.session = {"cid": client_id, "csrf": secrets.token_urlsafe(24), **({"cart": cart} if cart else {})}


def sign_out(request: Request) -> None:
    request.state.session = {"csrf": secrets.token_urlsafe(24)}


def csrf_ok(request: Request, supplied: str | None) -> bool:
    expected = request.state.session.get("csrf", "")
    return bool(supplied) and hmac.compare_digest(expected, supplied or "")
