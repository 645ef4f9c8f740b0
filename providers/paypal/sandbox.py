"""A PayPal REST sandbox: OAuth, Orders v2 with an approve page, captures, refunds, reversals and
disputes with their look-ups (GET capture, order, refund, dispute in the real shapes), PayPal-Request-Id
replay (the first answer again, 200 on a replayed success), and signed webhooks (its own self-signed
certificate, served at a cert URL).

Run alone: `python -m providers.paypal.sandbox --port 8104 --webhook-url http://127.0.0.1:8000/webhooks/paypal`.
Test levers (`POST /__sandbox/...`): `decline {"times": 1}` refuses the next capture with 422
INSTRUMENT_DECLINED; `pend {"times": 1}` holds the next capture PENDING; `capture_status {"status":
"FAILED"|"DECLINED", "times": 1}` answers the next capture 201 with that status; `refund_pending
{"times": 1}` holds the next refund PENDING; `refunds/{id}/settle {"outcome": "COMPLETED"|"FAILED"|
"CANCELLED"}`; `captures/{id}/settle`, `captures/{id}/reverse`, `captures/{id}/dispute`,
`disputes/{id}/update`, `disputes/{id}/resolve`; `intercept {"times": 1}` keeps the next deliveries
(body and headers) instead of sending them, as a listener on the wire would; `config
{"links_only": true}` sends capture events that name their order only in `links` (as real PayPal may).

It is one module over the ~500-line mark on purpose: every route shares one in-memory state and one
lock, as PayPal's resources (orders, captures, refunds, disputes) refer to one another.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import html
import json
import logging
import secrets
import string
import threading
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from core.statuses import PayPalCaptureStatus, PayPalDisputeStatus, PayPalOrderStatus, PayPalRefundStatus
from providers.paypal.webhook import signed_message
from providers.sandbox_kit import FaultPlan, sandbox_app, serve

log = logging.getLogger(__name__)
CERT_PATH = "/v1/notifications/certs/CERT-sandbox-0001"
# a capture money can still go back from; refunds that count against a capture; how a pending refund
# may settle; what a test may have the next capture answer
_REFUNDABLE = (PayPalCaptureStatus.COMPLETED, PayPalCaptureStatus.PARTIALLY_REFUNDED)
_HELD = (PayPalRefundStatus.COMPLETED, PayPalRefundStatus.PENDING)
_REFUND_ENDS = (PayPalRefundStatus.COMPLETED, PayPalRefundStatus.FAILED, PayPalRefundStatus.CANCELLED)
_CAPTURE_ANSWERS = (PayPalCaptureStatus.COMPLETED, PayPalCaptureStatus.PENDING, PayPalCaptureStatus.DECLINED,
                    PayPalCaptureStatus.FAILED)


def _id(n: int = 17) -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(n))


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, name: str, issue: str, description: str) -> JSONResponse:
    return JSONResponse({"name": name, "message": description, "debug_id": _id(13),
                         "details": [{"issue": issue, "description": description}]}, status_code=status)


def _signing_material() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.sandbox.paypal.test")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365))
            .sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM)


class PayPalState:
    def __init__(self, client_id: str, secret: str, webhook_url: str, webhook_id: str):
        self.lock = threading.Lock()
        self.client_id, self.secret = client_id, secret
        self.webhook_url, self.webhook_id = webhook_url, webhook_id
        self.tokens: set[str] = set()
        self.orders: dict[str, dict] = {}
        self.idempotent: dict[tuple[str, str], tuple[int, dict]] = {}
        self.captures: list[dict] = []
        self.deliveries: list[dict] = []
        self.decline_next = 0
        self.pend_next = 0                         # captures held PENDING (an eCheck, a review)
        self.capture_objects: dict[str, dict] = {}
        self.refunds: list[dict] = []
        self.sent: dict[str, tuple[dict, str]] = {}    # event id -> (event, base), for redelivery
        self.capture_status_next: list[str] = []       # statuses the next captures answer with (201)
        self.refund_pend_next = 0
        self.disputes: dict[str, dict] = {}
        self.intercept_next = 0
        self.intercepted: list[dict] = []              # deliveries kept, not sent: {raw, headers}
        self.links_only = False
        self.key, self.cert_pem = _signing_material()

    def snapshot(self) -> dict:
        with self.lock:
            return {"orders": {k: {"status": v["status"], "amount": v["purchase_units"][0]["amount"]}
                               for k, v in self.orders.items()},
                    "captures": list(self.captures), "deliveries": list(self.deliveries),
                    "refunds": list(self.refunds), "disputes": list(self.disputes.values()),
                    "intercepted": list(self.intercepted),
                    "webhook_url": self.webhook_url}

    def reset(self) -> None:
        with self.lock:
            self.orders.clear(); self.idempotent.clear(); self.captures.clear()
            self.deliveries.clear(); self.decline_next = 0; self.pend_next = 0
            self.capture_objects.clear(); self.refunds.clear(); self.sent.clear()
            self.capture_status_next.clear(); self.refund_pend_next = 0; self.disputes.clear()
            self.intercept_next = 0; self.intercepted.clear(); self.links_only = False


def create_app(client_id: str = "sandbox-client", secret: str = "sandbox-secret",
               webhook_url: str = "", webhook_id: str = "WHSANDBOX0001") -> Starlette:
    state = PayPalState(client_id, secret, webhook_url, webhook_id)
    plan = FaultPlan()
    background: set[asyncio.Task] = set()

    def authorized(request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in state.tokens

    async def token(request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"{state.client_id}:{state.secret}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse({"error": "invalid_client", "error_description": "Client Authentication failed"}, status_code=401)
        access = "A21AA" + _id(40)
        state.tokens.add(access)
        return JSONResponse({"scope": "https://uri.paypal.com/services/payments/payment", "access_token": access,
                             "token_type": "Bearer", "app_id": "APP-SANDBOX", "expires_in": 32400, "nonce": _id(20)})

    def order_view(order: dict, base: str) -> dict:
        oid = order["id"]
        links = [{"href": f"{base}/v2/checkout/orders/{oid}", "rel": "self", "method": "GET"}]
        if order["status"] in (PayPalOrderStatus.CREATED, PayPalOrderStatus.PAYER_ACTION_REQUIRED):
            links.append({"href": f"{base}/checkoutnow?token={oid}", "rel": "payer-action", "method": "GET"})
        if order["status"] == PayPalOrderStatus.APPROVED:
            links.append({"href": f"{base}/v2/checkout/orders/{oid}/capture", "rel": "capture", "method": "POST"})
        view = {k: v for k, v in order.items() if not k.startswith("_")}
        view["purchase_units"] = [
            {**unit, "payments": {"captures": [{k: v for k, v in cap.items() if k not in ("supplementary_data", "payee")}
                                               for cap in unit["payments"]["captures"]]}}
            if unit.get("payments") else unit for unit in order["purchase_units"]]
        view["links"] = links
        return view

    async def create_order(request: Request) -> Response:
        if not authorized(request):
            return _error(401, "AUTHENTICATION_FAILURE", "INVALID_TOKEN", "Authentication failed due to invalid authentication credentials.")
        rid = request.headers.get("paypal-request-id")
        base = str(request.base_url).rstrip("/")
        with state.lock:
            if rid and ("create", rid) in state.idempotent:
                _, body = state.idempotent[("create", rid)]
                return JSONResponse(body, status_code=200)
        body = await request.json()
        units = body.get("purchase_units") or []
        if body.get("intent") != "CAPTURE" or not units or "amount" not in units[0]:
            return _error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "intent and purchase_units[0].amount are required.")
        context = ((body.get("payment_source") or {}).get("paypal") or {}).get("experience_context") or {}
        order = {"id": _id(), "intent": "CAPTURE", "status": PayPalOrderStatus.PAYER_ACTION_REQUIRED,
                 "purchase_units": units, "create_time": _now(),
                 "_return_url": context.get("return_url", ""), "_cancel_url": context.get("cancel_url", "")}
        with state.lock:
            state.orders[order["id"]] = order
            view = order_view(order, base)
            if rid:
                state.idempotent[("create", rid)] = (201, view)
        return JSONResponse(view, status_code=201)

    async def get_order(request: Request) -> Response:
        if not authorized(request):
            return _error(401, "AUTHENTICATION_FAILURE", "INVALID_TOKEN", "Authentication failed.")
        order = state.orders.get(request.path_params["oid"])
        if not order:
            return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
        return JSONResponse(order_view(order, str(request.base_url).rstrip("/")))

    def remember(rid: str, op: str, status: int, body: dict) -> None:
        """A PayPal-Request-Id's first answer, errors included: a repeat gets it again (§4.7)."""
        if rid:
            state.idempotent[(op, rid)] = (status, body)

    def replayed(rid: str, op: str) -> Response | None:
        if rid and (op, rid) in state.idempotent:
            status, body = state.idempotent[(op, rid)]
            return JSONResponse(body, status_code=200 if status < 300 else status)
        return None

    def refused(rid: str, op: str, status: int, name: str, issue: str, description: str) -> JSONResponse:
        response = _error(status, name, issue, description)
        remember(rid, op, status, json.loads(response.body))
        return response

    async def capture(request: Request) -> Response:
        if not authorized(request):
            return _error(401, "AUTHENTICATION_FAILURE", "INVALID_TOKEN", "Authentication failed.")
        oid = request.path_params["oid"]
        rid = request.headers.get("paypal-request-id") or ""
        base = str(request.base_url).rstrip("/")
        with state.lock:
            again = replayed(rid, "capture")
            if again is not None:
                return again
            order = state.orders.get(oid)
            if not order:
                return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
            if order["status"] == PayPalOrderStatus.COMPLETED:
                return refused(rid, "capture", 422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED", "Order already captured.")
            if order["status"] != PayPalOrderStatus.APPROVED:
                return refused(rid, "capture", 422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED",
                               "Payer has not yet approved the Order for payment.")
            if state.decline_next:
                state.decline_next -= 1
                order["status"] = PayPalOrderStatus.PAYER_ACTION_REQUIRED  # the buyer may pick another funding source
                return refused(rid, "capture", 422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED",
                               "The instrument presented was either declined by the processor or bank, or it "
                               "can't be used for this payment.")
            unit = order["purchase_units"][0]
            pending = state.pend_next > 0
            state.pend_next -= 1 if pending else 0
            status = state.capture_status_next.pop(0) if state.capture_status_next else (
                PayPalCaptureStatus.PENDING if pending else PayPalCaptureStatus.COMPLETED)
            cid = _id()
            cap = {"id": cid, "status": status, "amount": unit["amount"],
                   "final_capture": True,
                   "custom_id": unit.get("custom_id", ""), "invoice_id": unit.get("invoice_id", ""),
                   "seller_protection": {"status": "ELIGIBLE"},
                   "supplementary_data": {"related_ids": {"order_id": oid}},
                   "payee": {"email_address": "merchant@sandbox.paypal.test", "merchant_id": "SANDBOXMERCHANT"},
                   "create_time": _now(), "update_time": _now(),
                   "links": [{"rel": "self", "method": "GET", "href": f"{base}/v2/payments/captures/{cid}"},
                             {"rel": "refund", "method": "POST", "href": f"{base}/v2/payments/captures/{cid}/refund"},
                             {"rel": "up", "method": "GET", "href": f"{base}/v2/checkout/orders/{oid}"}]}
            if status == PayPalCaptureStatus.PENDING:
                cap["status_details"] = {"reason": "ECHECK"}
            order["status"] = PayPalOrderStatus.COMPLETED
            unit["payments"] = {"captures": [cap]}
            state.capture_objects[cid] = cap
            state.captures.append({"id": cid, "order_id": oid, "amount": unit["amount"], "request_id": rid,
                                   "status": status})
            view = order_view(order, base)
            remember(rid, "capture", 201, view)
        if status == PayPalCaptureStatus.COMPLETED:
            schedule_delivery(capture_event(cap, "PAYMENT.CAPTURE.COMPLETED"), base)
        elif status == PayPalCaptureStatus.PENDING:
            schedule_delivery(capture_event(cap, "PAYMENT.CAPTURE.PENDING"), base)
        elif status == PayPalCaptureStatus.DECLINED:
            schedule_delivery(capture_event(cap, "PAYMENT.CAPTURE.DENIED"), base)
        return JSONResponse(view, status_code=201)

    def look_up(request: Request, find, view) -> Response:
        """One GET of a resource by id, as PayPal answers it: 401 without a token, 404 for an unknown id."""
        if not authorized(request):
            return _error(401, "AUTHENTICATION_FAILURE", "INVALID_TOKEN", "Authentication failed.")
        with state.lock:
            found = find()
            if found is None:
                return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
            return JSONResponse(view(found))

    def copy(obj: dict) -> dict:
        return json.loads(json.dumps(obj))

    async def get_capture(request: Request) -> Response:
        """GET /v2/payments/captures/{id}: capture-2, with supplementary_data and payee (§4.2)."""
        return look_up(request, lambda: state.capture_objects.get(request.path_params["cid"]), copy)

    async def get_refund(request: Request) -> Response:
        return look_up(request, lambda: next((r for r in state.refunds if r["id"] == request.path_params["rid"]), None),
                       refund_view)

    async def get_dispute(request: Request) -> Response:
        return look_up(request, lambda: state.disputes.get(request.path_params["did"]), copy)

    def refund_view(ref: dict) -> dict:
        return {k: v for k, v in ref.items() if not k.startswith("_") and k != "capture_id"}

    def capture_event(cap: dict, event_type: str) -> dict:
        amount = cap["amount"]
        resource = json.loads(json.dumps(cap))
        refund_like = event_type.endswith(("REFUNDED", "REVERSED"))
        if state.links_only and not refund_like:
            resource.pop("supplementary_data", None)
        return {"id": "WH-" + _id(20), "event_version": "1.0", "resource_version": "2.0", "create_time": _now(),
                "resource_type": "refund" if refund_like else "capture",
                "event_type": event_type,
                "summary": f"{event_type} for {amount['value']} {amount['currency_code']}", "resource": resource}

    def dispute_event(dispute: dict, event_type: str) -> dict:
        return {"id": "WH-" + _id(20), "event_version": "1.0", "resource_version": "1.0", "create_time": _now(),
                "resource_type": "dispute", "event_type": event_type,
                "summary": f"Dispute {dispute['dispute_id']}: {event_type}", "resource": json.loads(json.dumps(dispute))}

    async def settle(request: Request) -> Response:
        """Sandbox only: PayPal's verdict on a PENDING capture, COMPLETED or DENIED, sent by webhook."""
        body = await request.json()
        outcome = body.get("outcome", "COMPLETED")
        with state.lock:
            cap = state.capture_objects.get(request.path_params["cid"])
            if cap is None or cap["status"] != PayPalCaptureStatus.PENDING or outcome not in (
                    PayPalCaptureStatus.COMPLETED, "DENIED"):
                return _error(422, "UNPROCESSABLE_ENTITY", "INVALID_STATE", "Only a PENDING capture can settle.")
            # DENIED is the event, not a status
            cap["status"] = PayPalCaptureStatus.DECLINED if outcome == "DENIED" else outcome
            cap["update_time"] = _now()
            cap.pop("status_details", None)
            event = capture_event(cap, f"PAYMENT.CAPTURE.{outcome}")
        schedule_delivery(event, str(request.base_url).rstrip("/"))
        return JSONResponse(cap)

    def cents(value: str) -> int:
        return int(round(float(value) * 100))  # sandbox arithmetic on 2-decimal strings

    def refunded_of(cap: dict) -> int:
        """What of a capture went back (refunds and reversals that did not fail)."""
        return sum(cents(r["amount"]["value"]) for r in state.refunds
                   if r["capture_id"] == cap["id"] and r["status"] in _HELD)

    def settle_capture_status(cap: dict) -> None:
        done = sum(cents(r["amount"]["value"]) for r in state.refunds
                   if r["capture_id"] == cap["id"] and r["status"] == PayPalRefundStatus.COMPLETED)
        if done:
            whole = done >= cents(cap["amount"]["value"])
            cap["status"] = PayPalCaptureStatus.REFUNDED if whole else PayPalCaptureStatus.PARTIALLY_REFUNDED
        cap["update_time"] = _now()

    def new_refund(cap: dict, wanted: int, status: str, base: str, note: str = "") -> dict:
        rid = _id()
        amount = {"currency_code": cap["amount"]["currency_code"], "value": f"{wanted / 100:.2f}"}
        ref = {"id": rid, "status": status, "amount": amount, "capture_id": cap["id"],
               "invoice_id": cap.get("invoice_id", ""), "custom_id": cap.get("custom_id", ""),
               "seller_payable_breakdown": {"gross_amount": amount,
                                            "total_refunded_amount": amount},
               "create_time": _now(), "update_time": _now(),
               "links": [{"rel": "self", "method": "GET", "href": f"{base}/v2/payments/refunds/{rid}"},
                         {"rel": "up", "method": "GET", "href": f"{base}/v2/payments/captures/{cap['id']}"}]}
        if note:
            ref["note_to_payer"] = note
        if status == PayPalRefundStatus.PENDING:
            ref["status_details"] = {"reason": "ECHECK"}
        state.refunds.append(ref)
        return ref

    async def refund(request: Request) -> Response:
        """POST /v2/payments/captures/{id}/refund: full when no amount is given, else partial."""
        if not authorized(request):
            return _error(401, "AUTHENTICATION_FAILURE", "INVALID_TOKEN", "Authentication failed.")
        rid = request.headers.get("paypal-request-id") or ""
        base = str(request.base_url).rstrip("/")
        body = await request.json() if await request.body() else {}
        with state.lock:
            again = replayed(rid, "refund")
            if again is not None:
                return again
            cap = state.capture_objects.get(request.path_params["cid"])
            if cap is None:
                return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
            if cap["status"] not in _REFUNDABLE:
                return refused(rid, "refund", 422, "UNPROCESSABLE_ENTITY",
                               "CAPTURE_FULLY_REFUNDED" if cap["status"] == PayPalCaptureStatus.REFUNDED else
                               "PENDING_CAPTURE" if cap["status"] == PayPalCaptureStatus.PENDING else
                               "INVALID_RESOURCE_ID",
                               "The capture cannot be refunded.")
            already = refunded_of(cap)
            wanted = cents(body["amount"]["value"]) if body.get("amount") else cents(cap["amount"]["value"]) - already
            if wanted <= 0 or already + wanted > cents(cap["amount"]["value"]):
                return refused(rid, "refund", 422, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED",
                               "The refund amount must be less than or equal to the capture amount that has not "
                               "yet been refunded.")
            pending = state.refund_pend_next > 0
            state.refund_pend_next -= 1 if pending else 0
            ref = new_refund(cap, wanted, PayPalRefundStatus.PENDING if pending else PayPalRefundStatus.COMPLETED, base)
            settle_capture_status(cap)
            view = refund_view(ref)
            remember(rid, "refund", 201, view)
        if not pending:
            schedule_delivery(capture_event(view, "PAYMENT.CAPTURE.REFUNDED"), base)
        return JSONResponse(view, status_code=201)

    async def settle_refund(request: Request) -> Response:
        """Sandbox only: PayPal's verdict on a PENDING refund; COMPLETED is told by webhook."""
        outcome = (await request.json()).get("outcome", "COMPLETED")
        base = str(request.base_url).rstrip("/")
        with state.lock:
            ref = next((r for r in state.refunds if r["id"] == request.path_params["rid"]), None)
            if ref is None or ref["status"] != PayPalRefundStatus.PENDING or outcome not in _REFUND_ENDS:
                return _error(422, "UNPROCESSABLE_ENTITY", "INVALID_STATE", "Only a PENDING refund can settle.")
            ref["status"], ref["update_time"] = outcome, _now()
            ref.pop("status_details", None)
            settle_capture_status(state.capture_objects[ref["capture_id"]])
            view = refund_view(ref)
        if outcome == PayPalRefundStatus.COMPLETED:
            schedule_delivery(capture_event(view, "PAYMENT.CAPTURE.REFUNDED"), base)
        return JSONResponse(view)

    async def reverse(request: Request) -> Response:
        """Sandbox only: PayPal takes the money back (a chargeback): PAYMENT.CAPTURE.REVERSED, whose
        resource is a refund object (§4.5), also served at GET /v2/payments/refunds/{id}."""
        body = await request.json() if await request.body() else {}
        base = str(request.base_url).rstrip("/")
        with state.lock:
            cap = state.capture_objects.get(request.path_params["cid"])
            if cap is None or cap["status"] not in _REFUNDABLE:
                return _error(422, "UNPROCESSABLE_ENTITY", "INVALID_STATE", "Only a completed capture can be reversed.")
            left = cents(cap["amount"]["value"]) - refunded_of(cap)
            wanted = cents(body["value"]) if body.get("value") else left
            ref = new_refund(cap, min(wanted, left), PayPalRefundStatus.COMPLETED, base, note="Payment reversed")
            ref["_reversal"] = True
            settle_capture_status(cap)
            cap["status_details"] = {"reason": body.get("reason", "CHARGEBACK")}
            view = refund_view(ref)
        schedule_delivery(capture_event(view, "PAYMENT.CAPTURE.REVERSED"), base)
        return JSONResponse(view)

    async def open_dispute(request: Request) -> Response:
        """Sandbox only: the buyer opens a dispute on a capture: CUSTOMER.DISPUTE.CREATED (§4.6)."""
        body = await request.json() if await request.body() else {}
        base = str(request.base_url).rstrip("/")
        with state.lock:
            cap = state.capture_objects.get(request.path_params["cid"])
            if cap is None:
                return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
            did = f"PP-D-{_id(9)}"
            dispute = {"dispute_id": did, "create_time": _now(), "update_time": _now(),
                       "disputed_transactions": [{"seller_transaction_id": cap["id"],
                                                  "invoice_number": cap.get("invoice_id", ""),
                                                  "custom": cap.get("custom_id", ""),
                                                  "seller": {"merchant_id": "SANDBOXMERCHANT"},
                                                  "gross_amount": cap["amount"], "items": [],
                                                  "seller_protection_eligible": True}],
                       "reason": body.get("reason", "MERCHANDISE_OR_SERVICE_NOT_RECEIVED"),
                       "status": PayPalDisputeStatus.OPEN,
                       "dispute_amount": body.get("amount") or cap["amount"],
                       "dispute_life_cycle_stage": "INQUIRY", "dispute_channel": "INTERNAL",
                       "links": [{"href": f"{base}/v1/customer/disputes/{did}", "rel": "self", "method": "GET"}]}
            state.disputes[did] = dispute
        schedule_delivery(dispute_event(dispute, "CUSTOMER.DISPUTE.CREATED"), base)
        return JSONResponse(dispute)

    async def change_dispute(request: Request) -> Response:
        """Sandbox only: `update` ({"status", "stage"}) or `resolve` ({"outcome_code"}) a dispute."""
        body = await request.json() if await request.body() else {}
        base = str(request.base_url).rstrip("/")
        action = request.path_params["action"]
        with state.lock:
            dispute = state.disputes.get(request.path_params["did"])
            if dispute is None or action not in ("update", "resolve"):
                return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
            if action == "resolve":
                dispute["status"] = PayPalDisputeStatus.RESOLVED
                dispute["dispute_outcome"] = {"outcome_code": body.get("outcome_code", "RESOLVED_SELLER_FAVOUR")}
            else:
                dispute["status"] = body.get("status", "UNDER_REVIEW")
                dispute["dispute_life_cycle_stage"] = body.get("stage", dispute["dispute_life_cycle_stage"])
            dispute["update_time"] = _now()
            event = dispute_event(dispute, "CUSTOMER.DISPUTE.RESOLVED" if action == "resolve"
                                  else "CUSTOMER.DISPUTE.UPDATED")
        schedule_delivery(event, base)
        return JSONResponse(dispute)

    def schedule_delivery(event: dict, base: str) -> None:
        with state.lock:
            state.sent[event["id"]] = (event, base)
        task = asyncio.create_task(deliver(event, base))
        background.add(task)  # keep a reference until it is done
        task.add_done_callback(background.discard)

    async def deliver(event: dict, base: str) -> None:
        raw = json.dumps(event).encode()
        tid, ttime = str(uuid.uuid4()), _now()
        sig = state.key.sign(signed_message(tid, ttime, state.webhook_id, raw), padding.PKCS1v15(), hashes.SHA256())
        headers = {"Content-Type": "application/json", "PAYPAL-TRANSMISSION-ID": tid,
                   "PAYPAL-TRANSMISSION-TIME": ttime, "PAYPAL-TRANSMISSION-SIG": base64.b64encode(sig).decode(),
                   "PAYPAL-CERT-URL": base + CERT_PATH, "PAYPAL-AUTH-ALGO": "SHA256withRSA"}
        with state.lock:
            if state.intercept_next:   # kept as a listener on the wire would keep it, never sent
                state.intercept_next -= 1
                state.intercepted.append({"event_id": event["id"], "event_type": event["event_type"],
                                          "raw": raw.decode(), "headers": headers})
                return
        if not state.webhook_url:
            return
        async with httpx.AsyncClient(timeout=10) as http:
            for attempt in range(5):  # PayPal retries non-2xx; a short version of its schedule
                try:
                    response = await http.post(state.webhook_url, content=raw, headers=headers)
                    status = response.status_code
                except httpx.HTTPError as exc:
                    status = 0
                    log.warning("webhook delivery failed: %s", exc.__class__.__name__)
                with state.lock:
                    state.deliveries.append({"event_id": event["id"], "event_type": event["event_type"], "status": status})
                if 200 <= status < 300:
                    return
                await asyncio.sleep(0.5 * 2 ** attempt)

    async def cert(_request: Request) -> Response:
        return Response(state.cert_pem, media_type="application/x-pem-file")

    async def checkout_page(request: Request) -> Response:
        order = state.orders.get(request.query_params.get("token", ""))
        if not order:
            return HTMLResponse("<h1>This checkout link is not valid.</h1>", status_code=404)
        amount = order["purchase_units"][0]["amount"]
        desc = html.escape(order["purchase_units"][0].get("description", ""))
        oid = html.escape(order["id"])
        return HTMLResponse(f"""<!doctype html><html><head><title>PayPal Sandbox checkout</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto}}button{{font-size:1.1rem;padding:.6rem 1.2rem;margin:.3rem}}</style></head>
<body><h1>PayPal Sandbox</h1><p>{desc}</p><p>Pay <strong>{html.escape(amount['value'])} {html.escape(amount['currency_code'])}</strong></p>
<form method="post" action="/checkoutnow/decide"><input type="hidden" name="token" value="{oid}">
<button name="decision" value="approve" id="approve">Approve payment</button>
<button name="decision" value="cancel" id="cancel">Cancel and return</button></form></body></html>""")

    async def checkout_decide(request: Request) -> Response:
        form = await request.form()
        with state.lock:
            order = state.orders.get(str(form.get("token", "")))
            if not order:
                return HTMLResponse("<h1>This checkout link is not valid.</h1>", status_code=404)
            approved = form.get("decision") == "approve"
            if approved:
                if order["status"] in (PayPalOrderStatus.CREATED, PayPalOrderStatus.PAYER_ACTION_REQUIRED):
                    order["status"] = PayPalOrderStatus.APPROVED
                target = order["_return_url"]
                query = {"token": order["id"], "PayerID": "SANDBOXPAYER1"}
                event = {"id": "WH-" + _id(20), "event_version": "1.0", "resource_version": "2.0",
                         "create_time": _now(), "resource_type": "checkout-order",
                         "event_type": "CHECKOUT.ORDER.APPROVED", "summary": "An order has been approved by buyer",
                         "resource": {"id": order["id"], "status": PayPalOrderStatus.APPROVED, "intent": "CAPTURE",
                                      "purchase_units": order["purchase_units"]}}
            else:
                target = order["_cancel_url"]
                query = {"token": order["id"]}
        if approved:
            schedule_delivery(event, str(request.base_url).rstrip("/"))
        sep = "&" if "?" in target else "?"
        return RedirectResponse(f"{target}{sep}{urlencode(query)}", status_code=303)

    def next_times(attr: str):
        """A handler arming the next `times` requests (default 1) of one kind: `{"times": n}`."""
        async def arm(request: Request) -> Response:
            body = await request.json()
            with state.lock:
                setattr(state, attr, int(body.get("times", 1)))
            return JSONResponse({attr: getattr(state, attr)})
        return arm

    set_decline = next_times("decline_next")
    set_pend = next_times("pend_next")
    set_refund_pending = next_times("refund_pend_next")
    set_intercept = next_times("intercept_next")

    async def redeliver(request: Request) -> Response:
        """Sandbox only: send an event again, as PayPal does when it is unsure it was received."""
        with state.lock:
            found = state.sent.get(request.path_params["eid"])
        if found is None:
            return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "No such event.")
        await deliver(*found)
        return JSONResponse({"redelivered": request.path_params["eid"]})

    async def set_capture_status(request: Request) -> Response:
        body = await request.json()
        status = body.get("status", "FAILED")
        if status not in _CAPTURE_ANSWERS:
            return _error(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "status")
        with state.lock:
            state.capture_status_next = [status] * int(body.get("times", 1))
        return JSONResponse({"capture_status_next": state.capture_status_next})

    async def configure(request: Request) -> Response:
        body = await request.json()
        with state.lock:
            state.webhook_url = body.get("webhook_url", state.webhook_url)
            state.webhook_id = body.get("webhook_id", state.webhook_id)
            state.links_only = bool(body.get("links_only", state.links_only))
        return JSONResponse({"webhook_url": state.webhook_url, "links_only": state.links_only})

    return sandbox_app(plan, state, [
        Route("/v1/oauth2/token", token, methods=["POST"]),
        Route("/v2/checkout/orders", create_order, methods=["POST"]),
        Route("/v2/checkout/orders/{oid}", get_order, methods=["GET"]),
        Route("/v2/checkout/orders/{oid}/capture", capture, methods=["POST"]),
        Route(CERT_PATH, cert, methods=["GET"]),
        Route("/checkoutnow", checkout_page, methods=["GET"]),
        Route("/checkoutnow/decide", checkout_decide, methods=["POST"]),
        Route("/v2/payments/captures/{cid}", get_capture, methods=["GET"]),
        Route("/v2/payments/captures/{cid}/refund", refund, methods=["POST"]),
        Route("/v2/payments/refunds/{rid}", get_refund, methods=["GET"]),
        Route("/v1/customer/disputes/{did}", get_dispute, methods=["GET"]),
        Route("/__sandbox/capture_status", set_capture_status, methods=["POST"]),
        Route("/__sandbox/refund_pending", set_refund_pending, methods=["POST"]),
        Route("/__sandbox/refunds/{rid}/settle", settle_refund, methods=["POST"]),
        Route("/__sandbox/captures/{cid}/reverse", reverse, methods=["POST"]),
        Route("/__sandbox/captures/{cid}/dispute", open_dispute, methods=["POST"]),
        Route("/__sandbox/disputes/{did}/{action}", change_dispute, methods=["POST"]),
        Route("/__sandbox/intercept", set_intercept, methods=["POST"]),
        Route("/__sandbox/decline", set_decline, methods=["POST"]),
        Route("/__sandbox/pend", set_pend, methods=["POST"]),
        Route("/__sandbox/events/{eid}/redeliver", redeliver, methods=["POST"]),
        Route("/__sandbox/captures/{cid}/settle", settle, methods=["POST"]),
        Route("/__sandbox/config", configure, methods=["POST"]),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8104)
    parser.add_argument("--client-id", default="sandbox-client")
    parser.add_argument("--secret", default="sandbox-secret")
    parser.add_argument("--webhook-url", default="")
    parser.add_argument("--webhook-id", default="WHSANDBOX0001")
    args = parser.parse_args()
    serve(create_app(args.client_id, args.secret, args.webhook_url, args.webhook_id), args.port)


if __name__ == "__main__":
    main()
