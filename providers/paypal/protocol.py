"""What mailmarket needs from PayPal, and the shapes it gets back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.money import Money
from providers.errors import LogicalError, TechnicalError

__all__ = ["PaymentsAPI", "CheckoutRequest", "CheckoutOrder", "Capture", "RefundRequest", "RefundResult",
           "Dispute", "NotAtPayPal", "LogicalError", "TechnicalError"]


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
    status: str           # COMPLETED | PENDING | DECLINED | FAILED | PARTIALLY_REFUNDED | REFUNDED
    amount: Money
    order_id: str         # PayPal's order: supplementary_data.related_ids.order_id, else the `up` link


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
    capture_id: str = ""  # from the `up` link (a refund or a reversal names its capture only there)


@dataclass(frozen=True)
class Dispute:
    id: str               # dispute_id (a dispute has no top-level `id`)
    status: str           # OPEN | WAITING_FOR_BUYER_RESPONSE | WAITING_FOR_SELLER_RESPONSE | UNDER_REVIEW | RESOLVED | OTHER
    capture_ids: tuple[str, ...]   # disputed_transactions[].seller_transaction_id
    amount: Money | None
    reason: str
    stage: str
    outcome: str          # dispute_outcome.outcome_code once RESOLVED, else ""


class NotAtPayPal(LogicalError):
    """A look-up of something PayPal does not have (404): a forged or mistaken id, never retried."""


class PaymentsAPI(Protocol):
    async def create_order(self, request: CheckoutRequest) -> CheckoutOrder: ...
    async def get_order(self, order_id: str) -> dict: ...          # Orders v2 as PayPal answers it (read only)
    async def capture_order(self, order_id: str, request_id: str) -> Capture: ...
    async def refund_capture(self, request: RefundRequest) -> RefundResult: ...
    # Look-ups: the truth a webhook only hints at. NotAtPayPal when PayPal has no such thing.
    async def get_capture(self, capture_id: str) -> Capture: ...
    async def get_order_capture(self, order_id: str) -> Capture | None: ...
    async def get_refund(self, refund_id: str) -> RefundResult: ...
    async def get_dispute(self, dispute_id: str) -> Dispute: ...


def up_link_id(resource: dict, kind: str) -> str:
    """The id in a PayPal resource's `rel: up` link when it points at a `kind` (orders, captures),
    else "": a capture names its order there, a refund or reversal its capture."""
    for link in resource.get("links") or []:
        href = str(link.get("href", "")).rstrip("/")
        if link.get("rel") == "up" and f"/{kind}/" in href:
            return href.rsplit("/", 1)[-1]
    return ""
