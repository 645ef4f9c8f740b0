"""The API's one gateway to Temporal: each workflow the API starts is started one way (options from
workflows.contracts.starts, with what a failed start means), and every signal, update and query
goes through a typed handle whose errors are mapped to refusals here.

Messages are addressed by the names in workflows.contracts, not by typed references to workflow
methods: the import contract keeps workflow modules out of the API (and will widen to all of them).

Error mapping, the same for every handle:
- an update refused by its validator or handler -> BusinessError with the workflow's code and
  sentence (422 when it names a field, else 409); any other update failure -> the caller's
  `unavailable` (503);
- the workflow cannot be reached (not found, closed, or the server's error) -> the caller's
  refusal (`closed` / `refused`); a signal with no refusal given is logged and reported False;
- an update past its deadline -> `still_working` (503, look again in a minute);
- a query that cannot answer now -> None.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client as TemporalClient
from temporalio.client import WorkflowHandle, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core.errors import BusinessError
from core.refusals import Refusals, refuse
from core.statuses import OrderRunStatus
from store import billing, orders
from workflows.contracts import (
    BEGIN_PAYPAL,
    CANCEL_AT_TERM_END,
    CANCEL_INVOICE,
    CANCEL_ORDER,
    CHOOSE_MANUAL,
    DESTINATION_CONFIRMED,
    DESTINATION_REQUESTED,
    MAILBOX_PASSWORD,
    ORDER_PAYMENT_STATE,
    PAY_INVOICE_WITH_CREDIT,
    PAY_WITH_CREDIT,
    PAYPAL_APPROVED,
    RECORD_INVOICE_PAYMENT,
    RECORD_MANUAL,
    RENEWAL_DECIDED,
    SET_AUTORESPONDER,
    STATE,
    AddressState,
    Autoresponder,
    BeginPayPal,
    CancelAtTermEnd,
    CancelRequest,
    ChooseManual,
    DestinationConfirmation,
    DestinationRequest,
    InvoiceInput,
    InvoiceState,
    MailboxPasswordChanged,
    ManualInstructions,
    ManualPayment,
    OrderInput,
    OrderState,
    PayPalApproved,
    PayPalCheckout,
    PayPalEvent,
    PayWithCredit,
    RefundInput,
    RenewalDecision,
    SendNotification,
    account_email_start,
    address_workflow_id,
    invoice_start,
    invoice_workflow_id,
    order_start,
    order_workflow_id,
    paypal_event_start,
    refund_start,
)
from workflows.contracts.starts import Start

log = logging.getLogger("mailmarket.temporal")
T = TypeVar("T")
UPDATE_TIMEOUT = timedelta(seconds=30)
QUERY_TIMEOUT = timedelta(seconds=5)
SERVICE_UNAVAILABLE = refuse(Refusals.SERVICE_UNAVAILABLE, message="That did not go through; please try again.")
PAYMENT_UNAVAILABLE = refuse(Refusals.PAYMENT_UNAVAILABLE)


def _fresh(error: BusinessError) -> BusinessError:
    """A refusal given as a value is raised as a copy: one exception object is never raised twice."""
    return BusinessError(error.code, error.message, error.field, status=error.status,
                         retry_after=error.retry_after)


# ---- the error mapping ---------------------------------------------------------------------

async def _update(handle: WorkflowHandle, name: str, arg: Any, result_type: type[T], *, closed: BusinessError,
                  unavailable: BusinessError = SERVICE_UNAVAILABLE) -> T:
    """`closed` is the refusal when the workflow no longer runs (or cannot be reached)."""
    try:
        return await handle.execute_update(name, arg, result_type=result_type, rpc_timeout=UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        while cause is not None and not isinstance(cause, ApplicationError):
            cause = cause.cause
        if isinstance(cause, ApplicationError):
            # A validator names the field at fault as the refusal's detail: the input was wrong (422),
            # else the change could not be made as things are (409).
            field = cause.details[0] if cause.details and isinstance(cause.details[0], str) else None
            raise BusinessError(cause.type or closed.code, cause.message, field,
                                status=422 if field else 409) from None
        raise _fresh(unavailable) from None
    except RPCError as exc:
        log.warning("update %s on %s failed: %s", name, handle.id, exc)
        if exc.status == RPCStatusCode.DEADLINE_EXCEEDED:
            raise refuse(Refusals.STILL_WORKING, retry_after=60) from None
        raise _fresh(closed) from None


async def _signal(handle: WorkflowHandle, name: str, arg: Any, refused: BusinessError | None) -> bool:
    """True once delivered; not delivered (the workflow is closed or unreachable): the caller's
    refusal, or False (logged) when the caller has none because the hint can wait."""
    try:
        await handle.signal(name, arg)
        return True
    except RPCError as exc:
        if refused is not None:
            raise _fresh(refused) from None
        log.info("%s for %s not delivered: %s", name, handle.id, exc.message)
        return False


async def _query(handle: WorkflowHandle, name: str, result_type: type[T], timeout: timedelta) -> T | None:
    try:
        return await handle.query(name, result_type=result_type, rpc_timeout=timeout)
    except (RPCError, WorkflowQueryFailedError) as exc:
        log.info("%s of %s not available: %s", name, handle.id, exc)
        return None


# ---- typed handles -------------------------------------------------------------------------

ORDER_CLOSED = refuse(Refusals.ORDER_NOT_PAYABLE, message="This order is no longer waiting for payment.")
ORDER_NOT_CANCELLABLE = refuse(Refusals.ORDER_NOT_CANCELLABLE, message="This order can no longer be cancelled.")


async def legacy_payment_route(client: TemporalClient, order: WorkflowHandle) -> tuple[WorkflowHandle, str]:
    """Which workflow takes an order's payment, and the query that reads it as the order's page shows it.

    LEGACY ROUTING, retiring with the PAYMENT_CORE patch (workflows/contracts/names.py): an order run
    started since the patch hands its invoice to its own workflow, `invoice:<number>`, and names it in
    its state from the start (`OrderState.paid_through`): every payment message goes there. A run
    started before pays inside the order workflow. Once no order run from before the patch is open,
    this becomes `invoice_workflow_id(number)` for every order and the function goes."""
    state = await _query(order, STATE, OrderState, QUERY_TIMEOUT)
    if state is None or not state.paid_through:
        return order, STATE
    invoice = client.get_workflow_handle(state.paid_through)
    for _ in range(50):   # the order starts its invoice's run a moment after its own: wait for it (10 s)
        try:
            await invoice.describe(rpc_timeout=QUERY_TIMEOUT)
            break
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                break
            await asyncio.sleep(0.2)
    return invoice, ORDER_PAYMENT_STATE


class OrderHandle:
    """OrderWorkflow `order:<id>`; its payment messages go to the workflow taking its payment (the
    order's invoice's, `legacy_payment_route`), with the order's message names and payloads."""

    def __init__(self, client: TemporalClient, order_id: int):
        self.order_id = order_id
        self._client = client
        self._handle = client.get_workflow_handle(order_workflow_id(order_id))

    async def _payment(self) -> WorkflowHandle:
        return (await legacy_payment_route(self._client, self._handle))[0]

    async def begin_paypal(self, request: BeginPayPal) -> PayPalCheckout:
        return await _update(await self._payment(), BEGIN_PAYPAL, request, PayPalCheckout,
                             closed=refuse(Refusals.ORDER_NOT_PAYABLE, message="This order can no longer be paid."),
                             unavailable=PAYMENT_UNAVAILABLE)

    async def choose_manual(self, choice: ChooseManual) -> ManualInstructions:
        return await _update(await self._payment(), CHOOSE_MANUAL, choice, ManualInstructions, closed=ORDER_CLOSED)

    async def record_manual(self, payment: ManualPayment) -> OrderState:
        return await _update(await self._payment(), RECORD_MANUAL, payment, OrderState, closed=ORDER_CLOSED)

    async def pay_with_credit(self, request: PayWithCredit) -> OrderState:
        return await _update(await self._payment(), PAY_WITH_CREDIT, request, OrderState, closed=ORDER_CLOSED)

    async def cancel(self, request: CancelRequest, refused: BusinessError | None = ORDER_NOT_CANCELLABLE) -> bool:
        """To the order itself: it hands a cancellation on to its invoice (which refuses money in flight)."""
        return await _signal(self._handle, CANCEL_ORDER, request, refused)

    async def paypal_approved(self, approval: PayPalApproved) -> bool:
        """A hint the workflow checks with PayPal; a closed one (paid or cancelled) ignores it."""
        return await _signal(await self._payment(), PAYPAL_APPROVED, approval, None)

    async def paypal_hint(self, name: str, arg: Any) -> bool:
        """A PayPal webhook's hint (approved, capture reported or denied), by its signal name."""
        return await _signal(await self._payment(), name, arg, None)

    async def state(self, timeout: timedelta = QUERY_TIMEOUT) -> OrderState | None:
        """The order as its page shows it: while its invoice's workflow takes the payment, that one's
        view of it (the order's own state says little until the invoice has ended)."""
        own = await _query(self._handle, STATE, OrderState, timeout)
        if own is None or not own.paid_through or own.status != OrderRunStatus.AWAITING_PAYMENT:
            return own
        paying = await _query(self._client.get_workflow_handle(own.paid_through), ORDER_PAYMENT_STATE,
                              OrderState, timeout)
        return paying or own


