"""InvoiceWorkflow's input, messages and state, and the billing activities' payloads."""

from dataclasses import dataclass, field
from datetime import date, datetime

from workflows.contracts.common import Dunning
from workflows.contracts.order import CancelRequest, OrderInput, OrderState


@dataclass
class IssueInvoice:
    """Apply the client's credit (when they let it) and email the invoice with its PDF."""
    order_id: int
    credit_key: str                  # the credit payment's key, so a retry pays once


@dataclass
class PaymentApplied:
    invoice_number: str
    applied_minor: int
    overpaid_minor: int              # became credit
    outstanding_minor: int           # still due
    paid_in_full: bool
    reference: str = ""              # the payment's reference ("" when nothing was paid)


@dataclass
class PayWithCredit:
    actor: str


@dataclass
class PayFromCredit:
    order_id: int
    key: str
    actor: str = "system"


@dataclass
class SendReceipt:
    """A receipt for one payment, with the invoice PDF as it stands after it."""
    invoice_number: str
    method: str
    reference: str
    to: str
    client_id: int
    name: str


@dataclass
class InvoiceInput:
    invoice_id: int
    number: str
    client_id: int
    client_email: str
    client_name: str
    total_minor: int
    currency: str
    due_at: datetime
    dunning: Dunning = field(default_factory=Dunning)
    # PAYMENT_CORE: an order's invoice, paid by the order's rules (its hold and deadlines, PayPal,
    # cheque or wire, credit) instead of dunning; None: an operator's own or a postpaid order's.
    order: OrderInput | None = None


@dataclass
class InvoiceSettled:
    """How an order's invoice ended (its workflow's result): paid (`reference`, `paid_at`) or not
    (`cancel`: the customer's, an operator's, or the deadline's `payment_deadline_passed`); `state`
    is the payment as the order's page showed it last."""
    reference: str = ""
    paid_at: datetime | None = None
    cancel: CancelRequest | None = None
    state: OrderState | None = None


@dataclass
class InvoiceState:
    number: str
    status: str                      # unpaid | paid | cancelled
    due_minor: int
    reminders: int = 0               # dunning emails sent
    suspended: bool = False          # the client's services, for this invoice
    message: str = ""
    paypal_order_id: str = ""        # a PayPal checkout begun for it
    approve_url: str = ""
    settled: InvoiceSettled | None = None   # an order's invoice (PAYMENT_CORE), once it ended: how


@dataclass
class IssueCustomInvoice:
    invoice_id: int
    credit_key: str


@dataclass
class InvoiceCredit:
    """Pay what the client's credit balance can of an invoice, under `key` (once per attempt)."""
    invoice_id: int
    key: str
    actor: str


@dataclass
class InvoicePayPalOrder:
    invoice_id: int
    paypal_order_id: str


@dataclass
class InvoicePayment:
    invoice_id: int
    method: str
    amount_minor: int
    currency: str
    reference: str
    received_at: datetime
    actor: str


@dataclass
class DunningNotice:
    invoice_id: int
    step: str                        # upcoming | overdue
    level: int                       # 0 before the due date, then 1, 2, 3...
    to: str
    client_id: int
    name: str
    count: int                       # this is the invoice's n-th notice
    suspend_on: date | None = None   # told in the last overdue notice


@dataclass
class ServiceLine:
    subscription_id: int
    address: str
    kind: str
    destination: str


@dataclass
class ClientServices:
    client_id: int
    suspended: bool                  # set (True) or lift (False) the client's debt suspension
    invoice_number: str


@dataclass
class CancelCustomInvoice:
    invoice_id: int
    reason: str
    actor: str
