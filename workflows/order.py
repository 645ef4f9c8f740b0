"""Payment of one order (`order:<id>`): start its address workflows, hold them while the customer
picks how to pay, take the PayPal payment (approve -> capture, idempotent) or an operator's record of
a cheque or wire, record it, and tell each address; unpaid by the deadline, cancel and release."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from temporalio import workflow
from temporalio.common import RetryPolicy, TypedSearchAttributes, SearchAttributePair
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from core.money import Money
    from workflows.address import AddressWorkflow
    from workflows.paypal_approval import confirmed_at_paypal
    from workflows.contracts import (
        BEGIN_PAYPAL,
        BILLING_V4,
        INVOICE_WORKFLOW,
        PAYPAL_TRUTH,
        ConfirmCapture,
        PAY_WITH_CREDIT,
        Dunning,
        InvoiceInput,
        invoice_workflow_id,
        IssueInvoice,
        PaymentApplied,
        PayFromCredit,
        PayWithCredit,
        SendReceipt,
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
        CapturePayPalOrder,
        CaptureDenied,
        CaptureReported,
        CaptureResult,
        ChooseManual,
        CreatePayPalOrder,
        ManualInstructions,
        ManualPayment,
        OrderInput,
        OrderState,
        PaymentConfirmed,
        PayFromBalance,
        PayPalApproved,
        PayPalCheckout,
        RecordPayment,
        RecordPayPalOrder,
        Refusal,
        SendNotification,
        address_workflow_id,
    )

# Billing modes served on account, and the status their orders end in (not "paid": the money, if
# any, comes later through the invoice's own workflow).
ON_ACCOUNT = {"postpaid": "invoiced", "exempt": "exempt"}

STEP = dict(
    start_to_close_timeout=timedelta(seconds=60),
    heartbeat_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=2)),
)


@workflow.defn(name=ORDER_WORKFLOW)
class OrderWorkflow:
    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        self._inp = inp
        # on account (postpaid, exempt): nothing is paid here, so nothing is payable through this run
        self._state: OrderState = OrderState(order_id=inp.order_id, status=ON_ACCOUNT.get(inp.billing,
                                                                                           "awaiting_payment"))
        self._approved = False
        self._reported: CaptureReported | None = None
        self._cancel: CancelRequest | None = None
        self._checkout: PayPalCheckout | None = None
        self._manual: ManualPayment | None = None       # recorded by an operator, ledger written
        self._recording = False
        self._denied: CaptureDenied | None = None
        self._paypal_attempt = 0
        self._deadline = self._first_deadline()
        self._state.deadline = self._deadline
        # v4: the invoice is issued (credit applied) before anything is charged; partial payments
        self._v4 = workflow.patched(BILLING_V4)
        self._due = inp.total_minor
        self._issued = not self._v4 or inp.renewal
        self._state.issued = self._issued
        self._settled: str | None = None                 # paid in full by credit: the reference
        self._credit_attempt = 0
        self._references: set[str] = set()              # manual payments recorded on this order
        self._capture_attempts = 0                      # capture requests made for this run's checkouts

    def _first_deadline(self) -> datetime:
        inp = self._inp
        if inp.renewal and inp.deadline_at is not None:   # payable until the grace period ends
            return inp.deadline_at
        return workflow.now() + timedelta(minutes=inp.hold_minutes or inp.payment_deadline_minutes)

    # ---- messages --------------------------------------------------------------------------

    @workflow.update(name=BEGIN_PAYPAL)
    async def begin_paypal(self, request: BeginPayPal) -> PayPalCheckout:
        """Create (once) the PayPal order, for what is due, and hand back its approval link."""
        await workflow.wait_condition(lambda: self._issued)   # credit first: PayPal takes only the rest
        if self._checkout is None:
            inp = self._inp
            created: PayPalCheckout = await workflow.execute_activity(
                "create_paypal_order",
                CreatePayPalOrder(inp.order_id, inp.invoice_number, _description(inp), self._due,
                                  inp.currency, request.return_url, request.cancel_url,
                                  # the run id keeps the key unique across deployments sharing a PayPal
                                  # account (order ids restart per database), and stable across retries
                                  request_id=f"{workflow.info().workflow_id}:{workflow.info().run_id}:create"
                                  + (f":{self._paypal_attempt}" if self._paypal_attempt else "")),
                result_type=PayPalCheckout, **STEP)
            await workflow.execute_activity(
                "record_paypal_order", RecordPayPalOrder(inp.order_id, created.paypal_order_id), **STEP)
            self._checkout = created
            self._state.paypal_order_id, self._state.approve_url = created.paypal_order_id, created.approve_url
            self._state.method = "paypal"
            if inp.hold_minutes:  # the hold becomes PayPal's approval window
                self._set_deadline(workflow.now() + timedelta(minutes=inp.payment_deadline_minutes))
        return self._checkout

    @begin_paypal.validator
    def _validate_begin(self, request: BeginPayPal) -> None:
        self._require_payable()

    def _require_payable(self) -> None:
        if self._state.status not in ("awaiting_payment", "declined"):
            raise ApplicationError(f"This order cannot be paid now (it is {self._state.status}).",
                                   type=Refusal.ORDER_NOT_PAYABLE)

    @workflow.update(name=CHOOSE_MANUAL)
    async def choose_manual(self, request: ChooseManual) -> ManualInstructions:
        """The customer pays by cheque or wire: the invoice waits, the addresses stay held."""
        inp = self._inp
        await workflow.wait_condition(lambda: self._issued)
        if self._state.method not in ("cheque", "wire") and not inp.renewal:
            self._set_deadline(workflow.now() + timedelta(days=inp.manual_deadline_days))
        self._state.method = request.method
        return ManualInstructions(request.method, inp.invoice_number, self._due, inp.currency, self._deadline)

    @choose_manual.validator
    def _validate_choose(self, request: ChooseManual) -> None:
        self._require_payable()
        if request.method not in ("cheque", "wire"):
            raise ApplicationError("Pay by cheque or by wire transfer.", type="method_invalid")

    @workflow.update(name=RECORD_MANUAL)
    async def record_manual(self, payment: ManualPayment) -> OrderState:
        """An operator records the cheque or wire that arrived; paid in full, the run provisions."""
        inp = self._inp
        self._recording = True  # a second operator's record is refused from here on
        received = datetime(payment.received_on.year, payment.received_on.month, payment.received_on.day,
                            tzinfo=timezone.utc)
        if self._v4:
            try:
                applied = await self._apply(RecordPayment(inp.order_id, payment.method, payment.amount_minor,
                                                         payment.currency, payment.reference, received,
                                                         payment.actor))
            finally:
                self._recording = False
            self._references.add(f"{payment.method}:{payment.reference.strip()}")
            if applied.paid_in_full:
                self._manual = payment
            return self._state
        try:
            await workflow.execute_activity("record_payment", RecordPayment(
                inp.order_id, payment.method, payment.amount_minor, payment.currency, payment.reference,
                received, payment.actor), **STEP)
        finally:
            self._recording = False
        self._manual = payment
        return self._state

    @record_manual.validator
    def _validate_record(self, payment: ManualPayment) -> None:
        inp = self._inp
        self._require_payable()
        if self._manual is not None or self._recording:
            raise ApplicationError(f"A payment for order {inp.order_id} is already recorded.",
                                   type=Refusal.ORDER_NOT_PAYABLE)
        if payment.method not in ("cheque", "wire"):
            raise ApplicationError("Record a cheque or a wire transfer.", type="method_invalid")
        if not payment.reference.strip():
            raise ApplicationError("Give the cheque number or the bank reference.", type="reference_missing")
        if f"{payment.method}:{payment.reference.strip()}" in self._references:
            raise ApplicationError(f"{payment.method.capitalize()} {payment.reference.strip()} is already recorded "
                                   f"on order {inp.order_id}.", type="payment_reference_used")
        if self._v4:
            if payment.currency != inp.currency:
                raise ApplicationError(f"The invoice is in {inp.currency}, not {payment.currency}.",
                                       type=Refusal.AMOUNT_MISMATCH)
            if payment.amount_minor <= 0:
                raise ApplicationError("A payment must be more than zero.", type="amount_invalid")
        elif (payment.amount_minor, payment.currency) != (inp.total_minor, inp.currency):
            raise ApplicationError(f"The invoice is for {Money(inp.total_minor, inp.currency).display()}; a "
                                   f"payment of {Money(payment.amount_minor, payment.currency).display()} does "
                                   "not settle it.", type=Refusal.AMOUNT_MISMATCH)

    @workflow.update(name=PAY_WITH_CREDIT)
    async def pay_with_credit(self, request: PayWithCredit) -> OrderState:
        """The customer pays from their credit balance: all that is due, or what the balance holds."""
        inp = self._inp
        self._recording = True
        await workflow.wait_condition(lambda: self._issued)
        self._credit_attempt += 1
        try:
            applied = await self._apply(PayFromCredit(
                inp.order_id, f"{workflow.info().workflow_id}:credit:{self._credit_attempt}", request.actor))
        finally:
            self._recording = False
        if not applied.applied_minor and not applied.paid_in_full:
            raise ApplicationError("Your credit balance is empty; choose another way to pay.",
                                   type="balance_insufficient")
        if applied.paid_in_full:
            self._state.method, self._settled = "credit", applied.reference
        return self._state

    @pay_with_credit.validator
    def _validate_credit(self, request: PayWithCredit) -> None:
        self._require_payable()
        if not self._v4 or self._recording:
            raise ApplicationError("This order cannot be paid from credit now.", type=Refusal.ORDER_NOT_PAYABLE)

    async def _apply(self, step: RecordPayment | PayFromCredit) -> PaymentApplied:
        """A payment against the invoice (v4), its receipt, and what is still due after it."""
        name = "apply_payment" if isinstance(step, RecordPayment) else "pay_from_credit"
        try:
            applied: PaymentApplied = await workflow.execute_activity(name, step, result_type=PaymentApplied, **STEP)
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):   # a refusal (reference used elsewhere, ...): the caller's
                raise ApplicationError(cause.message, type=cause.type) from None
            raise
        if applied.applied_minor or applied.overpaid_minor:
            await self._receipt("credit" if isinstance(step, PayFromCredit) else step.method, applied.reference)
        if not applied.paid_in_full and self._checkout is not None and applied.outstanding_minor != self._due:
            # a PayPal checkout begun for the old amount would capture the wrong sum: start afresh
            self._checkout, self._approved = None, False
            self._paypal_attempt += 1
            self._state.paypal_order_id = self._state.approve_url = ""
        self._set_due(applied.outstanding_minor)
        if not applied.paid_in_full and applied.outstanding_minor < self._inp.total_minor:
            self._state.message = (f"Partly paid: {Money(applied.outstanding_minor, self._inp.currency).display()} "
                                   "is still due.")
        return applied

    async def _receipt(self, method: str, reference: str) -> None:
        inp = self._inp
        await workflow.execute_activity("send_receipt", SendReceipt(
            inp.invoice_number, method, reference, inp.client_email, inp.client_id, inp.client_name), **STEP)

    def _set_due(self, due_minor: int) -> None:
        self._due = due_minor
        self._state.due_minor = due_minor

    @workflow.signal(name=PAYPAL_APPROVED)
    def paypal_approved(self, approval: PayPalApproved) -> None:
        if self._checkout and approval.paypal_order_id == self._checkout.paypal_order_id:
            self._approved = True

    @workflow.signal(name=CAPTURE_REPORTED)
    def capture_reported(self, report: CaptureReported) -> None:
        if self._checkout and report.paypal_order_id == self._checkout.paypal_order_id:
            self._reported = report

    @workflow.signal(name=CAPTURE_DENIED)
    def capture_denied(self, report: CaptureDenied) -> None:
        if self._checkout and report.paypal_order_id == self._checkout.paypal_order_id:
            self._denied = report

    @workflow.signal(name=CANCEL_ORDER)
    def cancel(self, request: CancelRequest) -> None:
        if self._state.status in ("awaiting_payment", "declined"):
            self._cancel = request

    @workflow.query(name=STATE)
    def state(self) -> OrderState:
        return self._state

    # ---- payment ---------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: OrderInput) -> OrderState:
        if inp.billing in ON_ACCOUNT:
            return await self._on_account()
        if inp.renewal:   # the addresses are running already; credit pays it when it can
            if inp.pay_from_balance and await workflow.execute_activity(
                    "pay_from_balance", PayFromBalance(inp.order_id), result_type=bool, **STEP):
                self._state.method = "credit"
                reference = f"credit:{inp.invoice_number}"
                if self._v4:
                    await self._receipt("credit", reference)
                return await self._paid(reference, workflow.now())
        await self._start_addresses()
        if not self._issued:
            issued: PaymentApplied = await workflow.execute_activity(
                "issue_invoice", IssueInvoice(inp.order_id, f"{workflow.info().workflow_id}:credit"),
                result_type=PaymentApplied, **STEP)
            self._set_due(issued.outstanding_minor)
            # what is due is known now (the receipt is only an email): pages may offer it, unless it is nothing
            self._state.issued = not issued.paid_in_full
            if issued.applied_minor:
                await self._receipt("credit", issued.reference)
            self._issued = True
            if issued.paid_in_full:
                self._state.method = "credit"
                return await self._paid(issued.reference, workflow.now())

        capture: CaptureResult | None = None
        while capture is None:
            deadline = self._deadline
            try:
                await workflow.wait_condition(
                    lambda: self._approved or self._reported is not None or self._cancel is not None
                    or self._manual is not None or self._settled is not None or self._deadline != deadline,
                    timeout=None if deadline is None else max(timedelta(0), deadline - workflow.now()))
            except asyncio.TimeoutError:
                return await self._cancel_order(CancelRequest("payment_deadline_passed"))
            if self._manual is not None:
                return await self._paid(self._manual.reference, workflow.now())
            if self._settled is not None:
                return await self._paid(self._settled, workflow.now())
            if self._cancel is not None:
                return await self._cancel_order(self._cancel)
            if self._approved or self._reported is not None:
                capture = await self._take_payment()
                if capture is not None and capture.status == "PENDING":
                    capture = await self._wait_for_pending(capture)

        if capture.amount_minor != self._due or capture.currency != inp.currency:
            # Never provision on a payment that does not match the invoice; an operator decides.
            self._state.status = "attention"
            self._state.message = (f"captured {capture.amount_minor} {capture.currency}, "
                                   f"expected {self._due} {inp.currency}")
            raise ApplicationError(self._state.message, type=Refusal.AMOUNT_MISMATCH, non_retryable=True)

        paid_at = workflow.now()
        if self._v4:
            await self._apply(RecordPayment(inp.order_id, "paypal", capture.amount_minor, capture.currency,
                                           capture.capture_id, paid_at))
        else:
            await workflow.execute_activity("record_payment", RecordPayment(
                inp.order_id, "paypal", capture.amount_minor, capture.currency, capture.capture_id, paid_at),
                **STEP)
        return await self._paid(capture.capture_id, paid_at)

    async def _start_addresses(self) -> None:
        """One address workflow per line of a new order (a renewal's are running already)."""
        inp = self._inp
        for line in ([] if inp.renewal else inp.lines):
            attrs = None
            if inp.search_attributes:
                attrs = TypedSearchAttributes([SearchAttributePair(SA_CLIENT, str(line.client_id)),
                                               SearchAttributePair(SA_DOMAIN, line.domain),
                                               SearchAttributePair(SA_STATUS, "pending_payment")])
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
        if inp.billing == "postpaid":
            assert inp.invoice_due_at is not None
            await workflow.start_child_workflow(
                INVOICE_WORKFLOW,
                InvoiceInput(inp.invoice_id, inp.invoice_number, inp.client_id, inp.client_email, inp.client_name,
                             inp.total_minor, inp.currency, inp.invoice_due_at, inp.dunning or Dunning()),
                id=invoice_workflow_id(inp.invoice_number), parent_close_policy=ParentClosePolicy.ABANDON)
        self._state.method = inp.billing
        return await self._paid(f"{inp.billing}:{inp.invoice_number or f'order-{inp.order_id}'}", workflow.now(),
                                status=ON_ACCOUNT[inp.billing])

    async def _wait_for_pending(self, capture: CaptureResult) -> CaptureResult | None:
        """PayPal holds some payments (an eCheck, a review) before completing or denying them. The
        money is in flight, so there is no deadline and no cancelling: the addresses stay held until
        PayPal decides."""
        self._state.status, self._state.message = "payment_pending", "PayPal is still processing the payment."
        self._set_deadline(None)
        while True:
            await workflow.wait_condition(lambda: self._reported is not None or self._denied is not None)
            if not workflow.patched(PAYPAL_TRUTH):
                break
            hint = self._reported or self._denied
            assert hint is not None
            self._reported = self._denied = None
            truth = await self._confirm(hint.capture_id or capture.capture_id)
            if truth.status == "COMPLETED":
                return truth
            if truth.status in ("DECLINED", "FAILED"):
                break
            # still PENDING, or a capture PayPal does not have: keep waiting
        if self._reported is not None:
            r = self._reported
            return CaptureResult(r.capture_id, "COMPLETED", r.amount_minor, r.currency)
        # Denied: the buyer may start PayPal again or pay another way.
        self._state.status = "declined"
        self._state.message = "PayPal did not complete the payment; please pay again."
        self._checkout, self._denied, self._approved = None, None, False
        self._paypal_attempt += 1
        self._state.paypal_order_id = self._state.approve_url = ""
        self._set_deadline(self._first_deadline())
        return None

    async def _paid(self, reference: str, paid_at, status: str = "paid") -> OrderState:
        for line in self._inp.lines:
            handle = workflow.get_external_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
            await handle.signal(AddressWorkflow.payment_confirmed,
                                PaymentConfirmed(self._inp.order_id, paid_at, reference,
                                                 years=line.years if self._inp.renewal else 0))
        self._state.status, self._state.message = status, ""
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    def _set_deadline(self, when) -> None:
        self._deadline = when
        self._state.deadline = when

    async def _take_payment(self) -> CaptureResult | None:
        assert self._state is not None and self._checkout is not None
        if self._reported is not None:
            r = self._reported
            if not workflow.patched(PAYPAL_TRUTH):   # runs from before: the webhook's word was taken
                return CaptureResult(r.capture_id, "COMPLETED", r.amount_minor, r.currency)
            # A webhook is a hint: take what PayPal's own look-up says about that capture.
            self._reported = None
            return self._judge(await self._confirm(r.capture_id))
        self._approved = False
        checkout = self._checkout
        if not await confirmed_at_paypal(checkout.paypal_order_id, **STEP) or self._checkout is not checkout:
            return None   # not approved at PayPal (a return before approving, someone's guess): nothing changes
        self._state.status, self._state.message = "capturing", ""
        self._capture_attempts += 1
        request_id = f"{workflow.info().workflow_id}:capture:{self._checkout.paypal_order_id}"
        if self._capture_attempts > 1 and workflow.patched(PAYPAL_TRUTH):
            # PayPal answers a repeated PayPal-Request-Id with its first answer (a decline): the
            # buyer's next approval of the same PayPal order is a new request.
            request_id += f":{self._capture_attempts}"
        try:
            taken: CaptureResult = await workflow.execute_activity(
                "capture_paypal_order",
                CapturePayPalOrder(self._inp.order_id, self._checkout.paypal_order_id, request_id=request_id),
                result_type=CaptureResult, **STEP)
            if taken.status not in ("COMPLETED", "PENDING") and workflow.patched(PAYPAL_TRUTH):
                return self._judge(taken)   # only COMPLETED is paid
            return taken
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == Refusal.PAYMENT_DECLINED:
                # The buyer can approve again with another funding source, until the deadline.
                self._state.status, self._state.message = "declined", cause.message
                return None
            raise

    async def _confirm(self, capture_id: str) -> CaptureResult:
        assert self._checkout is not None
        return await workflow.execute_activity(
            "confirm_paypal_capture", ConfirmCapture(self._checkout.paypal_order_id, capture_id),
            result_type=CaptureResult, **STEP)

    def _judge(self, truth: CaptureResult) -> CaptureResult | None:
        """What a capture read back from PayPal means here: COMPLETED is paid, PENDING waits, DECLINED
        or FAILED lets the buyer pay again; one PayPal does not have (a forged event) changes nothing."""
        if truth.status in ("COMPLETED", "PENDING"):
            return truth
        if truth.status in ("DECLINED", "FAILED"):
            # that PayPal order is spent: the buyer starts a new one, or pays another way
            self._state.status = "declined"
            self._state.message = "PayPal did not complete the payment; please pay again."
            self._checkout, self._approved = None, False
            self._paypal_attempt += 1
            self._state.paypal_order_id = self._state.approve_url = ""
        return None

    async def _cancel_order(self, request: CancelRequest) -> OrderState:
        inp = self._inp
        assert self._state is not None
        await workflow.execute_activity("cancel_order", CancelOrder(inp.order_id, request.reason, request.actor), **STEP)
        if inp.renewal:   # the addresses run on to their term end; their own workflows tell the client
            self._state.status, self._state.message = "cancelled", request.reason
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
        self._state.status, self._state.message = "cancelled", request.reason
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state


def _description(inp: OrderInput) -> str:
    names = ", ".join(line.address for line in inp.lines)
    return f"Invoice {inp.invoice_number}: {names}"
