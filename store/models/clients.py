"""Clients and their sign-in: accounts, sessions, failed sign-ins."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.statuses import BillingMode
from store.models.base import Base, _now


class Client(Base):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    address_line: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    # renewal invoices are paid from the credit balance when it covers them
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    tax_bp: Mapped[int | None] = mapped_column(Integer, nullable=True)   # basis points; NULL: the default rate
    # new invoices take what the credit balance can pay of them as soon as they are issued
    apply_credit: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # services suspended for an overdue invoice (its number in the reason), lifted on payment
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    suspended_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # prepaid: services start once paid; postpaid: at once, the invoice chased by dunning; exempt: no invoices
    billing_mode: Mapped[str] = mapped_column(String(12), default=BillingMode.PREPAID, server_default="prepaid",
                                              info={"statuses": BillingMode})
    # set when the owner followed the link in the sign-up email (NULL: not yet)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class WebSession(Base):
    """A signed-in browser or API client. The cookie carries a random token; the row is keyed by its
    SHA-256, so the table alone signs nobody in. Revoked (sign-out, sign out everywhere, password
    change) or past `expires_at` (absolute) or idle too long, it signs nobody in either."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")


class SignInFailure(Base):
    """One failed sign-in, counted against the address tried (`email:<address>`, known or not) and
    the network it came from (`ip:<address>`); rows older than the window are deleted as new ones come."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
