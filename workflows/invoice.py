"""Every invoice's workflow (`invoice:<number>`): the one place an invoice is paid (PayPal checkout,
capture and webhooks, cheque or wire, credit, whole or in part) and cancelled.

An order's invoice (PAYMENT_CORE: `InvoiceInput.order` set, started by its order as a child) is
paid by the order's rules, `workflows.payments.OrderPayment`: held for the order's deadlines, then
paid, cancelled or expired, which the order waits for. Any other invoice (an operator's own, a
postpaid order's) is chased: issued (credit first, then emailed), reminded before it is due and at
each overdue step, the client's addresses suspended after the configured days overdue and restored
as soon as it is paid; an operator's cancellation issues the credit note."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.statuses import InvoiceStatus, OrderRunStatus, PaymentMethod, PayPalCaptureStatus
    from workflows.contracts import (
        BEGIN_PAYPAL,
        CANCEL_INVOICE,
        CHOOSE_MANUAL,
        ORDER_PAYMENT_STATE,
        INVOICE_RELEASED,
        INVOICE_SETTLED,
        PAY_WITH_CREDIT,
        RECORD_MANUAL,
        ChooseManual,
        InvoiceSettled,
        ManualInstructions,
        OrderState,
        CAPTURE_DENIED,
        CAPTURE_REPORTED,
        PAYPAL_APPROVED,
        PAYPAL_TRUTH,
        BeginPayPal,
        CaptureDenied,
        CaptureReported,
        CapturePayPalOrder,
        CaptureResult,
        CreatePayPalOrder,
        InvoicePayPalOrder,
        PayPalApproved,
        PayPalCheckout,
        Refusal,
        INVOICE_WORKFLOW,
        PAY_INVOICE_WITH_CREDIT,
        RECORD_INVOICE_PAYMENT,
        STATE,
        CancelCustomInvoice,
        CancelRequest,
        ClientServices,
        DunningNotice,
        InvoiceCredit,
        InvoiceInput,
        InvoicePayment,
        InvoiceState,
        IssueCustomInvoice,
        ManualPayment,
        PaymentApplied,
        PayWithCredit,
        RestoreAddress,
        ServiceLine,
        SuspendAddress,
    )
    from workflows.payments import (NOT_COMPLETED, OrderPayment, balance_empty, capture_request_id, check_amount,
                                    check_manual, credit_key, manual_key, partly_paid, read_capture, received_at,
                                    refusal_of, send_receipt)
    from workflows.paypal_approval import confirmed_at_paypal
    from workflows.policies import STEP

DEBT_MESSAGE = "This address is suspended because an invoice is overdue; it works again as soon as it is paid."


def dunning_steps(inp: InvoiceInput) -> list[tuple[datetime, str, int]]:
    """(when, what, level): a reminder before the due date, one at each overdue step, the suspension."""
    plan = inp.dunning
    steps = []
    if plan.before_days > 0:
        steps.append((inp.due_at - timedelta(days=plan.before_days), "upcoming", 0))
    for level, days in enumerate(sorted(plan.overdue_days), start=1):
        steps.append((inp.due_at + timedelta(days=days), "overdue", level))
    if plan.suspend_after_days > 0:
        steps.append((inp.due_at + timedelta(days=plan.suspend_after_days), "suspend", 0))
    return sorted(steps, key=lambda s: s[0])


@workflow.defn(name=INVOICE_WORKFLOW)
class InvoiceWorkflow:
    @workflow.init
    def __init__(self, inp: InvoiceInput) -> None:
        self._inp = inp
        self._state = InvoiceState(inp.number, InvoiceStatus.UNPAID, inp.total_minor)
        self._paid = False
        self._cancel: CancelRequest | None = None
        self._recording = False
        self._references: set[str] = set()
        self._suspended: list[ServiceLine] = []
        self._credit_attempt = 0
        self._issued = False                    # credit applied and the invoice emailed
        self._checkout: PayPalCheckout | None = None
        self._checkout_for = 0                 # what was due when that checkout began
        self._paypal_attempt = 0
        self._captures: set[str] = set()       # PayPal captures already applied
        self._capture_attempts = 0
        # an order's invoice: paid by the order's rules, its state as the order's page shows it
        self._pay = None if inp.order is None else OrderPayment(
            inp.order, OrderState(inp.order.order_id, OrderRunStatus.AWAITING_PAYMENT), v4=True)
        self._settled: InvoiceSettled | None = None
        self._released = False                 # its order has acted on how it ended

    @workflow.query(name=STATE)
    def state(self) -> InvoiceState:
        if self._pay is None:
            return self._state
        order = self._pay.state
        status = (InvoiceStatus.UNPAID if self._settled is None
                  else InvoiceStatus.CANCELLED if self._settled.cancel else InvoiceStatus.PAID)
        return InvoiceState(self._inp.number, status, self._inp.total_minor if order.due_minor is None
                            else order.due_minor, message=order.message, paypal_order_id=order.paypal_order_id,
                            approve_url=order.approve_url, settled=self._settled)

    @workflow.query(name=ORDER_PAYMENT_STATE)
    def order_state(self) -> OrderState:
        """An order's invoice: the payment as the order's page shows it (status, method, deadline...)."""
        return self._order().state

    @workflow.signal(name=INVOICE_RELEASED)
    def released(self) -> None:
        self._released = True

    @workflow.signal(name=CANCEL_INVOICE)
    def cancel(self, request: CancelRequest) -> None:
        if self._pay is not None:
            self._pay.cancel(request)
        elif not self._paid:
            self._cancel = request

    @workflow.update(name=RECORD_INVOICE_PAYMENT)
    async def record_payment(self, payment: ManualPayment) -> InvoiceState:
        if self._pay is not None:
            await self._pay.record_manual(payment)
            return self.state()
        inp = self._inp
        self._recording = True
        try:
            applied: PaymentApplied = await workflow.execute_activity(
                "apply_invoice_payment", InvoicePayment(inp.invoice_id, payment.method, payment.amount_minor,
                                                        payment.currency, payment.reference.strip(),
                                                        received_at(payment), payment.actor),
                result_type=PaymentApplied, **STEP)
        except ActivityError as err:
            raise refusal_of(err) from None
        finally:
            self._recording = False
        self._references.add(manual_key(payment))
        await self._receipt(applied, payment.method)
        return self._state

    @record_payment.validator
    def _validate_payment(self, payment: ManualPayment) -> None:
        if self._pay is not None:
            return self._pay.validate_record(payment)
        self._require_unpaid()
        check_manual(payment, recorded=self._references, where=f"invoice {self._inp.number}")
        check_amount(payment, self._inp.currency)

    # ---- an order's invoice: the order's message names and payloads -------------------------

    def _order(self) -> OrderPayment:
        if self._pay is None:
            raise ApplicationError(f"Invoice {self._inp.number} is not an order's; pay it on the invoices page.",
                                   type="invoice_not_payable")
        return self._pay

    @workflow.update(name=CHOOSE_MANUAL)
    async def choose_manual(self, request: ChooseManual) -> ManualInstructions:
        return await self._order().choose_manual(request)

    @choose_manual.validator
    def _validate_choose(self, request: ChooseManual) -> None:
        self._order().validate_choose(request)

    @workflow.update(name=RECORD_MANUAL)
    async def record_manual(self, payment: ManualPayment) -> OrderState:
        return await self._order().record_manual(payment)

    @record_manual.validator
    def _validate_record(self, payment: ManualPayment) -> None:
        self._order().validate_record(payment)

    @workflow.update(name=PAY_WITH_CREDIT)
    async def pay_order_with_credit(self, request: PayWithCredit) -> OrderState:
        return await self._order().pay_with_credit(request)

    @pay_order_with_credit.validator
    def _validate_order_credit(self, request: PayWithCredit) -> None:
        self._order().validate_credit(request)

    # ---- PayPal ----------------------------------------------------------------------------

    @workflow.update(name=BEGIN_PAYPAL)
    async def begin_paypal(self, request: BeginPayPal) -> PayPalCheckout:
        """A PayPal order for what is due now (a new one if a payment since changed that)."""
        if self._pay is not None:
            return await self._pay.begin_paypal(request)
        inp = self._inp
        await workflow.wait_condition(lambda: self._issued)
        if self._checkout is None or self._checkout_for != self._state.due_minor:
            self._paypal_attempt += 1
            due = self._state.due_minor
            created: PayPalCheckout = await workflow.execute_activity(
                "create_paypal_order", CreatePayPalOrder(
                    0, inp.number, f"Invoice {inp.number}", due, inp.currency, request.return_url,
                    request.cancel_url, f"{workflow.info().workflow_id}:{workflow.info().run_id}:create:"
                    f"{self._paypal_attempt}", reference=inp.number),
                result_type=PayPalCheckout, **STEP)
            await workflow.execute_activity("record_invoice_paypal_order",
                                            InvoicePayPalOrder(inp.invoice_id, created.paypal_order_id), **STEP)
            self._checkout, self._checkout_for = created, due
            self._state.paypal_order_id, self._state.approve_url = created.paypal_order_id, created.approve_url
        return self._checkout

    @begin_paypal.validator
    def _validate_begin(self, request: BeginPayPal) -> None:
        if self._pay is not None:
            return self._pay.validate_begin(request)
        self._require_unpaid()

    @workflow.signal(name=PAYPAL_APPROVED)
    async def paypal_approved(self, approval: PayPalApproved) -> None:
        """The payer approved at PayPal: capture (once per PayPal order) and record it."""
        if self._pay is not None:
            return self._pay.paypal_approved(approval)
        checkout = self._checkout
        if checkout is None or approval.paypal_order_id != checkout.paypal_order_id or self._done():
            return
        await workflow.wait_condition(lambda: not self._recording)
        if self._done() or self._checkout is not checkout:
            return
        self._recording = True
        if not await confirmed_at_paypal(checkout.paypal_order_id, **STEP) or self._done() \
                or self._checkout is not checkout:
            self._recording = False   # not approved at PayPal (a return before approving, a guess): no change
            return
        self._state.message = "Taking your PayPal payment…"
        self._capture_attempts += 1
        request_id = capture_request_id(checkout.paypal_order_id, self._capture_attempts)
        try:
            capture: CaptureResult = await workflow.execute_activity(
                "capture_paypal_order", CapturePayPalOrder(0, checkout.paypal_order_id, request_id=request_id),
                result_type=CaptureResult, **STEP)
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type in (Refusal.PAYMENT_DECLINED,
                                                                       Refusal.PROVIDER_REFUSED):
                self._recording = False
                self._state.message = cause.message
                self._checkout = None   # the payer starts again, perhaps with another card
                return
            raise
        if capture.status == PayPalCaptureStatus.PENDING:   # the money is in flight; PayPal's webhook says how it ends
            self._recording = False
            self._state.message = "PayPal is still processing the payment."
            return
        if capture.status != PayPalCaptureStatus.COMPLETED and workflow.patched(PAYPAL_TRUTH):   # DECLINED, FAILED: not paid
            self._recording = False
            self._checkout = None
            self._state.message = NOT_COMPLETED
            return
        try:
            await self._take_capture(capture.capture_id, capture.amount_minor, capture.currency)
        finally:
            self._recording = False

    @workflow.signal(name=CAPTURE_REPORTED)
    async def capture_reported(self, report: CaptureReported) -> None:
        """A capture PayPal completed (our own, or a pending one settling), told by webhook."""
        if self._pay is not None:
            return self._pay.capture_reported(report)
        if self._checkout is None or report.paypal_order_id != self._checkout.paypal_order_id:
            return
        await workflow.wait_condition(lambda: not self._recording)
        if report.capture_id in self._captures:
            return
        self._recording = True
        try:
            if not workflow.patched(PAYPAL_TRUTH):   # runs from before: the webhook's word was taken
                await self._take_capture(report.capture_id, report.amount_minor, report.currency)
                return
            await self._take_truth(report.paypal_order_id, report.capture_id)
        finally:
            self._recording = False

    async def _take_truth(self, paypal_order_id: str, capture_id: str) -> None:
        """Read the capture a webhook named back from PayPal and act on that: COMPLETED is recorded,
        DECLINED or FAILED ends this checkout, PENDING waits, one PayPal does not have changes nothing."""
        truth = await read_capture(paypal_order_id, capture_id)
        if truth.status == PayPalCaptureStatus.COMPLETED:
            await self._take_capture(truth.capture_id, truth.amount_minor, truth.currency)
        elif truth.status in (PayPalCaptureStatus.DECLINED, PayPalCaptureStatus.FAILED) and self._checkout is not None \
                and self._checkout.paypal_order_id == paypal_order_id:
            self._checkout = None
            self._state.message = NOT_COMPLETED

    @workflow.signal(name=CAPTURE_DENIED)
    async def capture_denied(self, report: CaptureDenied) -> None:
        if self._pay is not None:
            return self._pay.capture_denied(report)
        if self._checkout is None or report.paypal_order_id != self._checkout.paypal_order_id:
            return
        if not workflow.patched(PAYPAL_TRUTH):
            self._checkout = None
            self._state.message = NOT_COMPLETED
            return
        await workflow.wait_condition(lambda: not self._recording)
        self._recording = True
        try:
            await self._take_truth(report.paypal_order_id, report.capture_id)
        finally:
            self._recording = False

    async def _take_capture(self, capture_id: str, amount_minor: int, currency: str) -> None:
        """Money PayPal captured, recorded on the invoice once (more than is due becomes credit)."""
        if capture_id in self._captures:
            return
        self._captures.add(capture_id)
        try:
            applied: PaymentApplied = await workflow.execute_activity(
                "apply_invoice_payment", InvoicePayment(self._inp.invoice_id, PaymentMethod.PAYPAL, amount_minor, currency,
                                                        capture_id, workflow.now(), "paypal"),
                result_type=PaymentApplied, **STEP)
        except ActivityError as err:   # refused by the books: the money is at PayPal, an operator decides
            self._state.message = (f"PayPal capture {capture_id} could not be recorded "
                                   f"({getattr(err.cause, 'message', err)}); an operator will look at it.")
            workflow.logger.warning("invoice %s: capture %s not recorded", self._inp.number, capture_id)
            return
        self._checkout = None
        self._state.message = ""
        await self._receipt(applied, PaymentMethod.PAYPAL)

    @workflow.update(name=PAY_INVOICE_WITH_CREDIT)
    async def pay_with_credit(self, request: PayWithCredit) -> InvoiceState:
        """The client pays from their credit balance: all that is due, or what the balance holds."""
        if self._pay is not None:
            await self._pay.pay_with_credit(request)
            return self.state()
        self._recording = True
        self._credit_attempt += 1
        try:
            applied: PaymentApplied = await workflow.execute_activity(
                "pay_invoice_from_credit", InvoiceCredit(self._inp.invoice_id, credit_key(self._credit_attempt),
                                                         request.actor), result_type=PaymentApplied, **STEP)
        finally:
            self._recording = False
        balance_empty(applied)
        await self._receipt(applied, PaymentMethod.CREDIT)
        return self._state

    @pay_with_credit.validator
    def _validate_credit(self, request: PayWithCredit) -> None:
        if self._pay is not None:
            return self._pay.validate_credit(request)
        self._require_unpaid()

    def _require_unpaid(self) -> None:
        if self._paid or self._cancel is not None or self._state.status != InvoiceStatus.UNPAID:
            raise ApplicationError(f"Invoice {self._inp.number} is {self._state.status}; nothing is due.",
                                   type="invoice_not_payable")
        if self._recording:
            raise ApplicationError("Another payment for this invoice is being recorded.", type="invoice_not_payable")

    async def _receipt(self, applied: PaymentApplied, method: str) -> None:
        inp = self._inp
        if applied.applied_minor or applied.overpaid_minor:
            await send_receipt(inp.number, method, applied.reference, inp.client_email, inp.client_id, inp.client_name)
        self._state.due_minor = applied.outstanding_minor
        if applied.paid_in_full:
            self._paid = True
            self._state.status, self._state.message = InvoiceStatus.PAID, ""
        elif applied.outstanding_minor < inp.total_minor:
            self._state.message = partly_paid(applied.outstanding_minor, inp.currency)

    def _done(self) -> bool:
        return self._paid or self._cancel is not None

    @workflow.run
    async def run(self, inp: InvoiceInput) -> InvoiceState:
        if self._pay is not None:
            return await self._settle_order(self._pay)
        issued: PaymentApplied = await workflow.execute_activity(
            "issue_custom_invoice", IssueCustomInvoice(inp.invoice_id, f"{workflow.info().workflow_id}:credit"),
            result_type=PaymentApplied, **STEP)
        await self._receipt(issued, PaymentMethod.CREDIT)
        self._issued = True
        for when, step, level in dunning_steps(inp):
            if self._done():
                break
            try:
                await workflow.wait_condition(self._done, timeout=max(timedelta(0), when - workflow.now()))
                break
            except asyncio.TimeoutError:
                pass
            await workflow.wait_condition(lambda: not self._recording)   # a payment being recorded decides first
            if self._done():
                break
            if step == "suspend":
                await self._suspend()
            else:
                suspend_on = (inp.due_at + timedelta(days=inp.dunning.suspend_after_days)).date() \
                    if inp.dunning.suspend_after_days and level == len(inp.dunning.overdue_days) else None
                self._state.reminders += 1
                await workflow.execute_activity("send_dunning_notice", DunningNotice(
                    inp.invoice_id, step, level, inp.client_email, inp.client_id, inp.client_name,
                    self._state.reminders, suspend_on), **STEP)
        await workflow.wait_condition(self._done)
        await workflow.wait_condition(lambda: not self._recording)   # a capture in flight settles first
        if self._cancel is not None and not self._paid:
            await workflow.execute_activity("cancel_custom_invoice", CancelCustomInvoice(
                inp.invoice_id, self._cancel.reason, self._cancel.actor), **STEP)
            self._state.status = InvoiceStatus.CANCELLED
        if self._suspended:
            await self._lift()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _settle_order(self, pay: OrderPayment) -> InvoiceState:
        """An order's invoice: paid, cancelled or past the order's deadline; the order acts on it (a
        capture that does not match what is due fails this run, and so the order: `attention`)."""
        settled = await pay.settle()
        pay.state.status = OrderRunStatus.CANCELLED if settled.cancel else OrderRunStatus.PAID
        if settled.cancel:
            pay.state.message = settled.cancel.reason
        settled.state = pay.state
        self._settled = settled
        parent = workflow.info().parent
        if parent is not None:
            # open until the order has told its addresses: a late payment meanwhile is refused
            # here, by what this invoice knows ("nothing is due"), not by a closed workflow
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(INVOICE_SETTLED, settled)
            await workflow.wait_condition(lambda: self._released)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state()

    async def _suspend(self) -> None:
        inp = self._inp
        services: list[ServiceLine] = await workflow.execute_activity(
            "set_client_suspended", ClientServices(inp.client_id, True, inp.number), result_type=list[ServiceLine],
            **STEP)
        for line in services:
            await workflow.execute_activity("suspend_address", SuspendAddress(
                line.address, line.kind, line.destination, DEBT_MESSAGE), **STEP)
        self._suspended = services
        self._state.suspended = True

    async def _lift(self) -> None:
        """Restore what this invoice suspended and is still running (an address that has since
        expired stays as its own workflow left it)."""
        inp = self._inp
        running: list[ServiceLine] = await workflow.execute_activity(
            "set_client_suspended", ClientServices(inp.client_id, False, inp.number), result_type=list[ServiceLine],
            **STEP)
        still = {line.subscription_id for line in running}
        for line in self._suspended:
            if line.subscription_id in still:
                await workflow.execute_activity("restore_address", RestoreAddress(
                    line.address, line.kind, line.destination, DEBT_MESSAGE), **STEP)
        self._suspended = []
        self._state.suspended = False
