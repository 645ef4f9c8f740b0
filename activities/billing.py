"""Billing steps: issue an order's invoice (credit first, then the invoice emailed with its PDF), apply
a payment or the credit balance to it, email a receipt, and refund a PayPal capture (reserve, ask
PayPal with the refund's own idempotency key, then record or release). Each is keyed and repeatable."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.heartbeat import heartbeating
from activities.notifications import NotificationActivities, attachment
from activities.refusals import refusals_final
from core.money import Money
from core.statuses import InvoiceStatus, PaymentMethod, PayPalRefundStatus, RefundOutcomeStatus
from providers.paypal.protocol import LogicalError, PaymentsAPI, RefundRequest, RefundResult
from store import billing, dunning, invoice_pdf, orders
from store.invoicing import Seller
from store.models import Client, Invoice
from workflows.contracts import (
    CancelCustomInvoice,
    ClientServices,
    DunningNotice,
    InvoiceCredit,
    InvoicePayment,
    InvoicePayPalOrder,
    IssueCustomInvoice,
    IssueInvoice,
    PaymentApplied,
    PayFromCredit,
    RecordPayment,
    RefundInput,
    RefundOutcome,
    RefundReserved,
    SendReceipt,
    ServiceLine,
)

METHOD_NAMES = {PaymentMethod.PAYPAL: "PayPal", PaymentMethod.CHEQUE: "cheque", PaymentMethod.WIRE: "wire transfer",
                PaymentMethod.CREDIT: "credit balance"}


def _applied(outcome: billing.PaymentOutcome, reference: str) -> PaymentApplied:
    return PaymentApplied(outcome.invoice_number, outcome.applied_minor, outcome.overpaid_minor,
                          outcome.outstanding_minor, outcome.paid_in_full, reference)


async def _order_invoice(session: AsyncSession, order_id: int) -> Invoice:
    invoice = await orders.invoice_for_order(session, order_id)
    if invoice is None:
        raise LookupError(f"order {order_id} has no invoice")
    return invoice


class BillingActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], notifications: NotificationActivities,
                 paypal: PaymentsAPI, *, seller: Seller, base_url: str):
        self._sessions, self._notifications, self._paypal = sessions, notifications, paypal
        self._seller, self._base = seller, base_url.rstrip("/")

    @activity.defn(name="issue_invoice")
    @heartbeating
    async def issue_invoice(self, inp: IssueInvoice) -> PaymentApplied:
        """Credit first (when the client lets it), then, if anything is left to pay, the invoice email."""
        async with self._sessions() as session:
            invoice = await _order_invoice(session, inp.order_id)
        return await self._issue(invoice.id, inp.credit_key, f"{self._base}/orders/{inp.order_id}")

    @activity.defn(name="issue_custom_invoice")
    @heartbeating
    async def issue_custom_invoice(self, inp: IssueCustomInvoice) -> PaymentApplied:
        return await self._issue(inp.invoice_id, inp.credit_key, f"{self._base}/invoices")

    async def _issue(self, invoice_id: int, credit_key: str, pay_url: str) -> PaymentApplied:
        now = datetime.now(timezone.utc)
        async with self._sessions.begin() as session:
            invoice = await session.get(Invoice, invoice_id)
            assert invoice is not None
            client = await session.get(Client, invoice.client_id)
            assert client is not None
            paid = None
            if client.apply_credit:
                paid = await billing.pay_from_credit(session, invoice_id=invoice.id, key=credit_key, now=now)
            outstanding = invoice.total_minor - await billing.paid_on(session, invoice.id)
        result = (_applied(paid, credit_key) if paid is not None
                  else PaymentApplied(invoice.number, 0, 0, max(0, outstanding), outstanding <= 0))
        if not result.paid_in_full:
            async with self._sessions() as session:
                document = await invoice_pdf.of_number(session, invoice.number, self._seller)
            invoice, client = document.invoice, document.client
            due = Money(result.outstanding_minor, invoice.currency)
            await self._notifications.deliver(
                f"invoice:{invoice.number}:issued", "invoice_issued", client.email, client.id,
                {"name": client.name, "invoice": invoice.number,
                 "total": Money(invoice.total_minor, invoice.currency).display(), "due": due.display(),
                 "credit_applied": Money(result.applied_minor, invoice.currency).display()
                 if result.applied_minor else "",
                 "due_date": invoice.due_at.date().isoformat(), "pay_url": pay_url,
                 "invoices_url": f"{self._base}/invoices"},
                [attachment(document)])
        return result

    @activity.defn(name="apply_payment")
    @heartbeating
    async def apply_payment(self, inp: RecordPayment) -> PaymentApplied:
        async with self._sessions() as session:
            invoice = await _order_invoice(session, inp.order_id)
        return await self._record(InvoicePayment(invoice.id, inp.method, inp.amount_minor, inp.currency, inp.reference,
                                                 inp.received_at, inp.actor))

    async def _record(self, inp: InvoicePayment) -> PaymentApplied:
        """Money received against an invoice (store.billing.apply_payment); a refusal is not retried."""
        async with refusals_final(), self._sessions.begin() as session:
            outcome = await billing.apply_payment(
                session, invoice_id=inp.invoice_id, method=inp.method, amount=Money(inp.amount_minor, inp.currency),
                reference=inp.reference, received_at=inp.received_at, actor=inp.actor)
        return _applied(outcome, inp.reference)

    @activity.defn(name="pay_from_credit")
    @heartbeating
    async def pay_from_credit(self, inp: PayFromCredit) -> PaymentApplied:
        async with self._sessions() as session:
            invoice = await _order_invoice(session, inp.order_id)
        return await self._credit(invoice.id, inp.key, inp.actor)

    @activity.defn(name="pay_invoice_from_credit")
    @heartbeating
    async def pay_invoice_from_credit(self, inp: InvoiceCredit) -> PaymentApplied:
        return await self._credit(inp.invoice_id, inp.key, inp.actor)

    async def _credit(self, invoice_id: int, key: str, actor: str) -> PaymentApplied:
        """What the credit balance can pay of the invoice, once per key (nothing: what is still due)."""
        now = datetime.now(timezone.utc)
        async with self._sessions.begin() as session:
            outcome = await billing.pay_from_credit(session, invoice_id=invoice_id, key=key, now=now, actor=actor)
            if outcome is None:
                invoice = await billing.lock_invoice(session, invoice_id)
                due = invoice.total_minor - await billing.paid_on(session, invoice.id)
                return PaymentApplied(invoice.number, 0, 0, max(0, due), due <= 0)
        return _applied(outcome, key)

    @activity.defn(name="send_receipt")
    @heartbeating
    async def send_receipt(self, inp: SendReceipt) -> None:
        """One receipt per payment: what came in, what it paid, what became credit, what is still due."""
        async with self._sessions() as session:
            document = await invoice_pdf.of_number(session, inp.invoice_number, self._seller)
        invoice, client, due = document.invoice, document.client, document.outstanding_minor
        payment = next((p for p in document.payments if p.method == inp.method and p.reference == inp.reference),
                       None)
        if payment is None:
            raise LookupError(f"no {inp.method} payment {inp.reference} on invoice {inp.invoice_number}")
        money = lambda minor: Money(minor, invoice.currency).display()  # noqa: E731
        await self._notifications.deliver(
            f"receipt:{inp.method}:{inp.reference}", "payment_receipt", inp.to or client.email, client.id,
            {"name": inp.name or client.name, "invoice": invoice.number, "amount": money(payment.amount_minor),
             "method": METHOD_NAMES.get(payment.method, payment.method), "reference": payment.reference,
             "received_on": payment.received_at.date().isoformat(), "applied": money(payment.applied_minor),
             "credit": money(payment.amount_minor - payment.applied_minor)
             if payment.amount_minor > payment.applied_minor else "",
             "due": money(due) if due else "", "invoices_url": f"{self._base}/invoices"},
            [attachment(document)])

    @activity.defn(name="record_invoice_paypal_order")
    @heartbeating
    async def record_invoice_paypal_order(self, inp: InvoicePayPalOrder) -> None:
        async with self._sessions.begin() as session:
            await orders.record_invoice_paypal_order(session, inp.invoice_id, inp.paypal_order_id)

    @activity.defn(name="apply_invoice_payment")
    @heartbeating
    async def apply_invoice_payment(self, inp: InvoicePayment) -> PaymentApplied:
        return await self._record(inp)

    # ---- dunning -------------------------------------------------------------------------

    @activity.defn(name="send_dunning_notice")
    @heartbeating
    async def send_dunning_notice(self, inp: DunningNotice) -> None:
        """A reminder that an invoice is coming due or overdue, with what is still due and its PDF."""
        async with self._sessions.begin() as session:
            invoice = await dunning.note_reminder(session, inp.invoice_id, inp.count)
        async with self._sessions() as session:
            document = await invoice_pdf.of_number(session, invoice.number, self._seller)
        invoice, client, due = document.invoice, document.client, document.outstanding_minor
        if invoice.status != InvoiceStatus.UNPAID or due <= 0:
            return
        await self._notifications.deliver(
            f"dunning:{invoice.number}:{inp.step}:{inp.level}", "invoice_reminder", inp.to or client.email, client.id,
            {"name": inp.name or client.name, "invoice": invoice.number, "step": inp.step, "level": str(inp.level),
             "due": Money(due, invoice.currency).display(), "due_date": invoice.due_at.date().isoformat(),
             "suspend_on": inp.suspend_on.isoformat() if inp.suspend_on else "",
             "pay_url": f"{self._base}/invoices"},
            [attachment(document)])

    @activity.defn(name="set_client_suspended")
    @heartbeating
    async def set_client_suspended(self, inp: ClientServices) -> list[ServiceLine]:
        async with self._sessions.begin() as session:
            running = await dunning.set_suspended(session, inp.client_id, inp.suspended, inp.invoice_number,
                                                  datetime.now(timezone.utc))
            return [ServiceLine(s.id, s.address, s.kind, s.destination) for s in running]

    @activity.defn(name="cancel_custom_invoice")
    @heartbeating
    async def cancel_custom_invoice(self, inp: CancelCustomInvoice) -> None:
        async with self._sessions.begin() as session:
            await billing.cancel_invoice(session, invoice_id=inp.invoice_id, reason=inp.reason, actor=inp.actor,
                                         now=datetime.now(timezone.utc))

    # ---- refunds -------------------------------------------------------------------------

    @activity.defn(name="reserve_refund")
    @heartbeating
    async def reserve_refund(self, inp: RefundInput) -> RefundReserved:
        async with refusals_final(), self._sessions.begin() as session:
            refund = await billing.reserve_refund(
                session, key=inp.key, invoice_number=inp.invoice_number,
                amount=Money(inp.amount_minor, inp.currency), reason=inp.reason, actor=inp.actor)
            capture = await billing.payment(session, refund.payment_id)
            return RefundReserved(refund.id, capture.reference, refund.status)

    @activity.defn(name="refund_at_paypal")
    @heartbeating
    async def refund_at_paypal(self, inp: RefundInput) -> RefundOutcome:
        """Ask PayPal once per key (PayPal-Request-Id); a refusal is an outcome, a fault is retried."""
        async with self._sessions() as session:
            refund = await billing.refund_by_key(session, inp.key)
            capture = await billing.payment(session, refund.payment_id)
        try:
            result = await self._paypal.refund_capture(RefundRequest(
                capture.reference, Money(refund.amount_minor, refund.currency), inp.invoice_number,
                f"Refund for invoice {inp.invoice_number}: {refund.reason}", request_id=inp.key))
        except LogicalError as exc:
            return RefundOutcome(refund.id, RefundOutcomeStatus.FAILED, message=str(exc))
        return refund_outcome(refund.id, result)

    @activity.defn(name="check_paypal_refund")
    @heartbeating
    async def check_paypal_refund(self, pending: RefundOutcome) -> RefundOutcome:
        """A pending refund as PayPal has it now (GET /v2/payments/refunds/{id})."""
        try:
            result = await self._paypal.get_refund(pending.paypal_refund_id)
        except LogicalError as exc:   # NotAtPayPal included: it never was a refund there
            return RefundOutcome(pending.refund_id, RefundOutcomeStatus.FAILED, pending.paypal_refund_id,
                                 message=str(exc))
        return refund_outcome(pending.refund_id, result)

    @activity.defn(name="settle_refund")
    @heartbeating
    async def settle_refund(self, outcome: RefundOutcome) -> None:
        async with self._sessions.begin() as session:
            if outcome.status == RefundOutcomeStatus.COMPLETED:
                await billing.complete_refund(session, refund_id=outcome.refund_id,
                                              paypal_refund_id=outcome.paypal_refund_id,
                                              now=datetime.now(timezone.utc))
            elif outcome.status == RefundOutcomeStatus.PENDING:
                await billing.pend_refund(session, refund_id=outcome.refund_id,
                                          paypal_refund_id=outcome.paypal_refund_id)
            else:
                await billing.fail_refund(session, refund_id=outcome.refund_id, message=outcome.message)


def refund_outcome(refund_id: int, result: RefundResult) -> RefundOutcome:
    """PayPal's refund status, ours: only COMPLETED is money back; PENDING waits; the rest failed."""
    if result.status == PayPalRefundStatus.COMPLETED:
        return RefundOutcome(refund_id, RefundOutcomeStatus.COMPLETED, result.id)
    if result.status == PayPalRefundStatus.PENDING:
        return RefundOutcome(refund_id, RefundOutcomeStatus.PENDING, result.id,
                             "PayPal is still processing the refund.")
    return RefundOutcome(refund_id, RefundOutcomeStatus.FAILED, result.id,
                         f"PayPal answered {result.status or 'nothing'}")
