"""How each workflow is started: its id, id policies, search attributes and start signal, in one
place, so the API's gateway (api/temporal.py) and an activity starting the same workflow start it
the same way. Pure: options only; the caller owns the client, the task queue and what a failed
start means."""

from dataclasses import dataclass, field
from typing import Any

from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from core.statuses import OrderRunStatus
from workflows.contracts.names import (
    ACCOUNT_EMAIL_WORKFLOW,
    DIGEST_WORKFLOW,
    INVOICE_WORKFLOW,
    ORDER_WORKFLOW,
    PAYPAL_EVENT_WORKFLOW,
    REFUND_WORKFLOW,
    REMINDER_QUEUED,
    SA_CLIENT,
    SA_STATUS,
    account_email_workflow_id,
    digest_workflow_id,
    invoice_workflow_id,
    order_workflow_id,
    paypal_event_workflow_id,
    refund_workflow_id,
)
from workflows.contracts.invoice import InvoiceInput
from workflows.contracts.order import OrderInput
from workflows.contracts.paypal import PayPalEvent
from workflows.contracts.refund import RefundInput
from workflows.contracts.reminders import DigestInput, SendNotification


@dataclass(frozen=True)
class Start:
    """One workflow start: pass `**start.options(task_queue)` to `Client.start_workflow`."""
    workflow: str
    arg: Any
    id: str
    conflict: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.USE_EXISTING
    reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.ALLOW_DUPLICATE
    search_attributes: tuple[SearchAttributePair, ...] = field(default=())
    start_signal: str | None = None

    def options(self, task_queue: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"id": self.id, "task_queue": task_queue, "id_conflict_policy": self.conflict,
                                  "id_reuse_policy": self.reuse}
        if self.search_attributes:
            kwargs["search_attributes"] = TypedSearchAttributes(list(self.search_attributes))
        if self.start_signal:
            kwargs["start_signal"] = self.start_signal
        return kwargs


def order_start(inp: OrderInput) -> Start:
    """An order (checkout, a renewal page, a renewal invoice): one run per order, ever. A retried
    start joins the running one; a closed run is never started again (WorkflowAlreadyStartedError).

    A new order is searchable by client and status from its start. A renewal order starts without
    them, as it always has: its addresses are searchable under their own workflows, and the renewal
    activity also runs where the attributes are not registered (the time-skipping test server)."""
    attrs = ((SearchAttributePair(SA_CLIENT, str(inp.client_id)),
              SearchAttributePair(SA_STATUS, OrderRunStatus.AWAITING_PAYMENT))
             if inp.search_attributes and not inp.renewal else ())
    return Start(ORDER_WORKFLOW, inp, order_workflow_id(inp.order_id),
                 reuse=WorkflowIDReusePolicy.REJECT_DUPLICATE, search_attributes=attrs)


def invoice_start(inp: InvoiceInput) -> Start:
    """An issued invoice chased by its own workflow; a retried start joins the running one."""
    return Start(INVOICE_WORKFLOW, inp, invoice_workflow_id(inp.number))


def refund_start(inp: RefundInput) -> Start:
    """A refund keyed by its idempotency key: the same key is the same refund (a run started again
    after it closed finds its reserved row and answers as before)."""
    return Start(REFUND_WORKFLOW, inp, refund_workflow_id(inp.invoice_number, inp.key))


def account_email_start(note: SendNotification) -> Start:
    """One email about an account, once per key."""
    return Start(ACCOUNT_EMAIL_WORKFLOW, note, account_email_workflow_id(note.key))


def paypal_event_start(event: PayPalEvent) -> Start:
    """A verified PayPal event checked with PayPal; a redelivery while it runs joins it."""
    return Start(PAYPAL_EVENT_WORKFLOW, event, paypal_event_workflow_id(event.event_id))


def digest_start(inp: DigestInput) -> Start:
    """Signal-with-start: wakes the client's reminder digest, or starts it."""
    return Start(DIGEST_WORKFLOW, inp, digest_workflow_id(inp.client_id),
                 conflict=WorkflowIDConflictPolicy.UNSPECIFIED, start_signal=REMINDER_QUEUED)
