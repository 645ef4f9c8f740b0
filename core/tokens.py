"""Capability tokens for links in emails: an HMAC of what the link is for, so nothing secret is
stored and the same request always yields the same link (a retried email repeats it)."""
from __future__ import annotations

import hashlib
import hmac

DESTINATION_LINK = "destination"   # the link a new forwarding destination follows to confirm


def link_token(secret: str, purpose: str, ident: int | str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{ident}".encode(), hashlib.sha256).hexdigest()[:40]


def token_ok(secret: str, purpose: str, ident: int | str, supplied: str) -> bool:
    return hmac.compare_digest(link_token(secret, purpose, ident), (supplied or "")[:80])