class InvoiceHandle:
    """InvoiceWorkflow `invoice:<number>`: an invoice chased by its own workflow."""

    def __init__(self, client: TemporalClient, number: str):
        self.number = number
        self._handle = client.get_workflow_handle(invoice_workflow_id(number))
        self._closed = refuse(Refusals.INVOICE_NOT_PAYABLE, "invoice", number=number)

    async def begin_paypal(self, request: BeginPayPal) -> PayPalCheckout:
        return await _update(self._handle, BEGIN_PAYPAL, request, PayPalCheckout, closed=self._closed)

    async def pay_with_credit(self, request: PayWithCredit) -> InvoiceState:
        return await _update(self._handle, PAY_INVOICE_WITH_CREDIT, request, InvoiceState, closed=self._closed)

    async def record_payment(self, payment: ManualPayment) -> InvoiceState:
        return await _update(self._handle, RECORD_INVOICE_PAYMENT, payment, InvoiceState, closed=self._closed)

    async def cancel(self, request: CancelRequest, refused: BusinessError | None = None) -> bool:
        return await _signal(self._handle, CANCEL_INVOICE, request, refused)

    async def paypal_hint(self, name: str, arg: Any) -> bool:
        return await _signal(self._handle, name, arg, None)


ADDRESS_CLOSED = refuse(Refusals.ADDRESS_NOT_ACTIVE, message="This address is not active.")


