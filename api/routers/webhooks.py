"""Provider webhooks: PayPal events, verified by signature, each event id handled once, relayed to
the order's workflow (refunds recorded on the invoice); what matched nothing is kept for operators."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from temporalio.service import RPCError

from core.money import Money
from providers.paypal.webhook import WebhookRejected
from store import billing, orders, webhooks
from workflows.contracts import (
    CAPTURE_DENIED,
    CAPTURE_REPORTED,
    PAYPAL_APPROVED,
    CaptureDenied,
    CaptureReported,
    PayPalApproved,
    order_workflow_id,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
log = logging.getLogger("mailmarket.webhooks")


@router.post("/paypal")
async def paypal(request: Request):
    raw = await request.body()
    try:
        event = await request.app.state.verifier.verify(dict(request.headers), raw)
    except WebhookRejected as exc:
        log.warning("paypal webhook rejected: %s", exc)
        return JSONResponse({"code": "webhook_rejected", "message": f"Webhook rejected: {exc}", "field": None},
                            status_code=400)
    event_id, event_type = str(event.get("id", "")), str(event.get("event_type", ""))
    sessions = request.app.state.sessions
    if not await webhooks.first_time(sessions, "paypal", event_id, event_type):
        log.info("paypal webhook %s (%s) already handled", event_id, event_type)
        return {"outcome": "duplicate"}
    try:
        outcome = await _handle(request, event_type, event.get("resource") or {})
    except Exception:
        await webhooks.release(sessions, "paypal", event_id)  # PayPal retries; handle it afresh then
        raise
    await webhooks.set_outcome(sessions, "paypal", event_id, outcome)
    log.info("paypal webhook %s (%s): %s", event_id, event_type, outcome)
    return {"outcome": outcome}


def _related_order(resource: dict) -> str:
    return ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id", "")


def _capture_of_refund(resource: dict) -> str:
    for link in resource.get("links") or []:
        if link.get("rel") == "up" and "/captures/" in link.get("href", ""):
            return link["href"].rstrip("/").rsplit("/", 1)[-1]
    return ""


async def _handle(request: Request, event_type: str, resource: dict) -> str:
    """What the event means for us, relayed to the order's workflow; the outcome is kept for operators."""
    if event_type == "CHECKOUT.ORDER.APPROVED":
        paypal_order_id = resource.get("id", "")
        message = PAYPAL_APPROVED, PayPalApproved(paypal_order_id)
    elif event_type == "PAYMENT.CAPTURE.COMPLETED":
        paypal_order_id = _related_order(resource)
        amount = Money.parse(resource["amount"]["value"], resource["amount"]["currency_code"])
        message = CAPTURE_REPORTED, CaptureReported(paypal_order_id, resource.get("id", ""), amount.minor,
                                                    amount.currency)
    elif event_type == "PAYMENT.CAPTURE.DENIED":
        paypal_order_id = _related_order(resource)
        message = CAPTURE_DENIED, CaptureDenied(paypal_order_id, resource.get("id", ""))
    elif event_type == "PAYMENT.CAPTURE.REFUNDED":
        amount = Money.parse(resource["amount"]["value"], resource["amount"]["currency_code"])
        async with request.app.state.sessions.begin() as session:
            invoice = await billing.record_refund(session, capture_id=_capture_of_refund(resource),
                                                  refund_id=resource.get("id", ""), amount=amount,
                                                  refunded_at=datetime.now(timezone.utc))
        return f"refund_recorded invoice {invoice.number}" if invoice else "refund_unmatched"
    else:
        return "ignored"

    async with request.app.state.sessions() as session:
        order = await orders.order_by_paypal_id(session, paypal_order_id)
    if order is None:
        invoice = await request.app.state.billing.invoice_paypal_event(paypal_order_id, *message)
        if invoice is not None:
            return f"relayed to invoice {invoice.number}"
        # Answer 200 so PayPal stops retrying; operators see it on their payments page.
        return "unknown_order"
    try:
        await request.app.state.checkout.temporal.get_workflow_handle(order_workflow_id(order.id)).signal(*message)
    except RPCError as exc:
        log.info("paypal %s for order %s: workflow closed (%s)", event_type, order.id, exc.message)
        # our own capture's COMPLETED arrives after the order has finished: nothing to do
        return "already_settled" if order.status == "paid" else "order_closed"
    return f"relayed to order {order.id}"
