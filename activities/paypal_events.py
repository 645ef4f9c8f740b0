"""PayPal events that are not a checkout's, settled from what PayPal's look-ups say (never from the
webhook body): refunds made at PayPal or completing one of ours, reversals, disputes."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from core.statuses import PayPalDisputeStatus, PayPalRefundStatus
from providers.paypal.protocol import LogicalError, NotAtPayPal, PaymentsAPI
from store import billing, paypal_cases, webhooks
from store.models import Invoice
from workflows.contracts import (PayPalEvent, PayPalEventOutcome, Refusal, SendNotification, refund_workflow_id)

REFUND_EVENTS = ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED")
DISPUTE_EVENTS = ("CUSTOMER.DISPUTE.CREATED", "CUSTOMER.DISPUTE.UPDATED", "CUSTOMER.DISPUTE.RESOLVED")


class PayPalEventActivities:
    def __init__(self, payments: PaymentsAPI, sessions: async_sessionmaker[AsyncSession], base_url: str = ""):
        self._paypal, self._sessions, self._base_url = payments, sessions, base_url.rstrip("/")

    @activity.defn(name="settle_paypal_event")
    @heartbeating
    async def settle_paypal_event(self, event: PayPalEvent) -> PayPalEventOutcome:
        """Look the event's resource up at PayPal, record what PayPal says, and keep the outcome on the
        webhook event for operators. Repeatable: every record is keyed by PayPal's own id."""
        try:
            if event.event_type in REFUND_EVENTS:
                outcome = await self._refund(event)
            elif event.event_type in DISPUTE_EVENTS:
                outcome = await self._dispute(event)
            else:
                outcome = PayPalEventOutcome("ignored")
        except NotAtPayPal:
            activity.logger.warning("PayPal event %s: %s %r is not at PayPal", event.event_id, event.event_type,
                                    event.resource_id[:40])
            outcome = PayPalEventOutcome("not_at_paypal")
        except LogicalError as exc:
            raise ApplicationError(exc.message, type=Refusal.PROVIDER_REFUSED, non_retryable=True) from exc
        await webhooks.set_outcome(self._sessions, "paypal", event.event_id, outcome.outcome)
        return outcome

    async def _refund(self, event: PayPalEvent) -> PayPalEventOutcome:
        truth = await self._paypal.get_refund(event.resource_id)
        now = datetime.now(timezone.utc)
        reversal = event.event_type == "PAYMENT.CAPTURE.REVERSED"
        async with self._sessions.begin() as session:
            # one of our refunds (perhaps held PENDING until now), whichever event named it
            ours = await billing.refund_by_paypal_id(session, truth.id)
            if ours is not None:
                wake = ""
                if truth.status == PayPalRefundStatus.COMPLETED:
                    invoice = await billing.complete_refund(session, refund_id=ours.id, paypal_refund_id=truth.id,
                                                            now=now)
                    outcome = f"refund_recorded invoice {invoice.number}"
                elif truth.status in (PayPalRefundStatus.FAILED, PayPalRefundStatus.CANCELLED):
                    await billing.fail_refund(session, refund_id=ours.id, message=f"PayPal answered {truth.status}")
                    outcome = f"refund_failed {truth.status}"
                else:
                    outcome = "refund_pending"
                invoice = await session.get(Invoice, ours.invoice_id)
                if invoice is not None:
                    wake = refund_workflow_id(invoice.number, ours.key)
                return PayPalEventOutcome(outcome, wake_refund=wake)
            if truth.status != PayPalRefundStatus.COMPLETED:
                return PayPalEventOutcome(f"{'reversal' if reversal else 'refund'}_{truth.status.lower() or 'unknown'}")
            if reversal:
                invoice, new = await paypal_cases.record_reversal(session, capture_id=truth.capture_id,
                                                                  reversal_id=truth.id, amount=truth.amount, at=now)
            else:
                invoice, new = await billing.record_refund(session, capture_id=truth.capture_id, refund_id=truth.id,
                                                           amount=truth.amount, refunded_at=now), False
        if not reversal:
            return PayPalEventOutcome(f"refund_recorded invoice {invoice.number}" if invoice else "refund_unmatched")
        notify = SendNotification(
            key=f"paypal:reversal:{truth.id}", template="paypal_reversal_staff", to="", client_id=None, to_staff=True,
            context={"reversal": truth.id, "capture": truth.capture_id, "amount": truth.amount.display(),
                     "invoice": invoice.number if invoice else "", "billing_url": f"{self._base_url}/operator/billing"}
        ) if new else None
        return PayPalEventOutcome(f"reversal_recorded invoice {invoice.number}" if invoice else "reversal_unmatched",
                                  notify)

    async def _dispute(self, event: PayPalEvent) -> PayPalEventOutcome:
        truth = await self._paypal.get_dispute(event.resource_id)
        async with self._sessions.begin() as session:
            case, invoice, changed = await paypal_cases.record_dispute(
                session, dispute_id=truth.id, capture_ids=truth.capture_ids, status=truth.status,
                amount=truth.amount, reason=truth.reason, outcome=truth.outcome, at=datetime.now(timezone.utc))
        state = "resolved" if truth.status == PayPalDisputeStatus.RESOLVED else "open"
        notify = SendNotification(
            key=f"paypal:dispute:{truth.id}:{truth.status}:{truth.outcome}", template="paypal_dispute_staff", to="",
            client_id=None, to_staff=True,
            context={"dispute": truth.id, "state": state, "status": truth.status, "outcome": truth.outcome,
                     "reason": truth.reason, "stage": truth.stage, "capture": case.capture_id,
                     "amount": truth.amount.display() if truth.amount else "",
                     "invoice": invoice.number if invoice else "", "billing_url": f"{self._base_url}/operator/billing"}
        ) if changed else None
        return PayPalEventOutcome(f"dispute_{state} invoice {invoice.number}" if invoice else "dispute_unmatched",
                                  notify)
