"""RefundWorkflow's input and outcome."""

from dataclasses import dataclass


@dataclass
class RefundInput:
    """An operator's refund of (part of) an invoice's PayPal capture; `key` (the workflow id) is the
    idempotency key PayPal sees."""
    key: str
    invoice_number: str
    amount_minor: int
    currency: str
    reason: str
    actor: str


@dataclass
class RefundReserved:
    refund_id: int
    capture_id: str
    status: str                      # requested | completed | failed (a retried start)


@dataclass
class RefundOutcome:
    refund_id: int
    status: str                      # completed | pending (PayPal still processing) | failed | refused (we said no)
    paypal_refund_id: str = ""
    message: str = ""
    code: str = ""
