"""The one payment core: how an invoice is paid. `OrderPayment` is the state machine of an order's
invoice (held while the customer picks how to pay, PayPal checkout -> read-back -> capture, pending
captures and denials, cheque or wire, credit, partial payments, the deadline and cancellation); the
functions beside it are the rules every invoice shares (a manual payment's checks, a refusal handed
to the caller, PayPal's capture keys and what a capture read back means).

`InvoiceWorkflow` hosts `OrderPayment` for an order's invoice; `OrderWorkflow` runs from before
PAYMENT_CORE host it themselves (the same code, so their histories replay). The machine never
touches the order's addresses: it answers how the invoice ended (`InvoiceSettled`) and its host acts.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.money import Money
    from core.statuses import MANUAL_METHODS, OrderRunStatus, PaymentMethod, PayPalCaptureStatus
    from workflows.contracts import (
        PAYPAL_TRUTH,
        BeginPayPal,
        CancelRequest,
        CapturePayPalOrder,
        CaptureDenied,
        CaptureReported,
        CaptureResult,
        ChooseManual,
        ConfirmCapture,
        CreatePayPalOrder,
        InvoiceSettled,
        IssueInvoice,
        ManualInstructions,
        ManualPayment,
        OrderInput,
        OrderState,
        PayFromCredit,
        PaymentApplied,
        PayPalApproved,
        PayPalCheckout,
        PayWithCredit,
        RecordPayment,
        RecordPayPalOrder,
        Refusal,
        SendReceipt,
    )
    from workflows.paypal_approval import confirmed_at_paypal
    from workflows.policies import STEP

NOT_COMPLETED = "PayPal did not complete the payment; please pay again."


# ---- rules every invoice shares -------------------------------------------------------------

def refusal_of(err: ActivityError) -> ApplicationError:
    """An activity's business refusal (a reference used elsewhere, a cancelled invoice...) as the
    caller's own refusal; anything else is the activity's fault and raised as it is."""
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return ApplicationError(cause.message, type=cause.type)
    raise err


def manual_key(payment: ManualPayment) -> str:
    return f"{payment.method}:{payment.reference.strip()}"


def check_manual(payment: ManualPayment, *, recorded: set[str], where: str) -> None:
    """A cheque or wire an operator records: its method and its reference (once per invoice).
    `where`: "order 12", "invoice 2026-000007"."""
    if payment.method not in MANUAL_METHODS:
        raise ApplicationError("Record a cheque or a wire transfer.", type="method_invalid")
    if not payment.reference.strip():
        raise ApplicationError("Give the cheque number or the bank reference.", type="reference_missing")
    if manual_key(payment) in recorded:
        raise ApplicationError(f"{payment.method.capitalize()} {payment.reference.strip()} is already recorded "
                               f"on {where}.", type="payment_reference_used")


def check_amount(payment: ManualPayment, currency: str) -> None:
    """Part of what is due, all of it or more (the rest becomes credit), in the invoice's currency."""
    if payment.currency != currency:
        raise ApplicationError(f"The invoice is in {currency}, not {payment.currency}.", type=Refusal.AMOUNT_MISMATCH)
    if payment.amount_minor <= 0:
        raise ApplicationError("A payment must be more than zero.", type="amount_invalid")


def received_at(payment: ManualPayment) -> datetime:
    day = payment.received_on
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def credit_key(attempt: int) -> str:
    return f"{workflow.info().workflow_id}:credit:{attempt}"


def balance_empty(applied: PaymentApplied) -> None:
    if not applied.applied_minor and not applied.paid_in_full:
        raise ApplicationError("Your credit balance is empty; choose another way to pay.", type="balance_insufficient")


def capture_request_id(paypal_order_id: str, attempts: int) -> str:
    """PayPal-Request-Id of a capture: PayPal answers a repeated one with its first answer (a
    decline), so from PAYPAL_TRUTH on each re-approval of the same PayPal order is a new request."""
    request_id = f"{workflow.info().workflow_id}:capture:{paypal_order_id}"
    if attempts > 1 and workflow.patched(PAYPAL_TRUTH):
        request_id += f":{attempts}"
    return request_id


async def read_capture(paypal_order_id: str, capture_id: str) -> CaptureResult:
    """A capture as PayPal has it (a webhook only hints at it)."""
    return await workflow.execute_activity(
        "confirm_paypal_capture", ConfirmCapture(paypal_order_id, capture_id), result_type=CaptureResult, **STEP)


async def send_receipt(number: str, method: str, reference: str, to: str, client_id: int, name: str) -> None:
    await workflow.execute_activity("send_receipt", SendReceipt(number, method, reference, to, client_id, name),
                                    **STEP)


def partly_paid(outstanding_minor: int, currency: str) -> str:
    return f"Partly paid: {Money(outstanding_minor, currency).display()} is still due."


