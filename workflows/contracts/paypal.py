"""PayPal activity payloads: create, capture, confirm, record, events."""

from dataclasses import dataclass
from datetime import datetime

from workflows.contracts.reminders import SendNotification


@dataclass
class CreatePayPalOrder:
    order_id: int
    invoice_number: str
    description: str
    amount_minor: int
    currency: str
    return_url: str
    cancel_url: str
    request_id: str
    reference: str = ""          # PayPal's reference_id/custom_id; "" -> the order id (an invoice: its number)


@dataclass
class PayPalOrderRef:
    paypal_order_id: str


@dataclass
class CapturePayPalOrder:
    order_id: int
    paypal_order_id: str
    request_id: str


@dataclass
class CaptureResult:
    capture_id: str
    status: str                  # PayPal's: COMPLETED | PENDING | DECLINED | FAILED ...; NOT_FOUND (not at PayPal)
    amount_minor: int
    currency: str


@dataclass
class ConfirmCapture:
    """Read a capture back from PayPal (a webhook only hints at it); `capture_id` "" -> the order's."""
    paypal_order_id: str
    capture_id: str


@dataclass
class PayPalEvent:
    """A verified PayPal event that is not a checkout's: a refund, a reversal, a dispute. Only its
    type and the resource's id are trusted as far as to look the resource up."""
    event_id: str
    event_type: str
    resource_id: str


@dataclass
class PayPalEventOutcome:
    outcome: str                             # what was recorded, kept on the webhook event for operators
    notify: SendNotification | None = None   # staff to tell (reversals, disputes)
    wake_refund: str = ""                    # a pending refund's workflow to look again


@dataclass
class RecordPayPalOrder:
    order_id: int
    paypal_order_id: str


@dataclass
class RecordPayment:
    order_id: int
    method: str
    amount_minor: int
    currency: str
    reference: str
    received_at: datetime
    actor: str = "system"


@dataclass
class CancelOrder:
    order_id: int
    reason: str
    actor: str = "system"
