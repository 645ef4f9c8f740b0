"""A refund of a PayPal capture (`refund:<invoice>:<key>`): reserve it against what is left of the
capture, ask PayPal under the key (its PayPal-Request-Id), then record it or release the reservation.
A refund PayPal holds PENDING stays reserved (not money back yet) until PayPal completes it (recorded)
or fails it (released): the run waits for PayPal's webhook (a hint: it reads the refund back) or looks
again every few hours. The workflow id is the idempotency key, so a repeated request is the same refund."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.statuses import RefundOutcomeStatus, RefundStatus
    from workflows.contracts import (PAYPAL_TRUTH, REFUND_CHANGED, REFUND_STATE, REFUND_WORKFLOW, RefundInput,
                                     RefundOutcome, RefundReserved)
    from workflows.policies import STEP

PENDING_LOOK_AGAIN = timedelta(hours=6)


@workflow.defn(name=REFUND_WORKFLOW)
class RefundWorkflow:
    def __init__(self) -> None:
        self._outcome = RefundOutcome(0, "")     # status "" until PayPal (or our books) answered
        self._changed = False

    @workflow.query(name=REFUND_STATE)
    def state(self) -> RefundOutcome:
        return self._outcome

    @workflow.signal(name=REFUND_CHANGED)
    def changed(self) -> None:
        self._changed = True

    @workflow.run
    async def run(self, inp: RefundInput) -> RefundOutcome:
        try:
            reserved: RefundReserved = await workflow.execute_activity(
                "reserve_refund", inp, result_type=RefundReserved, **STEP)
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.non_retryable:   # more than is left, no capture...
                self._outcome = RefundOutcome(0, RefundOutcomeStatus.REFUSED, message=cause.message,
                                              code=cause.type or "refund_refused")
                return self._outcome
            raise
        if reserved.status != RefundStatus.REQUESTED:          # settled by an earlier run under the same key
            self._outcome = RefundOutcome(reserved.refund_id, reserved.status)
            return self._outcome
        outcome: RefundOutcome = await workflow.execute_activity(
            "refund_at_paypal", inp, result_type=RefundOutcome, **STEP)
        await workflow.execute_activity("settle_refund", outcome, **STEP)
        self._outcome = outcome
        if outcome.status == RefundOutcomeStatus.PENDING and workflow.patched(PAYPAL_TRUTH):
            while outcome.status == RefundOutcomeStatus.PENDING:
                try:
                    await workflow.wait_condition(lambda: self._changed, timeout=PENDING_LOOK_AGAIN)
                except asyncio.TimeoutError:
                    pass
                self._changed = False
                outcome = await workflow.execute_activity(
                    "check_paypal_refund", outcome, result_type=RefundOutcome, **STEP)
            await workflow.execute_activity("settle_refund", outcome, **STEP)
            self._outcome = outcome
        return outcome
