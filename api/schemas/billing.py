"""Operators' billing bodies: credit, payments in bulk, invoices and drafts, billing modes, promo codes."""
from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from api.params import Id
from api.schemas.orders import PaymentIn


class CreditIn(BaseModel):
    amount: str = Field(max_length=20, description="decimal; negative (-5.00) takes credit away")
    reason: str = Field(max_length=300, description="shown to the client")
    reference: str = Field(default="", max_length=100, description="idempotency key: the same one is applied once")


class BulkPaymentIn(PaymentIn):
    invoice: str = Field(max_length=32, description="the invoice number the payment is for")


class BulkPaymentsIn(BaseModel):
    payments: list[BulkPaymentIn] = Field(min_length=1, max_length=200)


class CancelInvoiceIn(BaseModel):
    reason: str = Field(max_length=300, description="printed on the credit note")


class RefundIn(BaseModel):
    amount: str = Field(max_length=20, description="decimal; at most what is left of the PayPal payment")
    reason: str = Field(max_length=300, description="the payer sees it")


class InvoiceLineIn(BaseModel):
    description: str = Field(max_length=400)
    quantity: int = Field(default=1, ge=1, le=100_000)
    unit_price: str = Field(max_length=20, description="decimal, e.g. 45.00")
    discount: str | None = Field(default=None, max_length=20, description="off this line, e.g. 5.00")
    period_start: date | None = None
    period_end: date | None = None


class DraftIn(BaseModel):
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=50)
    due_on: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD; default CUSTOM_INVOICE_DUE_DAYS")


class CustomInvoiceIn(DraftIn):
    client_id: Id
    draft: bool = Field(default=False, description="keep it as an unnumbered draft, unseen by the client")


class BillingModeIn(BaseModel):
    mode: str = Field(max_length=12, description="prepaid | postpaid | exempt")


class PromoIn(BaseModel):
    code: str = Field(max_length=40, description="letters, digits, - and _; matched case-insensitively")
    percent: str | None = Field(default=None, max_length=6, description="e.g. 10 or 12.5 (percent off), or")
    amount: str | None = Field(default=None, max_length=20, description="a fixed amount off the order, e.g. 5.00")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_uses: int | None = Field(default=None, description="overall; omit for no limit")
    max_uses_per_client: int | None = None
    kinds: list[str] = Field(default_factory=list, max_length=2, description="forwarder, mailbox; empty: both")
    domains: list[str] = Field(default_factory=list, max_length=200, description="empty: every domain")


class PromoActiveIn(BaseModel):
    active: bool




# ---- the Billing page's forms: fields may be left empty; the services refuse with the sentence ----

class ActionForm(BaseModel):
    action: str = Field(default="", max_length=10)


class InvoiceActionForm(ActionForm):
    """Record a payment on an invoice (PaymentIn's fields), cancel it (reason) or refund (amount, reason)."""
    method: str = Field(default="", max_length=20)
    amount: str = Field(default="", max_length=20)
    reference: str = Field(default="", max_length=100)
    received_on: str = Field(default="", max_length=10)
    reason: str = Field(default="", max_length=300)
    key: str = Field(default="", max_length=80, description="the form's own idempotency key for a refund")


class ClientForm(BaseModel):
    client_email: str = Field(default="", max_length=254)


class CreditForm(ClientForm):
    amount: str = Field(default="", max_length=20)
    reason: str = Field(default="", max_length=300)


class BillingModeForm(ClientForm):
    mode: str = Field(default="", max_length=12)


# ---- answers ----------------------------------------------------------------------------------------

class BulkResultOut(BaseModel):
    """One row: recorded (with the order's status and what is still due) or refused (with why)."""
    model_config = {"extra": "allow"}   # the billing service's row as it is, described here
    row: int
    invoice: str
    recorded: bool
    status: str | None = None
    outstanding: str | None = None
    code: str | None = None
    message: str | None = None
    field: str | None = None


class BulkOut(BaseModel):
    recorded: int
    refused: int
    results: list[BulkResultOut]


class CreditAdjustedOut(BaseModel):
    entry: int = Field(description="the credit entry (the same one when the reference was applied before)")
    reference: str
    balance: str


class InvoiceOut(BaseModel):
    id: int
    number: str
    status: str
    client_id: int
    total: str
    tax: str
    issued_at: str
    due_at: str
    pdf: str
    client_email: str | None = None
    paid: str | None = None
    due: str | None = None


class InvoicesOut(BaseModel):
    invoices: list[InvoiceOut]


class BillingModeOut(BaseModel):
    client_id: int
    billing_mode: str


class DunnedOut(BaseModel):
    client_id: int
    email: str
    name: str
    overdue_invoices: int
    reminders: int
    owed: str
    oldest_due: str
    suspended: bool


class DunningOut(BaseModel):
    clients: list[DunnedOut]


class InvoiceChangeOut(BaseModel):
    """What became of a cancellation or a refund (more fields as the change says)."""
    model_config = {"extra": "allow"}   # the billing service's answer as it is, described here
    invoice: str | None = None
    status: str | None = None
    credit_note: str | None = Field(default=None, description="cancelled: the credit note's number")
    credited: str | None = Field(default=None, description="cancelled: what was paid, now the client's credit")
    key: str | None = Field(default=None, description="a refund's idempotency key")
    amount: str | None = Field(default=None, description="refunded")
    paypal_refund_id: str | None = None


class RefundOut(BaseModel):
    """A refund as it stands: `requested` (held against the payment, PayPal asked next), `pending`
    (PayPal is processing it), `completed` or `failed` (PayPal's reason in `message`)."""
    invoice: str | None = None
    id: int
    key: str
    amount: str
    currency: str
    status: str
    paypal_refund_id: str | None = None
    message: str | None = None
    reason: str | None = None
    requested_at: str | None = None


class RefundsOut(BaseModel):
    invoice: str
    refunds: list[RefundOut]


class PromoOut(BaseModel):
    code: str
    value: str
    active: bool
    uses: int
    max_uses: int | None
    max_uses_per_client: int | None
    kinds: list[str]
    domains: list[str]
    starts_at: str | None
    ends_at: str | None


class PromosOut(BaseModel):
    promo_codes: list[PromoOut]
