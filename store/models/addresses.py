"""Addresses sold: subscriptions, mailbox secrets, destination changes, renewal offers, reminders, and
the mailbox read model (`mailbox_usage`, kept by activities; see store/mailbox_usage.py)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
                        func, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.statuses import ChangeStatus, RenewalDecision, SubscriptionStatus
from store.models.base import LIVE_SQL, Base, _now


class Subscription(Base):
    """One address sold to one client for a term; its life is the workflow `address:<email>`."""

    __tablename__ = "address_subscriptions"
    __table_args__ = (
        Index(
            "uq_address_live_holder",
            "address",
            unique=True,
            postgresql_where=text(LIVE_SQL),
            sqlite_where=text(LIVE_SQL),
        ),
        # availability: every live holder of a few names, read from the index alone
        Index("ix_live_name_domain", "local_part", "domain_id",
              postgresql_where=text(LIVE_SQL), sqlite_where=text(LIVE_SQL)),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(320), index=True)
    local_part: Mapped[str] = mapped_column(String(64))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
    term_years: Mapped[int] = mapped_column(Integer)
    term_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    term_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(24), default=SubscriptionStatus.PENDING_PAYMENT,
                                        info={"statuses": SubscriptionStatus})
    status_reason: Mapped[str] = mapped_column(String(300), default="")
    destination: Mapped[str] = mapped_column(String(254), default="")
    cancel_at_term_end: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    grace_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    quarantine_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    workflow_id: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=_now(), onupdate=func.now()
    )
    domain: Mapped[Domain] = relationship()


class MailboxSecret(Base):
    """A mailbox password between checkout and provisioning, encrypted (store.secrets) and deleted as
    soon as cPanel has it or the order is cancelled. It never enters a workflow's history."""

    __tablename__ = "mailbox_secrets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("address_subscriptions.id"), unique=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    # set just before add_pop, so a retry that finds the mailbox on cPanel knows it made it itself
    attempted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DestinationChange(Base):
    """A customer's request to forward an address elsewhere; applied only once the new destination
    follows the link we emailed it (`core.tokens`), until `expires_at`."""

    __tablename__ = "destination_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("address_subscriptions.id"), index=True)
    old_destination: Mapped[str] = mapped_column(String(320))
    new_destination: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default=ChangeStatus.PENDING, info={"statuses": ChangeStatus})
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RenewalOffer(Base):
    """One term's renewal of one address: the code on its renewal invoice (stored only as a digest)
    and what the customer decided, by code or on the renewal page."""

    __tablename__ = "renewal_offers"
    __table_args__ = (UniqueConstraint("subscription_id", "term_end"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("address_subscriptions.id"))
    term_end: Mapped[date] = mapped_column(Date)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    decision: Mapped[str] = mapped_column(String(16), default=RenewalDecision.UNDECIDED, server_default="",
                                          info={"statuses": RenewalDecision})
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_via: Mapped[str] = mapped_column(String(16), default="", server_default="")  # code | page
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True)  # the renewal invoice's
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    subscription: Mapped[Subscription] = relationship()


class Reminder(Base):
    """A reminder step reached for one term of one address; sent in the client's digest of the day
    (`digest_key`). Unique per step, so no reminder is ever sent twice."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("subscription_id", "term_end", "threshold"),
                      Index("ix_reminders_client_digest", "client_id", "digest_key"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("address_subscriptions.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    term_end: Mapped[date] = mapped_column(Date)
    threshold: Mapped[str] = mapped_column(String(8))
    due_on: Mapped[date] = mapped_column(Date)
    digest_key: Mapped[str | None] = mapped_column(String(120), nullable=True)   # NULL: not yet sent
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class MailboxUsageReading(Base):
    """Each mailbox's space used, quota and automatic reply as cPanel last said, and when."""

    __tablename__ = "mailbox_usage"
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)
    used_bytes: Mapped[int | None] = mapped_column(BigInteger)     # None: not read yet
    quota_mb: Mapped[int | None] = mapped_column(Integer)          # None: unlimited (or not read yet)
    autoresponder_subject: Mapped[str] = mapped_column(Text, default="", server_default="")
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))   # when the usage was read

    @property
    def used_mb(self) -> float | None:
        return None if self.used_bytes is None else round(self.used_bytes / (1024 * 1024), 2)
