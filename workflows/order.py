"""One order (`order:<id>`): start its address workflows (held), have its invoice paid, then tell
each address it is paid (they provision) or that the order is cancelled (they release); an order on
account (postpaid, exempt) starts them at once.

Payment (PAYMENT_CORE, new runs): the order hands its invoice to an `InvoiceWorkflow` child,
`invoice:<number>`, with the whole `OrderInput` (its hold, PayPal window, cheque/wire and renewal
deadlines) in the input, and waits for how it ended. A child rather than a second top-level
workflow because the order needs the outcome (paid: provision; cancelled or expired: release) and
the invoice must not outlive an order that was terminated (the default parent-close policy ends
it); the invoice id is the business key, so a retried start cannot pay twice; every payment
message (PayPal, webhooks, cheque, wire, credit) goes to that invoice workflow, and a cancellation
sent to the order is handed on to it. Runs from before PAYMENT_CORE pay inside this workflow, with
the same state machine (`workflows.payments.OrderPayment`), so their histories replay."""
from __future__ import annotations

from temporalio import workflow
from temporalio.common import TypedSearchAttributes, SearchAttributePair
from temporalio.exceptions import ApplicationError, ChildWorkflowError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from core.statuses import BillingMode, OrderRunStatus, OrderStatus, PaymentMethod, SubscriptionStatus
    from workflows.address import AddressWorkflow
    from workflows.invoice import InvoiceWorkflow
    from workflows.payments import OrderPayment, send_receipt
    from workflows.policies import STEP
    from workflows.contracts import (
        BEGIN_PAYPAL,
        BILLING_V4,
        INVOICE_WORKFLOW,
        PAYMENT_CORE,
        INVOICE_SETTLED,
        PAY_WITH_CREDIT,
        Dunning,
        InvoiceInput,
        InvoiceSettled,
        invoice_workflow_id,
        PAYPAL_APPROVED,
        CAPTURE_DENIED,
        CAPTURE_REPORTED,
        CANCEL_ORDER,
        CHOOSE_MANUAL,
        RECORD_MANUAL,
        STATE,
        ORDER_WORKFLOW,
        SA_CLIENT,
        SA_DOMAIN,
        SA_STATUS,
        AddressInput,
        BeginPayPal,
        CancelOrder,
        CancelRequest,
        CaptureDenied,
        CaptureReported,
        ChooseManual,
        ManualInstructions,
        ManualPayment,
        OrderInput,
        OrderState,
        PaymentConfirmed,
        PayFromBalance,
        PayPalApproved,
        PayPalCheckout,
        PayWithCredit,
        Refusal,
        SendNotification,
        address_workflow_id,
    )

# Billing modes served on account, and the status their orders end in (not "paid": the money, if
# any, comes later through the invoice's own workflow).
ON_ACCOUNT = {BillingMode.POSTPAID: OrderStatus.INVOICED, BillingMode.EXEMPT: OrderStatus.EXEMPT}


