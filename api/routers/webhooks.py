"""Provider webhooks: PayPal events, verified by signature, relayed to the order's workflow.
Redelivery is harmless: the workflow's handlers ignore what they have already seen."""
from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from temporalio.service import RPCError

from core.money import Money
from providers.paypal.webhook import WebhookRejected
from store import orders
from workflows.contracts import CAPTURE_REPORTED, PAYPAL_APPROVED, CaptureReported, PayPalApproved, order_workflow_id

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
    event_type, resource = event["event_type"], event.get("resource") or {}
    if event_type == "CHECKOUT.ORDER.APPROVED":
        paypal_order_id = resource.get("id", "")
        message = PAYPAL_APPROVED, PayPalApproved(paypal_order_id)
    elif event_type == "PAYMENT.CAPTURE.COMPLETED":
        paypal_order_id = ((resource.get("supplementary_data") or {}).get("related_ids") or {}).get("order_id", "")
        amount = Money.parse(resource["amount"]["value"], resource["amount"]["currency_code"])
        message = CAPTURE_REPORTED, CaptureReported(paypal_order_id, resource.get("id", ""), amount.minor,
                                                    amount.currency)
    else:
        log.info("paypal webhook %s (%s) needs no action", event["id"], event_type)
        return {"outcome": "ignored"}

    async with request.app.state.sessions() as session:
        order = await orders.order_by_paypal_id(session, paypal_order_id)
    if order is None:
        # Answer 200 so PayPal stops retrying; operators find it in the log by event id.
        log.warning("paypal webhook %s (%s) for unknown PayPal order %s", event["id"], event_type, paypal_order_id)
        return {"outcome": "unknown_order"}
    try:
        await request.app.state.checkout.temporal.get_workflow_handle(order_workflow_id(order.id)).signal(*message)
    except RPCError as exc:
        log.info("paypal webhook %s for order %s: workflow closed (%s)", event["id"], order.id, exc.message)
        return {"outcome": "order_closed"}
    log.info("paypal webhook %s (%s) relayed to order %s", event["id"], event_type, order.id)
    return {"outcome": "relayed"}
