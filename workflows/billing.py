"""A refund of a PayPal capture (`refund:<invoice>:<key>`): reserve it against what is left of the
capture, ask PayPal under the key (its PayPal-Request-Id), then record it or release the reservation.
The workflow id is the idempotency key, so a repeated request is the same refund."""
from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import REFUND_WORKFLOW, RefundInput, RefundOutcome, RefundReserved
    from workflows.order import STEP


@workflow.defn(name=REFUND_WORKFLOW)
class RefundWorkflow:
    @workflow.run
    async def run(self, inp: RefundInput) -> RefundOutcome:
        try:
            reserved: RefundReserved = await workflow.execute_activity(
                "reserve_refund", inp, result_type=RefundReserved, **STEP)
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.non_retryable:   # more than is left, no capture...
                return RefundOutcome(0, "refused", message=cause.message, code=cause.type or "refund_refused")
            raise
        if reserved.status != "requested":          # settled by an earlier run under the same key
            return RefundOutcome(reserved.refund_id, reserved.status)
        outcome: RefundOutcome = await workflow.execute_activity(
            "refund_at_paypal", inp, result_type=RefundOutcome, **STEP)
        await workflow.execute_activity("settle_refund", outcome, **STEP)
        return outcome
