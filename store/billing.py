"""Money against invoices: payments (partial, exact, or over with the rest as credit), paying from the
credit balance, credit notes that cancel an issued invoice, and PayPal refunds reserved before PayPal is
asked. Each step is keyed, so a retried activity writes it once; the invoice row is locked while its
money changes, so two operators recording at once cannot both apply."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing import check_refund, settle
from core.money import Money
from core.refusals import Refusals, refuse
from core.statuses import BillingMode, InvoiceStatus, OrderStatus, PaymentMethod, RefundStatus
from store import audit, credit
from store.db import locked_one
from store.models import CreditNote, CreditNoteSequence, Invoice, Order, Payment, PromoRedemption, Refund

CREDIT_NOTE_FORMAT = "CN-{year}-{seq:06d}"


@dataclass(frozen=True)
class PaymentOutcome:
    invoice_number: str
    recorded: bool           # False: this payment was already recorded (a retry)
    applied_minor: int
    overpaid_minor: int      # became credit
    outstanding_minor: int   # still due on the invoice
    paid_in_full: bool


async def next_number(session: AsyncSession, table, year: int, fmt: str) -> str:
    """Gapless: the counter row is locked by the UPDATE until the issuing transaction ends."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(table).values(year=year, last=0).on_conflict_do_nothing())
    seq = (await session.execute(
        update(table).where(table.year == year).values(last=table.last + 1).returning(table.last))).scalar_one()
    return fmt.format(year=year, seq=seq)


async def lock_invoice(session: AsyncSession, invoice_id: int) -> Invoice:
    return await locked_one(session, select(Invoice).where(Invoice.id == invoice_id),
                            Refusals.INVOICE_UNKNOWN, "invoice", invoice_id=invoice_id)


async def paid_on(session: AsyncSession, invoice_id: int) -> int:
    """What payments (less refunds) have put towards the invoice, in minor units."""
    return int((await session.execute(select(func.coalesce(func.sum(Payment.applied_minor), 0))
                                      .where(Payment.invoice_id == invoice_id))).scalar_one())


def paid_column():
    """What payments less refunds have put towards the invoice of the row, as a column: a correlated
    subquery, so a page of invoices costs an index lookup per row, not a sum over every payment."""
    return func.coalesce(select(func.sum(Payment.applied_minor)).where(Payment.invoice_id == Invoice.id)
                         .correlate(Invoice).scalar_subquery(), 0)


async def chased(session: AsyncSession, invoices: list[Invoice]) -> set[str]:
    """The numbers of those invoices whose money moves through their own invoice workflow (an
    operator's own, a postpaid order's) rather than through their order's; one query."""
    order_ids = {i.order_id for i in invoices if i.order_id is not None}
    postpaid = set((await session.execute(select(Order.id).where(
        Order.id.in_(order_ids), Order.billing == BillingMode.POSTPAID))).scalars()) if order_ids else set()
    return {i.number for i in invoices if i.order_id is None or i.order_id in postpaid}


async def payment(session: AsyncSession, payment_id: int) -> Payment:
    row = await session.get(Payment, payment_id)
    if row is None:
        raise LookupError(f"payment {payment_id} does not exist")
    return row


def _refuse_unpayable(invoice: Invoice) -> None:
    if invoice.status == InvoiceStatus.CANCELLED:
        raise refuse(Refusals.INVOICE_CANCELLED, "invoice", number=invoice.number)
    if invoice.status == InvoiceStatus.REFUNDED:
        raise refuse(Refusals.INVOICE_REFUNDED, "invoice", number=invoice.number)
    if invoice.status == InvoiceStatus.PAID:
        raise refuse(Refusals.INVOICE_PAID, "invoice", number=invoice.number)
    if invoice.status == InvoiceStatus.DRAFT:
        raise refuse(Refusals.INVOICE_DRAFT, "invoice", number=invoice.number)


