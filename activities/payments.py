"""PayPal steps: create the checkout order and capture it, with PayPal-Request-Id idempotency, and
read a capture back (what a webhook reported is only a hint)."""
from __future__ import annotations

from temporalio import activity

from activities.heartbeat import heartbeating
from temporalio.exceptions import ApplicationError

from core.money import Money
from core.statuses import PayPalCaptureStatus
from providers.errors import LogicalError
from providers.paypal.protocol import CheckoutRequest, NotAtPayPal, PaymentsAPI
from workflows.contracts import (CapturePayPalOrder, CaptureResult, ConfirmCapture, CreatePayPalOrder, PayPalCheckout, PayPalOrderRef,
                                 Refusal)

# PayPal issues after which the buyer must act again (approve with another funding source).
BUYER_MUST_ACT = {"INSTRUMENT_DECLINED", "PAYER_ACTION_REQUIRED", "ORDER_NOT_APPROVED", "PAYER_CANNOT_PAY",
                  "TRANSACTION_REFUSED", "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED"}


class PaymentActivities:
    def __init__(self, payments: PaymentsAPI):
        self._payments = payments

    @activity.defn(name="create_paypal_order")
    @heartbeating
    async def create_paypal_order(self, inp: CreatePayPalOrder) -> PayPalCheckout:
        try:
            order = await self._payments.create_order(CheckoutRequest(
                reference=inp.reference or str(inp.order_id), invoice_number=inp.invoice_number, description=inp.description,
                amount=Money(inp.amount_minor, inp.currency), return_url=inp.return_url,
                cancel_url=inp.cancel_url, request_id=inp.request_id))
        except LogicalError as exc:
            raise ApplicationError(exc.message, type=Refusal.PROVIDER_REFUSED, non_retryable=True) from exc
        return PayPalCheckout(order.id, order.approve_url)

    @activity.defn(name="capture_paypal_order")
    @heartbeating
    async def capture_paypal_order(self, inp: CapturePayPalOrder) -> CaptureResult:
        try:
            capture = await self._payments.capture_order(inp.paypal_order_id, inp.request_id)
        except LogicalError as exc:
            if exc.code in BUYER_MUST_ACT:
                raise ApplicationError("PayPal did not accept the payment; please approve it again, "
                                       "perhaps with another card.", type=Refusal.PAYMENT_DECLINED,
                                       non_retryable=True) from exc
            raise ApplicationError(exc.message, type=Refusal.PROVIDER_REFUSED, non_retryable=True) from exc
        return CaptureResult(capture.id, capture.status, capture.amount.minor, capture.amount.currency)

    @activity.defn(name="paypal_order_status")
    @heartbeating
    async def paypal_order_status(self, inp: PayPalOrderRef) -> str:
        """What PayPal says of one of our checkouts now (APPROVED, COMPLETED, PAYER_ACTION_REQUIRED, ...);
        "" when PayPal does not know it. Read only: an approval we were told of is checked here."""
        try:
            order = await self._payments.get_order(inp.paypal_order_id)
        except LogicalError:   # unknown to PayPal (a guessed id): nothing to capture
            return ""
        return str(order.get("status", ""))

    @activity.defn(name="confirm_paypal_capture")
    @heartbeating
    async def confirm_paypal_capture(self, inp: ConfirmCapture) -> CaptureResult:
        """The capture as PayPal has it: status, amount and currency from GET /v2/payments/captures/{id}
        (or the order's, when no capture id was given). NOT_FOUND when PayPal has no such capture, or
        it belongs to another PayPal order than this checkout's: nothing to take."""
        try:
            if inp.capture_id:
                capture = await self._payments.get_capture(inp.capture_id)
            else:
                capture = await self._payments.get_order_capture(inp.paypal_order_id)
        except NotAtPayPal:
            activity.logger.warning("PayPal has no capture %r (order %s)", inp.capture_id[:40], inp.paypal_order_id)
            return CaptureResult(inp.capture_id, PayPalCaptureStatus.NOT_FOUND, 0, "")
        except LogicalError as exc:
            raise ApplicationError(exc.message, type=Refusal.PROVIDER_REFUSED, non_retryable=True) from exc
        if capture is None:
            return CaptureResult("", PayPalCaptureStatus.NOT_FOUND, 0, "")
        if capture.order_id != inp.paypal_order_id:
            activity.logger.warning("capture %s belongs to PayPal order %s, not %s", capture.id, capture.order_id,
                                    inp.paypal_order_id)
            return CaptureResult(capture.id, PayPalCaptureStatus.NOT_FOUND, 0, "")
        return CaptureResult(capture.id, capture.status, capture.amount.minor, capture.amount.currency)
