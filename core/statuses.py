"""Every status a row, a workflow's state or a provider can be in, as a StrEnum: a member equals its
string, so stored values, JSON and workflow histories stay exactly what they were."""
from __future__ import annotations

from enum import StrEnum


class SubscriptionStatus(StrEnum):
    """`address_subscriptions.status`, and `AddressState.status` in the address workflow."""

    PENDING_PAYMENT = "pending_payment"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    ATTENTION = "attention"          # a provider refused a step; an operator looks
    CANCELLED = "cancelled"
    EXPIRED = "expired"              # the grace period: suspended, renewable
    QUARANTINED = "quarantined"      # removed from cPanel, not yet sold again
    RELEASED = "released"


# Statuses in which an address belongs to somebody (the partial unique index of live holders).
LIVE_STATUSES = (SubscriptionStatus.PENDING_PAYMENT, SubscriptionStatus.PROVISIONING, SubscriptionStatus.ACTIVE,
                 SubscriptionStatus.ATTENTION, SubscriptionStatus.EXPIRED, SubscriptionStatus.QUARANTINED)
# Statuses from which a term can still be renewed.
RENEWABLE_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.EXPIRED, SubscriptionStatus.ATTENTION)


class OrderStatus(StrEnum):
    """`orders.status`: a prepaid order waits for payment; a postpaid or exempt one is settled at once."""

    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    INVOICED = "invoiced"      # postpaid: its invoice is chased by dunning
    EXEMPT = "exempt"          # exempt: never invoiced
    CANCELLED = "cancelled"




class OrderRunStatus(StrEnum):
    """`OrderState.status`: where the order workflow is (a query's answer, never stored)."""

    AWAITING_PAYMENT = "awaiting_payment"
    CAPTURING = "capturing"
    PAYMENT_PENDING = "payment_pending"   # PayPal is still processing the capture
    DECLINED = "declined"
    PAID = "paid"
    CANCELLED = "cancelled"
    ATTENTION = "attention"


class OrderKind(StrEnum):
    """`orders.kind`."""

    NEW = "new"
    RENEWAL = "renewal"


class BillingMode(StrEnum):
    """`clients.billing_mode`, copied into `orders.billing` when an order is placed."""

    PREPAID = "prepaid"      # services start once paid
    POSTPAID = "postpaid"    # at once; the invoice is chased by dunning
    EXEMPT = "exempt"        # no invoices


# An order's status from the start, by the billing mode it is placed under: a prepaid order waits for
# its money; a postpaid one is invoiced (paid later); an exempt one is never invoiced.
OPENING_ORDER_STATUS = {BillingMode.PREPAID: OrderStatus.PENDING_PAYMENT, BillingMode.POSTPAID: OrderStatus.INVOICED,
                        BillingMode.EXEMPT: OrderStatus.EXEMPT}
# The statuses in which an order needs no more payment.
SETTLED_ORDER_STATUSES = (OrderStatus.PAID, OrderStatus.INVOICED, OrderStatus.EXEMPT)


class InvoiceStatus(StrEnum):
    """`invoices.status`, and `InvoiceState.status` in the invoice workflow."""

    DRAFT = "draft"
    UNPAID = "unpaid"
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class PaymentMethod(StrEnum):
    """`payments.method`: how money reached (or left) an invoice."""

    PAYPAL = "paypal"
    CHEQUE = "cheque"
    WIRE = "wire"
    CREDIT = "credit"
    PAYPAL_REFUND = "paypal_refund"        # negative: money we gave back
    PAYPAL_REVERSAL = "paypal_reversal"    # negative: money PayPal took back


MANUAL_METHODS = (PaymentMethod.CHEQUE, PaymentMethod.WIRE)


class RefundStatus(StrEnum):
    """`refunds.status`: reserved before PayPal is asked, then settled."""

    REQUESTED = "requested"
    PENDING = "pending"        # PayPal answered PENDING: still held against the capture
    COMPLETED = "completed"
    FAILED = "failed"


class RefundOutcomeStatus(StrEnum):
    """`RefundOutcome.status`: what a refund run answers its caller."""

    COMPLETED = "completed"
    PENDING = "pending"
    FAILED = "failed"
    REFUSED = "refused"        # we said no before PayPal was asked


class ChangeStatus(StrEnum):
    """`destination_changes.status`: a request to forward an address elsewhere."""

    PENDING = "pending"          # emailed, waiting for the new destination to confirm
    CONFIRMED = "confirmed"      # confirmed, waiting for the workflow to apply it
    APPLIED = "applied"
    REFUSED = "refused"          # it would close a circle of forwarders
    SUPERSEDED = "superseded"    # a later request took its place
    EXPIRED = "expired"


class RenewalDecision(StrEnum):
    """`renewal_offers.decision` (empty until the customer decides)."""

    UNDECIDED = ""
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class OutboxStatus(StrEnum):
    """`outbound_emails.state`: pending -> sending (committed right before DATA) -> sent | failed."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"          # a 5yz reply: never retried


class RegistryOutcome(StrEnum):
    """`registry_renewals.outcome`: an Extend we sent the registrar and what came of it."""

    SENT = "sent"              # no answer yet (or a lost one)
    EXTENDED = "extended"
    REFUSED = "refused"


class WebhookOutcome(StrEnum):
    """`webhook_events.outcome` as first written; the handler replaces it with what it did (free text)."""

    RECEIVED = "received"


class PayPalCaseKind(StrEnum):
    """`paypal_cases.kind`."""

    REVERSAL = "reversal"
    DISPUTE = "dispute"


class PayPalOrderStatus(StrEnum):
    """PayPal's checkout order statuses (`GET /v2/checkout/orders/{id}`)."""

    CREATED = "CREATED"
    SAVED = "SAVED"
    APPROVED = "APPROVED"
    VOIDED = "VOIDED"
    COMPLETED = "COMPLETED"
    PAYER_ACTION_REQUIRED = "PAYER_ACTION_REQUIRED"


class PayPalCaptureStatus(StrEnum):
    """PayPal's capture statuses (`GET /v2/payments/captures/{id}`); NOT_FOUND is ours: PayPal has none."""

    COMPLETED = "COMPLETED"
    PENDING = "PENDING"
    DECLINED = "DECLINED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    NOT_FOUND = "NOT_FOUND"


class PayPalRefundStatus(StrEnum):
    """PayPal's refund statuses (`GET /v2/payments/refunds/{id}`); a reversal reads as a completed one."""

    COMPLETED = "COMPLETED"
    PENDING = "PENDING"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class PayPalDisputeStatus(StrEnum):
    """PayPal's dispute statuses (`GET /v1/customer/disputes/{id}`)."""

    OPEN = "OPEN"
    WAITING_FOR_BUYER_RESPONSE = "WAITING_FOR_BUYER_RESPONSE"
    WAITING_FOR_SELLER_RESPONSE = "WAITING_FOR_SELLER_RESPONSE"
    UNDER_REVIEW = "UNDER_REVIEW"
    RESOLVED = "RESOLVED"
    OTHER = "OTHER"
