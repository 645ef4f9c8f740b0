"""Invoices, payments, credit notes, refunds, promo codes and the credit ledger."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.statuses import InvoiceStatus, PaymentMethod, RefundStatus
from store.models.base import Base, _now


class InvoiceSequence(Base):
    """Gapless numbering: one counter row per year, incremented inside the issuing transaction."""

    __tablename__ = "invoice_sequences"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_issued", "issued_at", "id"),              # newest first
                      Index("ix_invoices_status_issued", "status", "issued_at", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), default=InvoiceStatus.UNPAID, info={"statuses": InvoiceStatus})
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    total_minor: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")   # dunning notices
    created_by: Mapped[str] = mapped_column(String(120), default="system", server_default="system")
    # the PayPal order paying an invoice chased by its own workflow (an order's is on the order)
    paypal_order_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    lines: Mapped[list[InvoiceLine]] = relationship(order_by="InvoiceLine.id")


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    description: Mapped[str] = mapped_column(String(400))
    period_years: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)        # net: quantity x unit - discount
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tax_bp: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("method", "reference"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    method: Mapped[str] = mapped_column(String(16), info={"statuses": PaymentMethod})
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # what of the amount went to the invoice; the rest (an overpayment) became credit
    applied_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    actor: Mapped[str] = mapped_column(String(120), default="system", server_default="system")


class CreditNoteSequence(Base):
    """Gapless credit note numbers, one counter per year, like invoices."""

    __tablename__ = "credit_note_sequences"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CreditNote(Base):
    """Cancels an issued invoice (which is never edited): the whole of its total. What had been paid
    on it goes to the client's credit balance under the note's number."""

    __tablename__ = "credit_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)          # the invoice's total
    credited_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # paid on it, now credit
    reason: Mapped[str] = mapped_column(String(300))
    actor: Mapped[str] = mapped_column(String(120))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Refund(Base):
    """A refund of (part of) a PayPal capture, reserved before PayPal is asked so that two refunds at
    once can never add up to more than was captured. `key` is the idempotency key PayPal sees."""

    __tablename__ = "refunds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=RefundStatus.REQUESTED, info={"statuses": RefundStatus})
    paypal_refund_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    reason: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(String(300), default="", server_default="")
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PromoCode(Base):
    """A discount customers type at checkout: a percentage or a fixed amount, in a validity window,
    up to a number of uses overall and per client, for some kinds or domains only (empty: all)."""

    __tablename__ = "promo_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)          # stored upper case
    percent_bp: Mapped[int] = mapped_column(Integer, default=0)          # 1000 = 10 %
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)     # or a fixed amount off
    currency: Mapped[str] = mapped_column(String(3))
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_uses_per_client: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kinds: Mapped[str] = mapped_column(String(40), default="", server_default="")     # "forwarder,mailbox"
    domains: Mapped[str] = mapped_column(Text, default="", server_default="")         # "a.org,b.com"
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class PromoRedemption(Base):
    """One use of a promo code by one order; a cancelled order gives its use back."""

    __tablename__ = "promo_redemptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    promo_id: Mapped[int] = mapped_column(ForeignKey("promo_codes.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    released: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class CreditEntry(Base):
    """The credit balance as a ledger: the balance is the sum of a client's entries and never goes
    below zero. (kind, reference) is unique, so a retried step writes its entry once."""

    __tablename__ = "credit_entries"
    __table_args__ = (UniqueConstraint("kind", "reference"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)      # + adds credit, - spends it
    kind: Mapped[str] = mapped_column(String(24))              # adjustment | invoice_payment | ...
    reference: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(300), default="")
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), nullable=True)
    actor: Mapped[str] = mapped_column(String(120), default="system")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now(), index=True)