class AddressHandle:
    """AddressWorkflow `address:<address>`."""

    def __init__(self, client: TemporalClient, address: str):
        self.address = address
        self._handle = client.get_workflow_handle(address_workflow_id(address))

    async def renewal_decided(self, decision: RenewalDecision) -> bool:
        """Recorded in the database already; an address that cannot be told reads it at its next step."""
        return await _signal(self._handle, RENEWAL_DECIDED, decision, None)

    async def cancel_at_term_end(self, request: CancelAtTermEnd, closed: BusinessError = ADDRESS_CLOSED
                                 ) -> AddressState:
        return await _update(self._handle, CANCEL_AT_TERM_END, request, AddressState, closed=closed)

    async def destination_requested(self, request: DestinationRequest, refused: BusinessError) -> None:
        await _signal(self._handle, DESTINATION_REQUESTED, request, refused)

    async def destination_confirmed(self, confirmation: DestinationConfirmation, refused: BusinessError) -> None:
        await _signal(self._handle, DESTINATION_CONFIRMED, confirmation, refused)

    async def mailbox_password_changed(self, change: MailboxPasswordChanged, refused: BusinessError) -> None:
        await _signal(self._handle, MAILBOX_PASSWORD, change, refused)

    async def set_autoresponder(self, reply: Autoresponder, closed: BusinessError = ADDRESS_CLOSED) -> Autoresponder:
        return await _update(self._handle, SET_AUTORESPONDER, reply, Autoresponder, closed=closed)

    async def state(self, timeout: timedelta = QUERY_TIMEOUT) -> AddressState | None:
        return await _query(self._handle, STATE, AddressState, timeout)


