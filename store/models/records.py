"""What happened and what went out: the audit log, provider webhooks seen, PayPal transmissions and
cases, the email outbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from core.statuses import OutboxStatus, PayPalCaseKind, PayPalDisputeStatus, PayPalRefundStatus
from store.models.base import Base, _now


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now(), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(320), index=True)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class WebhookEvent(Base):
    """Provider events already handled: a redelivered event id changes nothing."""

    __tablename__ = "webhook_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    __table_args__ = (UniqueConstraint("provider", "event_id"),)


class PayPalTransmission(Base):
    """Each PayPal webhook transmission once: the same PAYPAL-TRANSMISSION-ID with another body is a
    replayed (forged) delivery; with the same body, a redelivery."""

    __tablename__ = "paypal_transmissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transmission_id: Mapped[str] = mapped_column(String(64), unique=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    transmitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now(), index=True)


class PayPalCase(Base):
    """Money PayPal took back or may take back on a capture of ours: a reversal (a chargeback, an
    admin reversal; `case_id` is the refund-like id PayPal gives it) or a dispute (`case_id` is the
    dispute id), as PayPal's own look-up reported it last."""

    __tablename__ = "paypal_cases"
    __table_args__ = (UniqueConstraint("kind", "case_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), info={"statuses": PayPalCaseKind})
    case_id: Mapped[str] = mapped_column(String(64))
    capture_id: Mapped[str] = mapped_column(String(64), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), nullable=True, index=True)
    # a reversal: PayPal's refund status (COMPLETED); a dispute: PayPal's dispute status
    status: Mapped[str] = mapped_column(String(32), info={"statuses": (PayPalRefundStatus, PayPalDisputeStatus)})
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="")
    reason: Mapped[str] = mapped_column(String(80), default="", server_default="")
    outcome: Mapped[str] = mapped_column(String(40), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    # loaded with every invoice (one extra query per batch) so both invoice pages can show them
    invoice: Mapped["Invoice | None"] = relationship(
        "Invoice", backref=backref("paypal_cases", lazy="selectin", order_by="PayPalCase.id"))

    @property
    def open(self) -> bool:
        return self.kind == PayPalCaseKind.DISPUTE and self.status != PayPalDisputeStatus.RESOLVED


class OutboundEmail(Base):
    """Every notification we send, keyed by its business key so a retried step sends it once."""

    __tablename__ = "outbound_emails"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), nullable=True, index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # pending -> sending (committed right before DATA) -> sent | failed (a 5yz reply: never retried);
    # see store.outbox (migration 0016)
    state: Mapped[str] = mapped_column(String(10), server_default="pending", default=OutboxStatus.PENDING, index=True,
                                       info={"statuses": OutboxStatus})
    attempts: Mapped[int] = mapped_column(Integer, server_default="0", default=0)   # times it reached DATA
    sending_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reply_code: Mapped[int | None] = mapped_column(Integer, nullable=True)     # the server's last refusal
    reply_text: Mapped[str | None] = mapped_column(String(500), nullable=True)