# ---- an order's invoice ---------------------------------------------------------------------

class OrderPayment:
    """An order's invoice being paid. Its host registers the messages and calls these methods; the
    host's `run` awaits `settle()`."""

    def __init__(self, inp: OrderInput, state: OrderState, v4: bool) -> None:
        self._inp, self._state, self._v4 = inp, state, v4
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
        self._due = inp.total_minor
        self.issued = not v4 or inp.renewal
        self._state.issued = self.issued
        self._settled: str | None = None                 # paid in full by credit: the reference
        self._credit_attempt = 0
        self._references: set[str] = set()              # manual payments recorded on this order
        self._capture_attempts = 0                      # capture requests made for this run's checkouts

    @property
    def state(self) -> OrderState:
        return self._state

    def _first_deadline(self) -> datetime:
        inp = self._inp
        if inp.renewal and inp.deadline_at is not None:   # payable until the grace period ends
            return inp.deadline_at
        return workflow.now() + timedelta(minutes=inp.hold_minutes or inp.payment_deadline_minutes)

    # ---- messages ----------------------------------------------------------------------------

    async def begin_paypal(self, request: BeginPayPal) -> PayPalCheckout:
        """Create (once) the PayPal order, for what is due, and hand back its approval link."""
        await workflow.wait_condition(lambda: self.issued)   # credit first: PayPal takes only the rest
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
            self._state.method = PaymentMethod.PAYPAL
            if inp.hold_minutes:  # the hold becomes PayPal's approval window
                self._set_deadline(workflow.now() + timedelta(minutes=inp.payment_deadline_minutes))
        return self._checkout

    def validate_begin(self, request: BeginPayPal) -> None:
        self.require_payable()

    def require_payable(self) -> None:
        if self._state.status not in (OrderRunStatus.AWAITING_PAYMENT, OrderRunStatus.DECLINED):
            raise ApplicationError(f"This order cannot be paid now (it is {self._state.status}).",
                                   type=Refusal.ORDER_NOT_PAYABLE)

    async def choose_manual(self, request: ChooseManual) -> ManualInstructions:
        """The customer pays by cheque or wire: the invoice waits, the addresses stay held."""
        inp = self._inp
        await workflow.wait_condition(lambda: self.issued)
        if self._state.method not in MANUAL_METHODS and not inp.renewal:
            self._set_deadline(workflow.now() + timedelta(days=inp.manual_deadline_days))
        self._state.method = request.method
        return ManualInstructions(request.method, inp.invoice_number, self._due, inp.currency, self._deadline)

    def validate_choose(self, request: ChooseManual) -> None:
        self.require_payable()
        if request.method not in MANUAL_METHODS:
            raise ApplicationError("Pay by cheque or by wire transfer.", type="method_invalid")

    async def record_manual(self, payment: ManualPayment) -> OrderState:
        """An operator records the cheque or wire that arrived; paid in full, the run provisions."""
        inp = self._inp
        self._recording = True  # a second operator's record is refused from here on
        received = received_at(payment)
        if self._v4:
            try:
                applied = await self._apply(RecordPayment(inp.order_id, payment.method, payment.amount_minor,
                                                         payment.currency, payment.reference, received,
                                                         payment.actor))
            finally:
                self._recording = False
            self._references.add(manual_key(payment))
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

    def validate_record(self, payment: ManualPayment) -> None:
        inp = self._inp
        self.require_payable()
        if self._manual is not None or self._recording:
            raise ApplicationError(f"A payment for order {inp.order_id} is already recorded.",
                                   type=Refusal.ORDER_NOT_PAYABLE)
        check_manual(payment, recorded=self._references, where=f"order {inp.order_id}")
        if self._v4:
            check_amount(payment, inp.currency)
        elif (payment.amount_minor, payment.currency) != (inp.total_minor, inp.currency):
            raise ApplicationError(f"The invoice is for {Money(inp.total_minor, inp.currency).display()}; a "
                                   f"payment of {Money(payment.amount_minor, payment.currency).display()} does "
                                   "not settle it.", type=Refusal.AMOUNT_MISMATCH)

    async def pay_with_credit(self, request: PayWithCredit) -> OrderState:
        """The customer pays from their credit balance: all that is due, or what the balance holds."""
        inp = self._inp
        self._recording = True
        await workflow.wait_condition(lambda: self.issued)
        self._credit_attempt += 1
        try:
            applied = await self._apply(PayFromCredit(inp.order_id, credit_key(self._credit_attempt), request.actor))
        finally:
            self._recording = False
        balance_empty(applied)
        if applied.paid_in_full:
            self._state.method, self._settled = PaymentMethod.CREDIT, applied.reference
        return self._state

    def validate_credit(self, request: PayWithCredit) -> None:
        self.require_payable()
        if not self._v4 or self._recording:
            raise ApplicationError("This order cannot be paid from credit now.", type=Refusal.ORDER_NOT_PAYABLE)

    def paypal_approved(self, approval: PayPalApproved) -> None:
        if self._checkout and approval.paypal_order_id == self._checkout.paypal_order_id:
            self._approved = True

    def capture_reported(self, report: CaptureReported) -> None:
        if self._checkout and report.paypal_order_id == self._checkout.paypal_order_id:
            self._reported = report

    def capture_denied(self, report: CaptureDenied) -> None:
        if self._checkout and report.paypal_order_id == self._checkout.paypal_order_id:
            self._denied = report

    def cancel(self, request: CancelRequest) -> None:
        if self._state.status in (OrderRunStatus.AWAITING_PAYMENT, OrderRunStatus.DECLINED):
            self._cancel = request

    # ---- the run -----------------------------------------------------------------------------

    async def settle(self) -> InvoiceSettled:
        """Issue the invoice (credit first) and wait until it is paid, cancelled or past its deadline.
        A capture that does not match what is due fails the run (`attention`): an operator decides."""
        inp = self._inp
        if not self.issued:
            issued: PaymentApplied = await workflow.execute_activity(
                "issue_invoice", IssueInvoice(inp.order_id, f"{workflow.info().workflow_id}:credit"),
                result_type=PaymentApplied, **STEP)
            self._set_due(issued.outstanding_minor)
            # what is due is known now (the receipt is only an email): pages may offer it, unless it is nothing
            self._state.issued = not issued.paid_in_full
            if issued.applied_minor:
                await self._receipt(PaymentMethod.CREDIT, issued.reference)
            self.issued = True
            if issued.paid_in_full:
                self._state.method = PaymentMethod.CREDIT
                return InvoiceSettled(issued.reference, workflow.now())

        capture: CaptureResult | None = None
        while capture is None:
            deadline = self._deadline
            try:
                await workflow.wait_condition(
                    lambda: self._approved or self._reported is not None or self._cancel is not None
                    or self._manual is not None or self._settled is not None or self._deadline != deadline,
                    timeout=None if deadline is None else max(timedelta(0), deadline - workflow.now()))
            except asyncio.TimeoutError:
                return InvoiceSettled(cancel=CancelRequest("payment_deadline_passed"))
            if self._manual is not None:
                return InvoiceSettled(self._manual.reference, workflow.now())
            if self._settled is not None:
                return InvoiceSettled(self._settled, workflow.now())
            if self._cancel is not None:
                return InvoiceSettled(cancel=self._cancel)
            if self._approved or self._reported is not None:
                capture = await self._take_payment()
                if capture is not None and capture.status == PayPalCaptureStatus.PENDING:
                    capture = await self._wait_for_pending(capture)

        if capture.amount_minor != self._due or capture.currency != inp.currency:
            # Never provision on a payment that does not match the invoice; an operator decides.
            self._state.status = OrderRunStatus.ATTENTION
            self._state.message = (f"captured {capture.amount_minor} {capture.currency}, "
                                   f"expected {self._due} {inp.currency}")
            raise ApplicationError(self._state.message, type=Refusal.AMOUNT_MISMATCH, non_retryable=True)

        paid_at = workflow.now()
        if self._v4:
            await self._apply(RecordPayment(inp.order_id, PaymentMethod.PAYPAL, capture.amount_minor, capture.currency,
                                           capture.capture_id, paid_at))
        else:
            await workflow.execute_activity("record_payment", RecordPayment(
                inp.order_id, PaymentMethod.PAYPAL, capture.amount_minor, capture.currency, capture.capture_id, paid_at),
                **STEP)
        return InvoiceSettled(capture.capture_id, paid_at)

    async def _apply(self, step: RecordPayment | PayFromCredit) -> PaymentApplied:
        """A payment against the invoice (v4), its receipt, and what is still due after it."""
        name = "apply_payment" if isinstance(step, RecordPayment) else "pay_from_credit"
        try:
            applied: PaymentApplied = await workflow.execute_activity(name, step, result_type=PaymentApplied, **STEP)
        except ActivityError as err:
            raise refusal_of(err) from None
        if applied.applied_minor or applied.overpaid_minor:
            await self._receipt(PaymentMethod.CREDIT if isinstance(step, PayFromCredit) else step.method, applied.reference)
        if not applied.paid_in_full and self._checkout is not None and applied.outstanding_minor != self._due:
            # a PayPal checkout begun for the old amount would capture the wrong sum: start afresh
            self._checkout, self._approved = None, False
            self._paypal_attempt += 1
            self._state.paypal_order_id = self._state.approve_url = ""
        self._set_due(applied.outstanding_minor)
        if not applied.paid_in_full and applied.outstanding_minor < self._inp.total_minor:
            self._state.message = partly_paid(applied.outstanding_minor, self._inp.currency)
        return applied

    async def _receipt(self, method: str, reference: str) -> None:
        inp = self._inp
        await send_receipt(inp.invoice_number, method, reference, inp.client_email, inp.client_id, inp.client_name)

    def _set_due(self, due_minor: int) -> None:
        self._due = due_minor
        self._state.due_minor = due_minor

    def _set_deadline(self, when) -> None:
        self._deadline = when
        self._state.deadline = when

    def _declined(self) -> None:
        """That PayPal order is spent: the buyer starts a new one, or pays another way."""
        self._state.status, self._state.message = OrderRunStatus.DECLINED, NOT_COMPLETED
        self._checkout, self._approved = None, False
        self._paypal_attempt += 1
        self._state.paypal_order_id = self._state.approve_url = ""

    async def _wait_for_pending(self, capture: CaptureResult) -> CaptureResult | None:
        """PayPal holds some payments (an eCheck, a review) before completing or denying them. The
        money is in flight, so there is no deadline and no cancelling: the addresses stay held until
        PayPal decides."""
        self._state.status, self._state.message = OrderRunStatus.PAYMENT_PENDING, "PayPal is still processing the payment."
        self._set_deadline(None)
        while True:
            await workflow.wait_condition(lambda: self._reported is not None or self._denied is not None)
            if not workflow.patched(PAYPAL_TRUTH):
                break
            hint = self._reported or self._denied
            assert hint is not None
            self._reported = self._denied = None
            truth = await self._confirm(hint.capture_id or capture.capture_id)
            if truth.status == PayPalCaptureStatus.COMPLETED:
                return truth
            if truth.status in (PayPalCaptureStatus.DECLINED, PayPalCaptureStatus.FAILED):
                break
            # still PENDING, or a capture PayPal does not have: keep waiting
        if self._reported is not None:
            r = self._reported
            return CaptureResult(r.capture_id, PayPalCaptureStatus.COMPLETED, r.amount_minor, r.currency)
        # Denied: the buyer may start PayPal again or pay another way.
        self._declined()
        self._denied = None
        self._set_deadline(self._first_deadline())
        return None

    async def _take_payment(self) -> CaptureResult | None:
        assert self._state is not None and self._checkout is not None
        if self._reported is not None:
            r = self._reported
            if not workflow.patched(PAYPAL_TRUTH):   # runs from before: the webhook's word was taken
                return CaptureResult(r.capture_id, PayPalCaptureStatus.COMPLETED, r.amount_minor, r.currency)
            # A webhook is a hint: take what PayPal's own look-up says about that capture.
            self._reported = None
            return self._judge(await self._confirm(r.capture_id))
        self._approved = False
        checkout = self._checkout
        if not await confirmed_at_paypal(checkout.paypal_order_id, **STEP) or self._checkout is not checkout:
            return None   # not approved at PayPal (a return before approving, someone's guess): nothing changes
        self._state.status, self._state.message = OrderRunStatus.CAPTURING, ""
        self._capture_attempts += 1
        request_id = capture_request_id(self._checkout.paypal_order_id, self._capture_attempts)
        try:
            taken: CaptureResult = await workflow.execute_activity(
                "capture_paypal_order",
                CapturePayPalOrder(self._inp.order_id, self._checkout.paypal_order_id, request_id=request_id),
                result_type=CaptureResult, **STEP)
            if (taken.status not in (PayPalCaptureStatus.COMPLETED, PayPalCaptureStatus.PENDING)
                    and workflow.patched(PAYPAL_TRUTH)):
                return self._judge(taken)   # only COMPLETED is paid
            return taken
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == Refusal.PAYMENT_DECLINED:
                # The buyer can approve again with another funding source, until the deadline.
                self._state.status, self._state.message = OrderRunStatus.DECLINED, cause.message
                return None
            raise

    async def _confirm(self, capture_id: str) -> CaptureResult:
        assert self._checkout is not None
        return await read_capture(self._checkout.paypal_order_id, capture_id)

    def _judge(self, truth: CaptureResult) -> CaptureResult | None:
        """What a capture read back from PayPal means here: COMPLETED is paid, PENDING waits, DECLINED
        or FAILED lets the buyer pay again; one PayPal does not have (a forged event) changes nothing."""
        if truth.status in (PayPalCaptureStatus.COMPLETED, PayPalCaptureStatus.PENDING):
            return truth
        if truth.status in (PayPalCaptureStatus.DECLINED, PayPalCaptureStatus.FAILED):
            self._declined()
        return None


def _description(inp: OrderInput) -> str:
    names = ", ".join(line.address for line in inp.lines)
    return f"Invoice {inp.invoice_number}: {names}"