async def _outcome(session: AsyncSession, invoice: Invoice, recorded: bool, applied: int = 0,
                   overpaid: int = 0) -> PaymentOutcome:
    outstanding = max(0, invoice.total_minor - await paid_on(session, invoice.id))
    return PaymentOutcome(invoice.number, recorded, applied, overpaid, outstanding,
                          invoice.status == InvoiceStatus.PAID
                          or (outstanding == 0 and invoice.status == InvoiceStatus.UNPAID))


async def apply_payment(session: AsyncSession, *, invoice_id: int, method: str, amount: Money, reference: str,
                        received_at: datetime, actor: str = "system") -> PaymentOutcome:
    """Record money received against an invoice, once per (method, reference). Part of the total
    leaves the rest due; more than is due is recorded whole and the excess becomes credit."""
    invoice = await lock_invoice(session, invoice_id)
    existing = (await session.execute(
        select(Payment).where(Payment.method == method, Payment.reference == reference))).scalar_one_or_none()
    if existing is not None:
        if existing.invoice_id != invoice.id:
            raise refuse(Refusals.PAYMENT_REFERENCE_USED, "reference", method=method, reference=reference)
        return await _outcome(session, invoice, False, existing.applied_minor,
                              existing.amount_minor - existing.applied_minor)
    _refuse_unpayable(invoice)
    if amount.currency != invoice.currency:
        raise refuse(Refusals.CURRENCY_MISMATCH, "currency",
                     message=f"Invoice {invoice.number} is in {invoice.currency}, not {amount.currency}.")
    settled = settle(Money(invoice.total_minor, invoice.currency), Money(await paid_on(session, invoice.id),
                                                                         invoice.currency), amount)
    payment = Payment(invoice_id=invoice.id, method=method, amount_minor=amount.minor, currency=amount.currency,
                      reference=reference, received_at=received_at, applied_minor=settled.applied.minor, actor=actor)
    session.add(payment)
    await session.flush()
    before = {"invoice": invoice.status}
    if settled.overpaid.minor:
        await credit.add_entry(session, client_id=invoice.client_id, amount=settled.overpaid, kind="overpayment",
                               reference=f"{method}:{reference}", reason=f"Overpayment of invoice {invoice.number}",
                               actor=actor, invoice_id=invoice.id)
    if settled.paid_in_full:
        invoice.status, invoice.paid_at = InvoiceStatus.PAID, received_at
        if invoice.order_id is not None:
            order = await session.get(Order, invoice.order_id)
            assert order is not None
            order.status, order.paid_at = OrderStatus.PAID, received_at
    audit.record(session, actor, "payment.recorded", "invoice", invoice.number, before,
                 {"invoice": invoice.status, "method": method, "amount": amount.amount(), "reference": reference,
                  "applied": settled.applied.amount(), "credit": settled.overpaid.amount(),
                  "outstanding": settled.outstanding.amount()})
    return PaymentOutcome(invoice.number, True, settled.applied.minor, settled.overpaid.minor,
                          settled.outstanding.minor, settled.paid_in_full)


async def pay_from_credit(session: AsyncSession, *, invoice_id: int, key: str, now: datetime, actor: str = "system",
                          only_in_full: bool = False) -> PaymentOutcome | None:
    """Pay what the credit balance can of an invoice (all of it or nothing when `only_in_full`), under
    `key`, so a retry pays once. None: nothing was paid (no balance, or the invoice is not payable)."""
    invoice = await lock_invoice(session, invoice_id)
    earlier = (await session.execute(select(Payment).where(Payment.method == PaymentMethod.CREDIT,
                                                           Payment.reference == key))).scalar_one_or_none()
    if earlier is not None:   # a retry: what that payment did
        return await _outcome(session, invoice, False, earlier.applied_minor, earlier.amount_minor - earlier.applied_minor)
    if invoice.status != InvoiceStatus.UNPAID:
        return None
    due = invoice.total_minor - await paid_on(session, invoice.id)
    available = (await credit.balance(session, invoice.client_id, invoice.currency)).minor
    amount = min(due, available)
    if amount <= 0 or (only_in_full and amount < due):
        return None
    await credit.add_entry(session, client_id=invoice.client_id, amount=Money(-amount, invoice.currency),
                           kind="invoice_payment", reference=key, reason=f"Invoice {invoice.number}", actor=actor,
                           invoice_id=invoice.id)
    return await apply_payment(session, invoice_id=invoice.id, method=PaymentMethod.CREDIT,
                               amount=Money(amount, invoice.currency), reference=key, received_at=now, actor=actor)