@workflow.defn(name=ORDER_WORKFLOW)
class OrderWorkflow:
    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        self._inp = inp
        # on account (postpaid, exempt): nothing is paid here, so nothing is payable through this run
        self._state: OrderState = OrderState(order_id=inp.order_id, status=ON_ACCOUNT.get(
            inp.billing, OrderRunStatus.AWAITING_PAYMENT))
        # v4: the invoice is issued (credit applied) before anything is charged; partial payments
        self._v4 = workflow.patched(BILLING_V4)
        self._pay = OrderPayment(inp, self._state, self._v4)
        # PAYMENT_CORE: the invoice's own workflow takes the payment; this run waits for its outcome
        self._core = inp.billing not in ON_ACCOUNT and workflow.patched(PAYMENT_CORE)
        if self._core:   # from the start, so the API never sends a payment here (its invoice may not run yet)
            self._state.paid_through = invoice_workflow_id(inp.invoice_number)
        self._cancel: CancelRequest | None = None       # (PAYMENT_CORE) to hand on to the invoice
        self._settled: InvoiceSettled | None = None     # (PAYMENT_CORE) how the invoice ended, told by it
        self._invoice: workflow.ChildWorkflowHandle | None = None

    # ---- messages: runs from before PAYMENT_CORE are paid here ------------------------------------

    def _paid_here(self) -> None:
        if self._core:
            raise ApplicationError(f"Invoice {self._inp.invoice_number} is paid through its own workflow "
                                   f"({invoice_workflow_id(self._inp.invoice_number)}).",
                                   type=Refusal.ORDER_NOT_PAYABLE)

    @workflow.update(name=BEGIN_PAYPAL)
    async def begin_paypal(self, request: BeginPayPal) -> PayPalCheckout:
        """Create (once) the PayPal order, for what is due, and hand back its approval link."""
        return await self._pay.begin_paypal(request)

    @begin_paypal.validator
    def _validate_begin(self, request: BeginPayPal) -> None:
        self._paid_here()
        self._pay.validate_begin(request)

    @workflow.update(name=CHOOSE_MANUAL)
    async def choose_manual(self, request: ChooseManual) -> ManualInstructions:
        """The customer pays by cheque or wire: the invoice waits, the addresses stay held."""
        return await self._pay.choose_manual(request)

    @choose_manual.validator
    def _validate_choose(self, request: ChooseManual) -> None:
        self._paid_here()
        self._pay.validate_choose(request)

    @workflow.update(name=RECORD_MANUAL)
    async def record_manual(self, payment: ManualPayment) -> OrderState:
        """An operator records the cheque or wire that arrived; paid in full, the run provisions."""
        return await self._pay.record_manual(payment)

    @record_manual.validator
    def _validate_record(self, payment: ManualPayment) -> None:
        self._paid_here()
        self._pay.validate_record(payment)

    @workflow.update(name=PAY_WITH_CREDIT)
    async def pay_with_credit(self, request: PayWithCredit) -> OrderState:
        """The customer pays from their credit balance: all that is due, or what the balance holds."""
        return await self._pay.pay_with_credit(request)

    @pay_with_credit.validator
    def _validate_credit(self, request: PayWithCredit) -> None:
        self._paid_here()
        self._pay.validate_credit(request)

    @workflow.signal(name=PAYPAL_APPROVED)
    def paypal_approved(self, approval: PayPalApproved) -> None:
        if not self._core:
            self._pay.paypal_approved(approval)

    @workflow.signal(name=CAPTURE_REPORTED)
    def capture_reported(self, report: CaptureReported) -> None:
        if not self._core:
            self._pay.capture_reported(report)

    @workflow.signal(name=CAPTURE_DENIED)
    def capture_denied(self, report: CaptureDenied) -> None:
        if not self._core:
            self._pay.capture_denied(report)

    @workflow.signal(name=CANCEL_ORDER)
    def cancel(self, request: CancelRequest) -> None:
        if not self._core:
            self._pay.cancel(request)
        elif self._state.status == OrderRunStatus.AWAITING_PAYMENT and self._cancel is None:
            self._cancel = request   # handed on to the invoice, which decides (money in flight is not cancelled)

    @workflow.signal(name=INVOICE_SETTLED)
    def invoice_settled(self, settled: InvoiceSettled) -> None:
        if self._core:
            self._settled = settled

    @workflow.query(name=STATE)
    def state(self) -> OrderState:
        return self._state

    # ---- the run -----------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: OrderInput) -> OrderState:
        if inp.billing in ON_ACCOUNT:
            return await self._on_account()
        if inp.renewal:   # the addresses are running already; credit pays it when it can
            if inp.pay_from_balance and await workflow.execute_activity(
                    "pay_from_balance", PayFromBalance(inp.order_id), result_type=bool, **STEP):
                self._state.method = PaymentMethod.CREDIT
                reference = f"credit:{inp.invoice_number}"
                if self._v4:
                    await send_receipt(inp.invoice_number, PaymentMethod.CREDIT, reference, inp.client_email, inp.client_id,
                                       inp.client_name)
                return await self._paid(reference, workflow.now())
        await self._start_addresses()
        settled = await (self._hand_off() if self._core else self._pay.settle())
        if settled.cancel is not None:
            state = await self._cancel_order(settled.cancel)
        else:
            state = await self._paid(settled.reference, settled.paid_at)
        if self._invoice is not None:   # the addresses are told: the invoice may close
            await self._invoice.signal(InvoiceWorkflow.released)
            await self._invoice
        return state

    async def _hand_off(self) -> InvoiceSettled:
        """The invoice's own workflow takes the payment; a cancellation sent here is handed on to it."""
        inp = self._inp
        assert self._state.deadline is not None
        invoice = await workflow.start_child_workflow(
            InvoiceWorkflow.run,
            InvoiceInput(inp.invoice_id, inp.invoice_number, inp.client_id, inp.client_email, inp.client_name,
                         inp.total_minor, inp.currency, self._state.deadline,
                         Dunning(0, [], 0), order=inp),   # no dunning: the order's deadlines apply
            id=self._state.paid_through)
        self._invoice = invoice
        handed_on = False
        while self._settled is None and not invoice.done():
            await workflow.wait_condition(lambda: self._settled is not None or invoice.done()
                                          or (self._cancel is not None and not handed_on))
            if self._cancel is not None and not handed_on and self._settled is None and not invoice.done():
                handed_on = True
                await invoice.signal(InvoiceWorkflow.cancel, self._cancel)
        settled = self._settled
        if settled is None:   # it ended without telling: it failed (a capture that does not match it)
            try:
                await invoice
            except ChildWorkflowError as err:   # an operator decides
                message = getattr(err.cause, "message", str(err))
                self._state.status, self._state.message = OrderRunStatus.ATTENTION, message
                raise ApplicationError(message, type=Refusal.AMOUNT_MISMATCH, non_retryable=True) from None
            raise ApplicationError(f"invoice {inp.invoice_number} ended without an outcome", non_retryable=True)
        if settled.state is not None:   # what the order's page showed (method, what was due...) stays
            settled.state.paid_through = self._state.paid_through
            self._state = settled.state
        return settled

    async def _start_addresses(self) -> None:
        """One address workflow per line of a new order (a renewal's are running already)."""
        inp = self._inp
        for line in ([] if inp.renewal else inp.lines):
            attrs = None
            if inp.search_attributes:
                attrs = TypedSearchAttributes([SearchAttributePair(SA_CLIENT, str(line.client_id)),
                                               SearchAttributePair(SA_DOMAIN, line.domain),
                                               SearchAttributePair(SA_STATUS, SubscriptionStatus.PENDING_PAYMENT)])
            await workflow.start_child_workflow(
                AddressWorkflow.run,
                AddressInput(line, inp.order_id, inp.coverage_margin_days, inp.search_attributes, inp.life),
                id=address_workflow_id(line.address),
                parent_close_policy=ParentClosePolicy.ABANDON,
                search_attributes=attrs,
            )

    async def _on_account(self) -> OrderState:
        """A client billed after the fact, or not at all: the addresses start (or renew) now. A
        postpaid invoice is handed to its own workflow, which issues it (credit first), chases it and
        suspends the client's services if it stays unpaid; an exempt order has no invoice."""
        inp = self._inp
        await self._start_addresses()
        if inp.billing == BillingMode.POSTPAID:
            assert inp.invoice_due_at is not None
            await workflow.start_child_workflow(
                INVOICE_WORKFLOW,
                InvoiceInput(inp.invoice_id, inp.invoice_number, inp.client_id, inp.client_email, inp.client_name,
                             inp.total_minor, inp.currency, inp.invoice_due_at, inp.dunning or Dunning()),
                id=invoice_workflow_id(inp.invoice_number), parent_close_policy=ParentClosePolicy.ABANDON)
        self._state.method = inp.billing
        return await self._paid(f"{inp.billing}:{inp.invoice_number or f'order-{inp.order_id}'}", workflow.now(),
                                status=ON_ACCOUNT[inp.billing])

    async def _paid(self, reference: str, paid_at, status: str = OrderRunStatus.PAID) -> OrderState:
        for line in self._inp.lines:
            handle = workflow.get_external_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
            await handle.signal(AddressWorkflow.payment_confirmed,
                                PaymentConfirmed(self._inp.order_id, paid_at, reference,
                                                 years=line.years if self._inp.renewal else 0))
        self._state.status, self._state.message = status, ""
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _cancel_order(self, request: CancelRequest) -> OrderState:
        inp = self._inp
        assert self._state is not None
        await workflow.execute_activity("cancel_order", CancelOrder(inp.order_id, request.reason, request.actor), **STEP)
        if inp.renewal:   # the addresses run on to their term end; their own workflows tell the client
            self._state.status, self._state.message = OrderRunStatus.CANCELLED, request.reason
            await workflow.wait_condition(workflow.all_handlers_finished)
            return self._state
        for line in inp.lines:
            handle = workflow.get_external_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
            await handle.signal(AddressWorkflow.order_cancelled, request)
        await workflow.execute_activity("send_notification", SendNotification(
            key=f"{workflow.info().workflow_id}:cancelled", template="order_cancelled", to=inp.client_email,
            client_id=inp.client_id,
            context={"name": inp.client_name, "order_id": str(inp.order_id), "reason": request.reason,
                     "addresses": ", ".join(line.address for line in inp.lines)}), **STEP)
        self._state.status, self._state.message = OrderRunStatus.CANCELLED, request.reason
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state
