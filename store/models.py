"""The tables: clients, the domain portfolio, address subscriptions, orders, invoices, payments, audit."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, backref, mapped_column, relationship, validates

from core.addresses import display_domain

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Statuses in which an address belongs to somebody. The partial unique index below is what makes
# "one live holder per address" hold under any race, in PostgreSQL and SQLite alike.
# `expired` is the grace period (suspended, renewable); `quarantined` keeps a removed address from
# being sold again too soon.
LIVE_STATUSES = ("pending_payment", "provisioning", "active", "attention", "expired", "quarantined")
LIVE_SQL = "status IN ('pending_payment', 'provisioning', 'active', 'attention', 'expired', 'quarantined')"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> datetime:
    # Database-side default; application code passes explicit times where business rules care.
    return func.now()  # type: ignore[return-value]


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
    billing_mode: Mapped[str] = mapped_column(String(12), default="prepaid", server_default="prepaid")
    # set when the owner followed the link in the sign-up email (NULL: not yet)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class Category(Base):
    """Two levels: a category (parent_id NULL) and its subcategories."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), nullable=True)
    parent: Mapped[Category | None] = relationship(remote_side=[id])


class Domain(Base):
    __tablename__ = "domains"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(253), unique=True)  # ASCII (punycode) form
    # the Unicode form people type (münchen.de), kept so a partial search matches it too
    display_name: Mapped[str] = mapped_column(String(253), default="", server_default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    registrar_expiry: Mapped[date | None] = mapped_column(Date, nullable=True)
    listed: Mapped[bool] = mapped_column(Boolean, default=True)
    owner_client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    category: Mapped[Category | None] = relationship()

    @validates("name")
    def _derive_display(self, _key: str, name: str) -> str:
        self.display_name = display_domain(name)
        return name


class DomainBackup(Base):
    """An ordered fallback domain offered when a name is gone (ArmyVeterans.us -> ArmyVets.us)."""

    __tablename__ = "domain_backups"
    __table_args__ = (UniqueConstraint("domain_id", "backup_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    backup_id: Mapped[int] = mapped_column(ForeignKey("domains.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)


class CpanelInventory(Base):
    """Forwarders and mailboxes found on the cPanel account, synced per domain, so an availability
    check never calls cPanel. Includes what we sold; the grid tells the two apart."""

    __tablename__ = "cpanel_inventory"
    __table_args__ = (UniqueConstraint("domain_id", "local_part", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"), index=True)
    local_part: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReservedName(Base):
    """A name nobody may buy: global when domain_id is NULL; `admin*` is a prefix pattern."""

    __tablename__ = "reserved_names"
    __table_args__ = (UniqueConstraint("domain_id", "pattern"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id"), nullable=True)
    pattern: Mapped[str] = mapped_column(String(65), index=True)
    # prefix entries (`admin*`) are few and always fetched; exact ones are looked up by name
    is_prefix: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"), index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")

    @validates("pattern")
    def _derive_prefix(self, _key: str, pattern: str) -> str:
        self.is_prefix = pattern.endswith("*")
        return pattern


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
    status: Mapped[str] = mapped_column(String(24), default="pending_payment")
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


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default="pending_payment")
    kind: Mapped[str] = mapped_column(String(16), default="new", server_default="new")  # new | renewal
    # the client's billing mode when the order was placed (core.billing.BILLING_MODES); a postpaid
    # order's invoice is chased by its own invoice workflow, an exempt order has no invoice
    billing: Mapped[str] = mapped_column(String(12), default="prepaid", server_default="prepaid")
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
    subscription_id: Mapped[int] = mapped_column(ForeignKey("address_subscriptions.id"))
    description: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(16))
    years: Mapped[int] = mapped_column(Integer)
    unit_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    subscription: Mapped[Subscription] = relationship()


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
    status: Mapped[str] = mapped_column(String(16), default="unpaid")   # draft|unpaid|paid|cancelled|refunded
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
    method: Mapped[str] = mapped_column(String(16))
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
    status: Mapped[str] = mapped_column(String(16), default="requested")   # requested | pending | completed | failed
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
    state: Mapped[str] = mapped_column(String(10), server_default="pending", default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0", default=0)   # times it reached DATA
    sending_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reply_code: Mapped[int | None] = mapped_column(Integer, nullable=True)     # the server's last refusal
    reply_text: Mapped[str | None] = mapped_column(String(500), nullable=True)


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
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|confirmed|applied|refused|superseded|expired
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
    decision: Mapped[str] = mapped_column(String(16), default="", server_default="")  # confirmed | declined
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


class RegistryRenewal(Base):
    """Every `Extend` we send to the registrar, before it goes, and what came of it: `sent` (no
    answer yet, or none ever: a lost answer), `extended`, `refused`. Enom refuses a second renewal
    of a domain within 24 hours; this record tells that refusal from the others (migration 0016)."""

    __tablename__ = "registry_renewals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), index=True)   # the registrar's name, not domains.id
    years: Mapped[int] = mapped_column(Integer)
    expiry_before: Mapped[date] = mapped_column(Date)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(10), default="sent")
    expiry_after: Mapped[date | None] = mapped_column(Date, nullable=True)


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
    kind: Mapped[str] = mapped_column(String(16))              # reversal | dispute
    case_id: Mapped[str] = mapped_column(String(64))
    capture_id: Mapped[str] = mapped_column(String(64), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(32))            # reversal: COMPLETED; dispute: OPEN ... RESOLVED
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
        return self.kind == "dispute" and self.status != "RESOLVED"
