"""One PayPal event that is not a checkout's (`paypal-event:<event id>`): a refund made at PayPal,
a reversal, a dispute. The event is a hint; the activity reads the refund or dispute back from
PayPal and records what PayPal says; staff are told of reversals and disputes; a pending refund of
ours waiting in its own workflow is woken to look again."""
from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import PAYPAL_EVENT_WORKFLOW, REFUND_CHANGED, PayPalEvent, PayPalEventOutcome
    from workflows.policies import STEP


@workflow.defn(name=PAYPAL_EVENT_WORKFLOW)
class PayPalEventWorkflow:
    @workflow.run
    async def run(self, event: PayPalEvent) -> PayPalEventOutcome:
        outcome: PayPalEventOutcome = await workflow.execute_activity(
            "settle_paypal_event", event, result_type=PayPalEventOutcome, **STEP)
        if outcome.notify is not None:
            await workflow.execute_activity("send_notification", outcome.notify, **STEP)
        if outcome.wake_refund:
            try:
                await workflow.get_external_workflow_handle(outcome.wake_refund).signal(REFUND_CHANGED)
            except Exception:   # noqa: BLE001 - finished already: its own look-ups settled it
                workflow.logger.info("refund workflow %s not running", outcome.wake_refund)
        return outcome
