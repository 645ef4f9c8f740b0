"""The real PayPal REST client: OAuth client credentials, Orders v2, idempotent capture and refunds."""
from __future__ import annotations

import time
from typing import Any

import httpx

from core.money import Money
from providers.errors import LogicalError, TechnicalError
from providers.paypal.protocol import Capture, CheckoutOrder, CheckoutRequest, RefundRequest, RefundResult


def _money(amount: dict) -> Money:
    return Money.parse(amount["value"], amount["currency_code"])


def _first_capture(order: dict) -> Capture | None:
    for unit in order.get("purchase_units", []):
        for capture in (unit.get("payments") or {}).get("captures", []):
            return Capture(capture["id"], capture["status"], _money(capture["amount"]), order["id"])
    return None


class PayPalClient:
    def __init__(self, base_url: str, client_id: str, secret: str, *, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None):
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self._credentials = (client_id, secret)
        self._token: str | None = None
        self._token_expires = 0.0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _access_token(self, refresh: bool = False) -> str:
        if self._token and not refresh and time.monotonic() < self._token_expires:
            return self._token
        try:
            response = await self._http.post("/v1/oauth2/token", auth=self._credentials,
                                             data={"grant_type": "client_credentials"})
        except httpx.HTTPError as exc:
            raise TechnicalError(f"PayPal token request failed: {exc}", provider="paypal") from exc
        if response.status_code != 200:
            raise TechnicalError(f"PayPal refused our credentials ({response.status_code})", provider="paypal")
        body = response.json()
        self._token = body["access_token"]
        # renew a minute early so a token never expires mid-request
        self._token_expires = time.monotonic() + max(0, int(body.get("expires_in", 0)) - 60)
        return self._token

    async def _request(self, method: str, path: str, *, json: Any = None,
                       request_id: str | None = None) -> tuple[int, dict]:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {await self._access_token(refresh=attempt == 2)}",
                       "Content-Type": "application/json", "Prefer": "return=representation"}
            if request_id:
                headers["PayPal-Request-Id"] = request_id
            try:
                response = await self._http.request(method, path, json=json, headers=headers)
            except httpx.TimeoutException as exc:
                raise TechnicalError(f"PayPal {path} timed out", provider="paypal") from exc
            except httpx.TransportError as exc:
                raise TechnicalError(f"PayPal {path} unreachable: {exc}", provider="paypal") from exc
            if response.status_code == 401 and attempt == 1:
                continue  # token revoked or expired early: fetch a new one once
            break
        if response.status_code >= 500 or response.status_code == 429:
            raise TechnicalError(f"PayPal {path} answered HTTP {response.status_code}", provider="paypal")
        try:
            body = response.json() if response.content else {}
        except ValueError as exc:
            raise TechnicalError(f"PayPal {path} answered something that is not JSON", provider="paypal") from exc
        if response.status_code >= 400:
            details = body.get("details") or [{}]
            issue = details[0].get("issue") or body.get("name") or str(response.status_code)
            description = details[0].get("description") or body.get("message") or "refused"
            raise LogicalError(f"PayPal {issue}: {description}", code=issue, provider="paypal")
        return response.status_code, body

    async def create_order(self, request: CheckoutRequest) -> CheckoutOrder:
        payload = {
            "intent": "CAPTURE",
            "purchase_units": [{
                "reference_id": request.reference,
                "custom_id": request.reference,
                "invoice_id": request.invoice_number,
                "description": request.description[:127],
                "amount": {"currency_code": request.amount.currency, "value": request.amount.amount()},
            }],
            "payment_source": {"paypal": {"experience_context": {
                "return_url": request.return_url, "cancel_url": request.cancel_url,
                "user_action": "PAY_NOW", "shipping_preference": "NO_SHIPPING",
            }}},
        }
        _, body = await self._request("POST", "/v2/checkout/orders", json=payload, request_id=request.request_id)
        links = {link["rel"]: link["href"] for link in body.get("links", [])}
        approve = links.get("payer-action") or links.get("approve")
        if not approve:
            raise TechnicalError("PayPal created an order without an approval link", provider="paypal")
        return CheckoutOrder(body["id"], body["status"], approve)

    async def get_order(self, order_id: str) -> dict:
        _, body = await self._request("GET", f"/v2/checkout/orders/{order_id}")
        return body

    async def capture_order(self, order_id: str, request_id: str) -> Capture:
        try:
            _, body = await self._request("POST", f"/v2/checkout/orders/{order_id}/capture", json={},
                                          request_id=request_id)
        except LogicalError as exc:
            if exc.code != "ORDER_ALREADY_CAPTURED":
                raise
            # Captured by an earlier attempt whose answer we lost (past the request-id window):
            # read the capture back instead of failing.
            body = await self.get_order(order_id)
        capture = _first_capture(body)
        if capture is None:
            raise TechnicalError(f"PayPal order {order_id} has no capture", provider="paypal")
        if capture.status == "DECLINED":
            raise LogicalError("PayPal declined the payment", code="INSTRUMENT_DECLINED", provider="paypal")
        return capture

    async def refund_capture(self, request: RefundRequest) -> RefundResult:
        """Refund part or all of a capture (always with an explicit amount, so a retry after a lost
        answer can never turn into a refund of whatever is left)."""
        payload = {"amount": {"currency_code": request.amount.currency, "value": request.amount.amount()},
                   "invoice_id": request.invoice_number, "note_to_payer": request.note_to_payer[:255]}
        _, body = await self._request("POST", f"/v2/payments/captures/{request.capture_id}/refund", json=payload,
                                      request_id=request.request_id)
        return RefundResult(body["id"], body.get("status", ""), _money(body["amount"]))
