"""The real PayPal REST client: OAuth client credentials, Orders v2, idempotent capture and refunds,
and the look-ups (capture, order, refund, dispute) that confirm what a webhook only hints at.
Failures are classified here: timeouts, 5xx and 429 are technical (retried); other 4xx are logical,
and a 404 on a look-up is NotAtPayPal (the thing does not exist there)."""
from __future__ import annotations

import re
import time
from typing import Any

import httpx

from core.money import Money
from providers.errors import LogicalError, TechnicalError
from providers.paypal.protocol import (up_link_id, Capture, CheckoutOrder, CheckoutRequest, Dispute, NotAtPayPal, RefundRequest,
                                       RefundResult)

# PayPal's ids are upper-case letters, digits and dashes (dispute ids: PP-D-...); anything else
# (a webhook body's id with a slash in it) is not looked up at all.
_ID = re.compile(r"^[A-Z0-9-]{1,64}$")


def _money(amount: dict) -> Money:
    return Money.parse(amount["value"], amount["currency_code"])



def capture_of(body: dict, order_id: str = "") -> Capture:
    related = ((body.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id", "")
    return Capture(body["id"], body.get("status", ""), _money(body["amount"]),
                   related or up_link_id(body, "orders") or order_id)


def _first_capture(order: dict) -> Capture | None:
    for unit in order.get("purchase_units", []):
        for capture in (unit.get("payments") or {}).get("captures", []):
            return capture_of(capture, order["id"])
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
                       request_id: str | None = None, lookup: bool = False) -> tuple[int, dict]:
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
        if response.status_code == 404 and lookup:
            raise NotAtPayPal(f"PayPal has no {path}", code="RESOURCE_NOT_FOUND", provider="paypal")
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

    async def _lookup(self, path: str, resource_id: str) -> dict:
        if not _ID.match(resource_id or ""):
            raise NotAtPayPal(f"{resource_id[:40]!r} is not a PayPal id", code="RESOURCE_NOT_FOUND", provider="paypal")
        _, body = await self._request("GET", f"{path}/{resource_id}", lookup=True)
        return body

    async def get_order(self, order_id: str) -> dict:
        return await self._lookup("/v2/checkout/orders", order_id)

    async def get_order_capture(self, order_id: str) -> Capture | None:
        """The order's capture as PayPal has it (None: not captured yet)."""
        return _first_capture(await self.get_order(order_id))

    async def get_capture(self, capture_id: str) -> Capture:
        return capture_of(await self._lookup("/v2/payments/captures", capture_id))

    async def get_refund(self, refund_id: str) -> RefundResult:
        body = await self._lookup("/v2/payments/refunds", refund_id)
        return RefundResult(body["id"], body.get("status", ""), _money(body["amount"]), up_link_id(body, "captures"))

    async def get_dispute(self, dispute_id: str) -> Dispute:
        body = await self._lookup("/v1/customer/disputes", dispute_id)
        amount = body.get("dispute_amount")
        return Dispute(body.get("dispute_id", dispute_id), body.get("status", ""),
                       tuple(str(t.get("seller_transaction_id", "")) for t in body.get("disputed_transactions") or []
                             if t.get("seller_transaction_id")),
                       _money(amount) if amount else None, body.get("reason", ""),
                       body.get("dispute_life_cycle_stage", ""),
                       (body.get("dispute_outcome") or {}).get("outcome_code", ""))

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
        # A COMPLETED order can hold a DECLINED or FAILED capture: the caller decides by its status.
        return capture

    async def refund_capture(self, request: RefundRequest) -> RefundResult:
        """Refund part or all of a capture (always with an explicit amount, so a retry after a lost
        answer can never turn into a refund of whatever is left)."""
        payload = {"amount": {"currency_code": request.amount.currency, "value": request.amount.amount()},
                   "invoice_id": request.invoice_number, "note_to_payer": request.note_to_payer[:255]}
        _, body = await self._request("POST", f"/v2/payments/captures/{request.capture_id}/refund", json=payload,
                                      request_id=request.request_id)
        return RefundResult(body["id"], body.get("status", ""), _money(body["amount"]), request.capture_id)