async def cancel_invoice(session: AsyncSession, *, invoice_id: int, reason: str, actor: str,
                         now: datetime) -> CreditNote | None:
    """Cancel an issued invoice with a credit note for its total; what had been paid on it becomes
    credit. The invoice itself is never edited beyond its status. None: cancelled before credit notes."""
    invoice = await lock_invoice(session, invoice_id)
    note = (await session.execute(select(CreditNote).where(CreditNote.invoice_id == invoice.id))).scalar_one_or_none()
    if note is not None or invoice.status == InvoiceStatus.CANCELLED:
        return note
    if invoice.status == InvoiceStatus.REFUNDED:
        raise refuse(Refusals.INVOICE_REFUNDED, "invoice",
                     message=f"Invoice {invoice.number} was refunded; there is nothing to cancel.")
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise refuse(Refusals.REASON_MISSING, "reason")
    paid = await paid_on(session, invoice.id)
    number = await next_number(session, CreditNoteSequence, now.year, CREDIT_NOTE_FORMAT)
    note = CreditNote(number=number, invoice_id=invoice.id, client_id=invoice.client_id, currency=invoice.currency,
                      amount_minor=invoice.total_minor, credited_minor=max(0, paid), reason=reason, actor=actor,
                      issued_at=now)
    session.add(note)
    before = invoice.status
    invoice.status = InvoiceStatus.CANCELLED
    if paid > 0:
        await credit.add_entry(session, client_id=invoice.client_id, amount=Money(paid, invoice.currency),
                               kind="credit_note", reference=number,
                               reason=f"Credit note {number} for invoice {invoice.number}", actor=actor,
                               invoice_id=invoice.id)
    if invoice.order_id is not None:   # the promo code's use comes back with the order
        await session.execute(update(PromoRedemption).where(PromoRedemption.order_id == invoice.order_id)
                              .values(released=True))
    await session.flush()
    audit.record(session, actor, "invoice.cancelled", "invoice", invoice.number, {"status": before},
                 {"status": InvoiceStatus.CANCELLED, "credit_note": number, "total": Money(invoice.total_minor,
                                                                                invoice.currency).amount(),
                  "credited": Money(max(0, paid), invoice.currency).amount(), "reason": reason})
    return note


async def statement(session: AsyncSession, client_id: int) -> list[tuple[Invoice, int, int, CreditNote | None]]:
    """A client's invoices, newest first, each with what is paid on it, what is still due, and the
    credit note that cancelled it (if one did)."""
    result = await session.execute(
        select(Invoice, paid_column(), CreditNote)
        .outerjoin(CreditNote, CreditNote.invoice_id == Invoice.id)
        .where(Invoice.client_id == client_id, Invoice.status != InvoiceStatus.DRAFT)
        .order_by(Invoice.issued_at.desc(), Invoice.id.desc()))
    return [(invoice, int(p),
             max(0, invoice.total_minor - int(p)) if invoice.status == InvoiceStatus.UNPAID else 0, note)
            for invoice, p, note in result]


# ---- refunds --------------------------------------------------------------------------------

# PayPal's refund-like ids: each recorded once
MONEY_BACK = (PaymentMethod.PAYPAL_REFUND, PaymentMethod.PAYPAL_REVERSAL)


