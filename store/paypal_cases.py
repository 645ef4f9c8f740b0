"""What PayPal did to a capture of ours after it was paid, as its look-ups reported it: reversals
(money PayPal took back, recorded on the invoice like a refund PayPal made) and disputes (open or
resolved, shown to operators on the invoice)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.money import Money
from core.statuses import InvoiceStatus, PaymentMethod, PayPalCaseKind, PayPalRefundStatus
from store import audit
from store.billing import MONEY_BACK, lock_invoice, paid_on
from store.models import Invoice, PayPalCase, Payment


async def _invoice_of(session: AsyncSession, capture_id: str) -> Invoice | None:
    capture = (await session.execute(select(Payment).where(
        Payment.method == PaymentMethod.PAYPAL, Payment.reference == capture_id))).scalar_one_or_none()
    return None if capture is None else await lock_invoice(session, capture.invoice_id)


async def record_reversal(session: AsyncSession, *, capture_id: str, reversal_id: str, amount: Money,
                          at: datetime) -> tuple[Invoice | None, bool]:
    """A reversal once per id: the case, and a negative payment on the invoice the capture paid (the
    invoice is `refunded` when nothing of it remains paid). (invoice or None, whether it is new)."""
    invoice = await _invoice_of(session, capture_id)
    if (await session.execute(select(PayPalCase).where(
            PayPalCase.kind == PayPalCaseKind.REVERSAL, PayPalCase.case_id == reversal_id))).scalar_one_or_none():
        return invoice, False
    if (await session.execute(select(Payment).where(   # already money back as a refund under that id
            Payment.method.in_(MONEY_BACK), Payment.reference == reversal_id))).scalars().first():
        return invoice, False
    session.add(PayPalCase(kind=PayPalCaseKind.REVERSAL, case_id=reversal_id, capture_id=capture_id,
                           invoice_id=invoice.id if invoice else None, status=PayPalRefundStatus.COMPLETED,
                           amount_minor=amount.minor, currency=amount.currency, created_at=at, updated_at=at))
    if invoice is not None:
        session.add(Payment(invoice_id=invoice.id, method=PaymentMethod.PAYPAL_REVERSAL, amount_minor=-amount.minor,
                            applied_minor=-amount.minor, currency=amount.currency, reference=reversal_id,
                            received_at=at, actor="paypal"))
        await session.flush()
        before = invoice.status
        if await paid_on(session, invoice.id) <= 0 and invoice.status == InvoiceStatus.PAID:
            invoice.status = InvoiceStatus.REFUNDED
        audit.record(session, "paypal", "payment.reversed", "invoice", invoice.number, {"invoice": before},
                     {"invoice": invoice.status, "reversal": reversal_id, "amount": amount.amount(),
                      "capture": capture_id})
    await session.flush()
    return invoice, True


async def record_dispute(session: AsyncSession, *, dispute_id: str, capture_ids: tuple[str, ...], status: str,
                         amount: Money | None, reason: str, outcome: str, at: datetime
                         ) -> tuple[PayPalCase, Invoice | None, bool]:
    """A dispute as PayPal has it now; (case, invoice or None, whether its status or outcome changed)."""
    invoice, capture_id = None, capture_ids[0] if capture_ids else ""
    for cid in capture_ids:
        invoice = await _invoice_of(session, cid)
        if invoice is not None:
            capture_id = cid
            break
    case = (await session.execute(select(PayPalCase).where(
        PayPalCase.kind == PayPalCaseKind.DISPUTE, PayPalCase.case_id == dispute_id))).scalar_one_or_none()
    changed = case is None or (case.status, case.outcome) != (status, outcome)
    if case is None:
        case = PayPalCase(kind=PayPalCaseKind.DISPUTE, case_id=dispute_id, capture_id=capture_id[:64],
                          invoice_id=invoice.id if invoice else None, created_at=at)
        session.add(case)
    case.status, case.outcome, case.reason, case.updated_at = status[:32], outcome[:40], reason[:80], at
    if amount is not None:
        case.amount_minor, case.currency = amount.minor, amount.currency
    if changed and invoice is not None:
        audit.record(session, "paypal", "payment.disputed", "invoice", invoice.number, None,
                     {"dispute": dispute_id, "status": status, "outcome": outcome, "capture": capture_id})
    await session.flush()
    return case, invoice, changed
