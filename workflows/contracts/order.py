"""OrderWorkflow's input, messages and state."""

from dataclasses import dataclass
from datetime import date, datetime

from workflows.contracts.address import AddressLine
from workflows.contracts.common import Dunning, Lifecycle


@dataclass
class OrderInput:
    order_id: int
    client_id: int
    client_email: str
    client_name: str
    invoice_id: int
    invoice_number: str
    total_minor: int
    currency: str
    lines: list[AddressLine]
    payment_deadline_minutes: int          # PayPal: from the moment PayPal checkout begins
    coverage_margin_days: int = 30
    search_attributes: bool = True
    # Added after v1 histories: 0 there means "one deadline from placing the order" as before.
    hold_minutes: int = 0                   # held this long while the customer picks how to pay
    manual_deadline_days: int = 14          # cheque or wire: from the moment it is chosen
    # Added with renewals (v3): a renewal order pays for addresses already running; it waits for
    # its money until `deadline_at` (the end of the grace period) and may be paid from credit.
    life: Lifecycle | None = None
    renewal: bool = False
    deadline_at: datetime | None = None
    pay_from_balance: bool = False
    # Added with billing modes (v5): a postpaid order starts its addresses at once and hands its
    # invoice (due `invoice_due_at`) to an invoice workflow chasing it by `dunning`; an exempt order
    # has no invoice (invoice_id 0, number "") and starts them at once. Earlier runs: prepaid.
    billing: str = "prepaid"
    dunning: Dunning | None = None
    invoice_due_at: datetime | None = None


@dataclass
class BeginPayPal:
    return_url: str
    cancel_url: str


@dataclass
class PayPalCheckout:
    paypal_order_id: str
    approve_url: str


@dataclass
class PayPalApproved:
    paypal_order_id: str


@dataclass
class CaptureReported:
    paypal_order_id: str
    capture_id: str
    amount_minor: int
    currency: str


@dataclass
class CancelRequest:
    reason: str
    actor: str = "system"


@dataclass
class OrderState:
    order_id: int
    status: str                  # awaiting_payment | capturing | declined | paid | cancelled | attention
    paypal_order_id: str = ""
    approve_url: str = ""
    message: str = ""
    method: str = ""                         # paypal | cheque | wire | credit, once chosen
    deadline: datetime | None = None         # unpaid by then: cancelled, addresses released
    due_minor: int | None = None             # what is still due (partial payments); None: the total
    issued: bool = True                      # the invoice is issued, credit applied: what is due is known
    paid_through: str = ""                   # PAYMENT_CORE: the invoice workflow taking the payment


@dataclass
class CaptureDenied:
    paypal_order_id: str
    capture_id: str


@dataclass
class ChooseManual:
    method: str                              # cheque | wire


@dataclass
class ManualInstructions:
    method: str
    reference: str                           # the invoice number, to write on the cheque or transfer
    amount_minor: int
    currency: str
    deadline: datetime


@dataclass
class ManualPayment:
    """An operator's record of a cheque or wire received: part of what is due, all of it, or more
    (the rest becomes credit). Runs from before BILLING_V4 take exactly the invoice's amount."""
    method: str
    amount_minor: int
    currency: str
    reference: str                           # cheque number or bank reference
    received_on: date
    actor: str