async def paypal_capture_of(session: AsyncSession, invoice: Invoice) -> Payment:
    capture = (await session.execute(select(Payment).where(
        Payment.invoice_id == invoice.id, Payment.method == PaymentMethod.PAYPAL, Payment.amount_minor > 0)
        .order_by(Payment.id))).scalars().first()
    if capture is None:
        raise refuse(Refusals.NO_PAYPAL_PAYMENT, "invoice", number=invoice.number)
    return capture


async def refundable(session: AsyncSession, capture: Payment) -> Money:
    """What is left of a capture: less our refunds (in flight or done) and any made at PayPal directly
    or taken back by PayPal (reversals), which reach us only as webhooks (refund or reversal payments
    no refund of ours accounts for)."""
    held = int((await session.execute(select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(
        Refund.payment_id == capture.id,
        Refund.status.in_((RefundStatus.REQUESTED, RefundStatus.PENDING, RefundStatus.COMPLETED))))).scalar_one())
    ours = select(Refund.paypal_refund_id).where(Refund.payment_id == capture.id, Refund.paypal_refund_id != "")
    outside = int((await session.execute(select(func.coalesce(func.sum(-Payment.amount_minor), 0)).where(
        Payment.invoice_id == capture.invoice_id, Payment.method.in_(MONEY_BACK),
        Payment.reference.not_in(ours)))).scalar_one())
    return Money(capture.amount_minor - held - outside, capture.currency)


async def reserve_refund(session: AsyncSession, *, key: str, invoice_number: str, amount: Money, reason: str,
                         actor: str) -> Refund:
    """Hold a refund against the invoice's PayPal capture before PayPal is asked; refuse more than is
    left of the capture (counting refunds still in flight). The same key returns the same refund."""
    existing = (await session.execute(select(Refund).where(Refund.key == key))).scalar_one_or_none()
    if existing is not None:
        return existing
    invoice = (await session.execute(select(Invoice).where(Invoice.number == invoice_number))).scalar_one_or_none()
    if invoice is None:
        raise refuse(Refusals.INVOICE_UNKNOWN, "invoice", message=f"There is no invoice {invoice_number}.")
    invoice = await lock_invoice(session, invoice.id)
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise refuse(Refusals.REASON_MISSING, "reason", message="Say why the money goes back (the payer sees it).")
    capture = await paypal_capture_of(session, invoice)
    if amount.currency != capture.currency:
        raise refuse(Refusals.CURRENCY_MISMATCH, "currency", message=f"The payment was in {capture.currency}.")
    left = await refundable(session, capture)
    check_refund(amount, Money(capture.amount_minor, capture.currency),
                 Money(capture.amount_minor - left.minor, capture.currency))
    refund = Refund(key=key, payment_id=capture.id, invoice_id=invoice.id, currency=amount.currency,
                    amount_minor=amount.minor, status=RefundStatus.REQUESTED, reason=reason, actor=actor)
    session.add(refund)
    await session.flush()
    audit.record(session, actor, "refund.requested", "invoice", invoice.number, None,
                 {"amount": amount.amount(), "capture": capture.reference, "key": key, "reason": reason})
    return refund


async def refund_by_key(session: AsyncSession, key: str) -> Refund:
    refund = (await session.execute(select(Refund).where(Refund.key == key))).scalar_one_or_none()
    if refund is None:
        raise LookupError(f"no refund under key {key}")
    return refund


async def complete_refund(session: AsyncSession, *, refund_id: int, paypal_refund_id: str, now: datetime) -> Invoice:
    """PayPal refunded it: a negative payment on the invoice (the webhook for the same refund id finds
    it already there); the invoice is `refunded` once nothing of it remains paid."""
    refund = await session.get(Refund, refund_id)
    assert refund is not None
    capture = await session.get(Payment, refund.payment_id)
    assert capture is not None
    invoice = await record_refund(session, capture_id=capture.reference, refund_id=paypal_refund_id,
                                  amount=Money(refund.amount_minor, refund.currency), refunded_at=now,
                                  actor=refund.actor)
    assert invoice is not None
    if refund.status != RefundStatus.COMPLETED:
        refund.status, refund.paypal_refund_id, refund.completed_at = RefundStatus.COMPLETED, paypal_refund_id, now
    return invoice


