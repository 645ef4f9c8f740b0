"""Orders and their lines."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.statuses import BillingMode, OrderKind, OrderStatus
from store.models.base import Base, _now


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default=OrderStatus.PENDING_PAYMENT, info={"statuses": OrderStatus})
    kind: Mapped[str] = mapped_column(String(16), default=OrderKind.NEW, server_default="new",
                                      info={"statuses": OrderKind})
    # the client's billing mode when the order was placed (core.billing.BILLING_MODES); a postpaid
    # order's invoice is chased by its own invoice workflow, an exempt order has no invoice
    billing: Mapped[str] = mapped_column(String(12), default=BillingMode.PREPAID, server_default="prepaid",
                                         info={"statuses": BillingMode})
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    paypal_order_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.id")


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("address_subscriptions.id"), index=True)
    description: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(16))
    years: Mapped[int] = mapped_column(Integer)
    unit_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    subscription: Mapped[Subscription] = relationship()