# ---- starts ----------------------------------------------------------------------------------

class Gateway:
    """Starts and handles for one Temporal client. `sessions` is for undoing what a failed start
    leaves committed (an order, an invoice); `task_queue` is where every workflow runs."""

    def __init__(self, client: TemporalClient, sessions: async_sessionmaker[AsyncSession] | None = None,
                 task_queue: str = ""):
        self.client, self.sessions, self.task_queue = client, sessions, task_queue

    def order(self, order_id: int) -> OrderHandle:
        return OrderHandle(self.client, order_id)

    def invoice(self, number: str) -> InvoiceHandle:
        return InvoiceHandle(self.client, number)

    def address(self, address: str) -> AddressHandle:
        return AddressHandle(self.client, address)

    async def _start(self, start: Start) -> None:
        """Started, or joined (a run with the id is running, or ran and may not run again)."""
        assert self.task_queue, "a gateway that starts workflows needs the task queue"
        try:
            await self.client.start_workflow(start.workflow, start.arg, **start.options(self.task_queue))
        except WorkflowAlreadyStartedError:
            log.info("%s already started", start.id)

    async def start_order(self, inp: OrderInput) -> None:
        """Start a committed order's workflow (checkout, the renewal page). If it cannot start, the
        order is cancelled (held addresses released, its invoice credited) and the caller answers 503:
        no order is left without a workflow."""
        try:
            await self._start(order_start(inp))
        except RPCError:
            log.exception("could not start the workflow for order %s; cancelling it", inp.order_id)
            assert self.sessions is not None
            async with self.sessions.begin() as session:
                await orders.cancel_order(session, inp.order_id, "not started: workflow service unavailable",
                                          unstarted=True)
            raise refuse(Refusals.SERVICE_UNAVAILABLE, message="We could not take your order just now and nothing was "
                         "charged. Please try again.") from None

    async def start_invoice(self, inp: InvoiceInput, actor: str) -> None:
        """Start an issued invoice's workflow; if it cannot start, the invoice is cancelled with a
        credit note (its number stays accounted for) and the operator is told to try again (503)."""
        try:
            await self._start(invoice_start(inp))
        except RPCError:
            log.exception("could not start the workflow for invoice %s; cancelling it", inp.number)
            assert self.sessions is not None
            async with self.sessions.begin() as session:
                await billing.cancel_invoice(session, invoice_id=inp.invoice_id, actor=actor,
                                             now=datetime.now(timezone.utc),
                                             reason="not issued: workflow service unavailable")
            raise refuse(Refusals.SERVICE_UNAVAILABLE, message="The invoice could not be issued just now (it was "
                         "cancelled with a credit note); please try again.") from None

    async def start_refund(self, inp: RefundInput) -> None:
        """Start (or join: the same key is the same refund) a refund; its progress is read from the
        refunds table. Nothing is sent to PayPal before the workflow runs, so a failed start refunds
        nothing (503); the caller releases the hold it wrote."""
        try:
            await self._start(refund_start(inp))
        except RPCError:
            log.exception("could not start refund %s on %s", inp.key, inp.invoice_number)
            raise refuse(Refusals.SERVICE_UNAVAILABLE, message="The refund could not be requested just now; nothing "
                         "was refunded. Please try again.") from None

    async def start_account_email(self, note: SendNotification) -> None:
        """One email about an account, once per key; if it cannot start, 503 (nothing was sent)."""
        try:
            await self._start(account_email_start(note))
        except RPCError:
            raise refuse(Refusals.SERVICE_UNAVAILABLE) from None

    async def start_paypal_event(self, event: PayPalEvent) -> None:
        """A verified PayPal event to check with PayPal. A failed start raises: the webhook answers
        500 and PayPal delivers the event again."""
        await self._start(paypal_event_start(event))