async def refund_by_paypal_id(session: AsyncSession, paypal_refund_id: str) -> Refund | None:
    if not paypal_refund_id:
        return None
    return (await session.execute(select(Refund).where(Refund.paypal_refund_id == paypal_refund_id))
            ).scalars().first()


async def pend_refund(session: AsyncSession, *, refund_id: int, paypal_refund_id: str) -> None:
    """PayPal took the refund but has not completed it (an eCheck): it stays held against the capture,
    is not a payment yet, and completes or is released when PayPal decides."""
    refund = await session.get(Refund, refund_id)
    assert refund is not None
    if refund.status == RefundStatus.REQUESTED:
        refund.status, refund.paypal_refund_id = RefundStatus.PENDING, paypal_refund_id
        invoice = await session.get(Invoice, refund.invoice_id)
        audit.record(session, refund.actor, "refund.pending", "invoice", invoice.number if invoice else "",
                     {"status": RefundStatus.REQUESTED}, {"status": RefundStatus.PENDING, "refund": paypal_refund_id})


async def fail_refund(session: AsyncSession, *, refund_id: int, message: str) -> None:
    refund = await session.get(Refund, refund_id)
    assert refund is not None
    if refund.status in (RefundStatus.REQUESTED, RefundStatus.PENDING):
        before = refund.status
        refund.status, refund.message = RefundStatus.FAILED, message[:300]
        invoice = await session.get(Invoice, refund.invoice_id)
        audit.record(session, refund.actor, "refund.failed", "invoice", invoice.number if invoice else "",
                     {"status": before}, {"status": RefundStatus.FAILED, "message": message[:300]})


async def record_refund(session: AsyncSession, *, capture_id: str, refund_id: str, amount: Money,
                        refunded_at: datetime, actor: str = "paypal") -> Invoice | None:
    """A refund of a PayPal capture, once per refund id, as a negative payment on the invoice the
    capture paid; the invoice is `refunded` when nothing of it remains paid. None: no such capture."""
    capture = (await session.execute(select(Payment).where(
        Payment.method == PaymentMethod.PAYPAL, Payment.reference == capture_id))).scalar_one_or_none()
    if capture is None:
        return None
    invoice = await lock_invoice(session, capture.invoice_id)
    if (await session.execute(select(Payment).where(   # once per id, whichever event (refund, reversal) named it
            Payment.method.in_(MONEY_BACK), Payment.reference == refund_id))).scalars().first():
        return invoice
    try:   # the refund's own workflow and PayPal's event may record it at once: the first one wins
        async with session.begin_nested():
            session.add(Payment(invoice_id=invoice.id, method=PaymentMethod.PAYPAL_REFUND, amount_minor=-amount.minor,
                                applied_minor=-amount.minor, currency=amount.currency, reference=refund_id,
                                received_at=refunded_at, actor=actor))
    except IntegrityError:
        return invoice
    before = invoice.status
    if await paid_on(session, invoice.id) <= 0 and invoice.status == InvoiceStatus.PAID:
        invoice.status = InvoiceStatus.REFUNDED
    audit.record(session, actor, "payment.refunded", "invoice", invoice.number, {"invoice": before},
                 {"invoice": invoice.status, "refund": refund_id, "amount": amount.amount(), "capture": capture_id})
    return invoice


async def refunds_of(session: AsyncSession, invoice_ids: list[int]) -> dict[int, list[Refund]]:
    """Each invoice's refunds, oldest first (the operators' view of how each has got on)."""
    found: dict[int, list[Refund]] = {}
    if invoice_ids:
        for refund in (await session.execute(select(Refund).where(Refund.invoice_id.in_(invoice_ids))
                                             .order_by(Refund.id))).scalars():
            found.setdefault(refund.invoice_id, []).append(refund)
    return found
