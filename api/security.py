"""Security headers on every response: a Content-Security-Policy without inline script, nosniff,
the referrer policy, no framing, and HSTS when cookies are Secure (the site is served over HTTPS).

Plain ASGI, like SessionMiddleware: it wraps every request, availability checks included. The
pages load only /static; the API docs (/docs) load our own copy of Swagger UI and run one inline
script, so they get a policy of their own with that script's hash and Swagger UI's inline styles.
"""
from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGES_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
             "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def script_hashes(html: str) -> list[str]:
    """CSP source expressions for each inline <script> of a page."""
    return ["'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
            for body in _INLINE_SCRIPT.findall(html)]


def docs_csp(inline_hashes: list[str]) -> str:
    # Swagger UI sets inline styles; this policy is only sent with the docs pages, which show no
    # customer data. Everything they load comes from this site.
    return (f"default-src 'self'; script-src 'self' {' '.join(inline_hashes)}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool, docs_paths: tuple[str, ...] = (), docs_policy: str = ""):
        self.app = app
        self._common = [("x-content-type-options", "nosniff"), ("referrer-policy", "strict-origin-when-cross-origin"),
                        ("x-frame-options", "DENY")]
        if hsts:
            self._common.append(("strict-transport-security", HSTS))
        self._docs_paths = docs_paths
        self._docs_policy = docs_policy or PAGES_CSP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self._docs_policy if scope["path"] in self._docs_paths else PAGES_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self._common:
                    headers[name] = value
                headers["content-security-policy"] = policy
            await send(message)

        await self.app(scope, receive, send_with_headers)
