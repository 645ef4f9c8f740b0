"""The tables, one module per domain, re-exported here so `from store.models import X` finds every one
and `Base.metadata` (Alembic's target) holds them all."""
from __future__ import annotations

from store.models.addresses import (
    DestinationChange,
    MailboxSecret,
    MailboxUsageReading,
    Reminder,
    RenewalOffer,
    Subscription,
)
from store.models.base import LIVE_SQL, LIVE_STATUSES, NAMING, Base, _now
from store.models.billing import (
    CreditEntry,
    CreditNote,
    CreditNoteSequence,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Payment,
    PromoCode,
    PromoRedemption,
    Refund,
)
from store.models.clients import Client, SignInFailure, WebSession
from store.models.orders import Order, OrderLine
from store.models.portfolio import Category, CpanelInventory, Domain, DomainBackup, RegistryRenewal, ReservedName
from store.models.records import AuditEntry, OutboundEmail, PayPalCase, PayPalTransmission, WebhookEvent

__all__ = [
    "LIVE_SQL", "LIVE_STATUSES", "NAMING", "Base", "_now",
    "AuditEntry", "Category", "Client", "CpanelInventory", "CreditEntry", "CreditNote", "CreditNoteSequence",
    "DestinationChange", "Domain", "DomainBackup", "Invoice", "InvoiceLine", "InvoiceSequence", "MailboxSecret",
    "MailboxUsageReading",
    "Order", "OrderLine", "OutboundEmail", "Payment", "PayPalCase", "PayPalTransmission", "PromoCode",
    "PromoRedemption", "RegistryRenewal", "Refund", "Reminder", "RenewalOffer", "ReservedName", "SignInFailure",
    "Subscription", "WebSession", "WebhookEvent",
]
