"""What mailmarket needs from PayPal, and the shapes it gets back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.money import Money
from providers.errors import LogicalError, TechnicalError

__all__ = ["PaymentsAPI", "CheckoutRequest", "CheckoutOrder", "Capture", "RefundRequest", "RefundResult",
           "LogicalError", "TechnicalError"]


@dataclass(frozen=True)
class CheckoutRequest:
    reference: str        # our order id; comes back as custom_id on captures and webhooks
    invoice_number: str
    description: str
    amount: Money
    return_url: str
    cancel_url: str
    request_id: str       # PayPal-Request-Id: one per business step, so retries never duplicate


@dataclass(frozen=True)
class CheckoutOrder:
    id: str
    status: str
    approve_url: str


@dataclass(frozen=True)
class Capture:
    id: str
    status: str           # COMPLETED | PENDING | DECLINED | ...
    amount: Money
    order_id: str


@dataclass(frozen=True)
class RefundRequest:
    capture_id: str
    amount: Money
    invoice_number: str
    note_to_payer: str
    request_id: str       # PayPal-Request-Id: the refund's own key, so a retry never refunds twice


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str           # COMPLETED | PENDING | FAILED | CANCELLED
    amount: Money


class PaymentsAPI(Protocol):
    async def create_order(self, request: CheckoutRequest) -> CheckoutOrder: ...
    async def get_order(self, order_id: str) -> dict: ...          # Orders v2 as PayPal answers it (read only)
    async def capture_order(self, order_id: str, request_id: str) -> Capture: ...
    async def refund_capture(self, request: RefundRequest) -> RefundResult: ...
