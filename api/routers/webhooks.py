"""Provider webhooks: PayPal events, verified by signature and transmission time, each transmission
and each event id taken once, then handed on as a hint: capture events to the workflow taking that
invoice's payment (the gateway's handles say which), which reads the capture back from PayPal
before anything is paid; refunds, reversals and
disputes to a workflow of their own that reads them back and records them. What matched nothing is
kept for operators. Nothing here trusts the body beyond an id to look up: PayPal signs only its CRC32."""
from __future__ import annotations

import hashlib
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.schemas.common import refusals
from core.money import Money
from core.refusals import Refusals
from providers.paypal.protocol import up_link_id
from providers.paypal.webhook import WebhookRejected, transmission_time
from store import webhooks
from workflows.contracts import (
    CAPTURE_DENIED,
    CAPTURE_REPORTED,
    PAYPAL_APPROVED,
    CaptureDenied,
    CaptureReported,
    PayPalApproved,
    PayPalEvent,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
log = logging.getLogger("mailmarket.webhooks")

CAPTURE_HINTS = {"PAYMENT.CAPTURE.COMPLETED": CAPTURE_REPORTED, "PAYMENT.CAPTURE.PENDING": CAPTURE_REPORTED,
                 "PAYMENT.CAPTURE.DENIED": CAPTURE_DENIED, "PAYMENT.CAPTURE.DECLINED": CAPTURE_DENIED}
LOOKED_UP = ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED", "CUSTOMER.DISPUTE.CREATED",
             "CUSTOMER.DISPUTE.UPDATED", "CUSTOMER.DISPUTE.RESOLVED")


def _rejected(exc: WebhookRejected) -> JSONResponse:
    return JSONResponse({"code": exc.code, "message": f"Webhook rejected: {exc}", "field": exc.field},
                        status_code=400)


class WebhookOutcome(BaseModel):
    """What became of the delivery: `duplicate` (seen before), or where its hint went (`relayed to
    order N`, `relayed to invoice N`, `paypal event`, or why it matched nothing: kept for operators)."""
    outcome: str


@router.post("/paypal", response_model=WebhookOutcome,
             responses=refusals("webhook_rejected", "webhook_stale", "webhook_replayed"))
async def paypal(request: Request):
    """PayPal's webhook: verified offline (CRC32 + RSA-SHA256 with PayPal's certificate), fresh and
    once per transmission and per event id, then relayed to the workflow concerned as a hint (ids
    only; the workflow reads the truth back from PayPal). Answers 200 once handled or seen before."""
    raw = await request.body()
    try:
        event = await request.app.state.verifier.verify(dict(request.headers), raw)
    except WebhookRejected as exc:
        log.warning("paypal webhook rejected: %s", exc)
        return _rejected(exc)
    sessions = request.app.state.sessions
    transmission = request.headers["paypal-transmission-id"]
    seen = await webhooks.claim_transmission(sessions, transmission, hashlib.sha256(raw).hexdigest(),
                                             transmission_time(request.headers["paypal-transmission-time"]))
    if seen == "replayed":
        log.warning("paypal transmission %s reused with another body", transmission[:64])
        return _rejected(WebhookRejected("this transmission was received before with another body",
                                         Refusals.WEBHOOK_REPLAYED, "PAYPAL-TRANSMISSION-ID"))
    event_id, event_type = str(event.get("id", ""))[:120], str(event.get("event_type", ""))[:80]
    if seen == "same" or not await webhooks.first_time(sessions, "paypal", event_id, event_type):
        log.info("paypal webhook %s (%s) already handled", event_id, event_type)
        return {"outcome": "duplicate"}
    try:
        outcome = await _handle(request, event_id, event_type, event.get("resource") or {})
    except Exception:
        # PayPal retries; handle it afresh then
        await webhooks.release(sessions, "paypal", event_id)
        await webhooks.release_transmission(sessions, transmission)
        raise
    await webhooks.set_outcome(sessions, "paypal", event_id, outcome, only_received=True)
    log.info("paypal webhook %s (%s): %s", event_id, event_type, outcome)
    return {"outcome": outcome}



def related_order(resource: dict) -> str:
    """The PayPal order a capture event names: supplementary_data, or only its `up` link (real
    capture events may carry no supplementary_data)."""
    related = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id", "")
    return str(related or up_link_id(resource, "orders"))


def _reported(paypal_order_id: str, resource: dict) -> CaptureReported:
    # The amount is the body's claim, carried for the log only: the workflow takes PayPal's.
    try:
        amount = Money.parse(resource["amount"]["value"], resource["amount"]["currency_code"])
        minor, currency = amount.minor, amount.currency
    except (KeyError, TypeError, ValueError, ArithmeticError):
        minor, currency = 0, ""
    return CaptureReported(paypal_order_id, str(resource.get("id", "")), minor, currency)


async def _handle(request: Request, event_id: str, event_type: str, resource: dict) -> str:
    """What the event hints at, handed to the workflow that checks it with PayPal; the outcome is
    kept for operators."""
    if event_type in LOOKED_UP:
        resource_id = str(resource.get("dispute_id") or resource.get("id") or "")
        if not resource_id:
            return "unreadable"
        await request.app.state.checkout.gateway.start_paypal_event(PayPalEvent(event_id, event_type, resource_id))
        return "checking with paypal"
    if event_type == "CHECKOUT.ORDER.APPROVED":
        paypal_order_id = str(resource.get("id", ""))
        message = PAYPAL_APPROVED, PayPalApproved(paypal_order_id)
    elif event_type in CAPTURE_HINTS:
        paypal_order_id = related_order(resource)
        signal = CAPTURE_HINTS[event_type]
        message = signal, (_reported(paypal_order_id, resource) if signal == CAPTURE_REPORTED
                           else CaptureDenied(paypal_order_id, str(resource.get("id", ""))))
    else:
        return "ignored"
    if not paypal_order_id:
        return "unknown_order"
    return await request.app.state.billing.relay_paypal_hint(paypal_order_id, *message)
