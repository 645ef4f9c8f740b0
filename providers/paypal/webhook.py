"""PayPal webhook signature verification, offline: CRC32 of the raw body, RSA-SHA256 with the
certificate named in PAYPAL-CERT-URL, fetched only from allowed hosts and cached; a transmission
time outside the accepted window is refused.

PayPal signs only the body's CRC32, so a body can be crafted to a signed delivery's CRC32: a valid
signature says a delivery came from PayPal at that time, never what its body claims. Callers treat
the event as a hint and read the resource back from PayPal's API; they also refuse a transmission id
seen before with another body (store.webhooks.claim_transmission)."""
from __future__ import annotations

import base64
import json
import zlib
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

REQUIRED = ("paypal-transmission-id", "paypal-transmission-time", "paypal-transmission-sig",
            "paypal-cert-url", "paypal-auth-algo")


class WebhookRejected(Exception):
    """The delivery is not provably from PayPal; the reason is safe to log."""

    def __init__(self, message: str, code: str = "webhook_rejected", field: str | None = None):
        super().__init__(message)
        self.code, self.field = code, field


def transmission_time(value: str) -> datetime:
    """PAYPAL-TRANSMISSION-TIME, RFC 3339 (a Z or an offset)."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise WebhookRejected("transmission time is not a timestamp", "webhook_stale",
                              "PAYPAL-TRANSMISSION-TIME") from exc
    if when.tzinfo is None:
        raise WebhookRejected("transmission time has no time zone", "webhook_stale", "PAYPAL-TRANSMISSION-TIME")
    return when


def signed_message(transmission_id: str, transmission_time: str, webhook_id: str, raw: bytes) -> bytes:
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(raw)}".encode()


def host_allowed(url: str, allowed: list[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    for entry in allowed:
        entry = entry.lower()
        if host == entry or (entry.startswith(".") and host.endswith(entry)):
            return True
    return False


class WebhookVerifier:
    def __init__(self, webhook_id: str, allowed_cert_hosts: list[str], *,
                 transport: httpx.AsyncBaseTransport | None = None, max_age: timedelta = timedelta(minutes=15),
                 max_ahead: timedelta = timedelta(minutes=5)):
        self._webhook_id = webhook_id
        self._max_age, self._max_ahead = max_age, max_ahead
        self._allowed = allowed_cert_hosts
        self._http = httpx.AsyncClient(timeout=10.0, transport=transport)
        self._certs: dict[str, x509.Certificate] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _certificate(self, url: str) -> x509.Certificate:
        cert = self._certs.get(url)
        if cert is None:
            try:
                response = await self._http.get(url)
                response.raise_for_status()
                cert = x509.load_pem_x509_certificate(response.content)
            except (httpx.HTTPError, ValueError) as exc:
                raise WebhookRejected(f"certificate could not be fetched: {exc.__class__.__name__}") from exc
            self._certs[url] = cert
        now = datetime.now(timezone.utc)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise WebhookRejected("certificate is not valid now")
        return cert

    def check_time(self, value: str, now: datetime | None = None) -> datetime:
        when = transmission_time(value)
        now = now or datetime.now(timezone.utc)
        if when < now - self._max_age:
            raise WebhookRejected(f"transmission time {value[:40]} is older than {int(self._max_age.total_seconds())} s",
                                  "webhook_stale", "PAYPAL-TRANSMISSION-TIME")
        if when > now + self._max_ahead:
            raise WebhookRejected(f"transmission time {value[:40]} is in the future", "webhook_stale",
                                  "PAYPAL-TRANSMISSION-TIME")
        return when

    async def verify(self, headers: dict[str, str], raw: bytes, now: datetime | None = None) -> dict:
        h = {k.lower(): v for k, v in headers.items()}
        missing = [name for name in REQUIRED if not h.get(name)]
        if missing:
            raise WebhookRejected(f"missing headers: {', '.join(missing)}")
        if len(h["paypal-transmission-id"]) > 64:
            raise WebhookRejected("transmission id is too long", field="PAYPAL-TRANSMISSION-ID")
        self.check_time(h["paypal-transmission-time"], now)
        if h["paypal-auth-algo"] != "SHA256withRSA":
            raise WebhookRejected(f"unsupported algorithm {h['paypal-auth-algo'][:40]}")
        if not host_allowed(h["paypal-cert-url"], self._allowed):
            raise WebhookRejected("certificate host is not allowed")
        cert = await self._certificate(h["paypal-cert-url"])
        try:
            signature = base64.b64decode(h["paypal-transmission-sig"], validate=True)
            cert.public_key().verify(
                signature,
                signed_message(h["paypal-transmission-id"], h["paypal-transmission-time"], self._webhook_id, raw),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError) as exc:
            raise WebhookRejected("signature does not match") from exc
        try:
            event = json.loads(raw)
        except ValueError as exc:
            raise WebhookRejected("body is not JSON") from exc
        if not isinstance(event, dict) or "event_type" not in event or "id" not in event:
            raise WebhookRejected("body is not a webhook event")
        return event
