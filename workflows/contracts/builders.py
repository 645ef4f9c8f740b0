"""Builders of workflow inputs from stored rows (duck-typed: workflows do not import the store).
Every OrderInput is built here, for checkout and for renewals alike."""

from datetime import datetime

from core.clock import utc
from core.statuses import BillingMode

from workflows.contracts.address import AddressLine
from workflows.contracts.common import Dunning, Lifecycle
from workflows.contracts.invoice import InvoiceInput
from workflows.contracts.order import OrderInput


def address_line(sub, client, years: int, quota_mb: int = 0) -> "AddressLine":
    """An order line for a stored subscription (duck-typed: workflows do not import the store)."""
    return AddressLine(subscription_id=sub.id, address=sub.address, local_part=sub.local_part,
                       domain=sub.domain.name, kind=sub.kind, years=years, destination=sub.destination,
                       client_id=client.id, client_email=client.email, client_name=client.name,
                       quota_mb=quota_mb if sub.kind == "mailbox" else 0)


def _invoice_due_at(order, invoice) -> "datetime | None":
    return utc(invoice.due_at) if invoice and order.billing == BillingMode.POSTPAID else None


def order_input(order, invoice, client, lines: list["AddressLine"], *, payment_deadline_minutes: int,
                coverage_margin_days: int, hold_minutes: int, manual_deadline_days: int, life: "Lifecycle",
                dunning: "Dunning | None") -> "OrderInput":
    """A new order's input at checkout; `invoice` is None for an exempt client."""
    return OrderInput(order_id=order.id, client_id=client.id, client_email=client.email, client_name=client.name,
                      invoice_id=invoice.id if invoice else 0, invoice_number=invoice.number if invoice else "",
                      total_minor=order.total_minor, currency=order.currency, lines=lines,
                      payment_deadline_minutes=payment_deadline_minutes, coverage_margin_days=coverage_margin_days,
                      hold_minutes=hold_minutes, manual_deadline_days=manual_deadline_days, life=life,
                      billing=order.billing, dunning=dunning if order.billing == BillingMode.POSTPAID else None,
                      invoice_due_at=_invoice_due_at(order, invoice))


def renewal_order_input(order, invoice, client, lines: list["AddressLine"], *, deadline_at: datetime,
                        life: "Lifecycle", pay_from_balance: bool, coverage_margin_days: int = 30,
                        search_attributes: bool = True, dunning: "Dunning | None" = None) -> "OrderInput":
    """A renewal order's input; `invoice` is None for an exempt client (and `order.billing` says so)."""
    return OrderInput(order_id=order.id, client_id=client.id, client_email=client.email, client_name=client.name,
                      invoice_id=invoice.id if invoice else 0, invoice_number=invoice.number if invoice else "",
                      total_minor=order.total_minor, currency=order.currency, lines=lines, payment_deadline_minutes=0,
                      coverage_margin_days=coverage_margin_days, search_attributes=search_attributes,
                      life=life, renewal=True, deadline_at=deadline_at, pay_from_balance=pay_from_balance,
                      billing=order.billing, dunning=dunning if order.billing == BillingMode.POSTPAID else None,
                      invoice_due_at=_invoice_due_at(order, invoice))


def invoice_input(invoice, client, dunning: "Dunning") -> "InvoiceInput":
    """An issued invoice chased by its own workflow."""
    return InvoiceInput(invoice.id, invoice.number, client.id, client.email, client.name, invoice.total_minor,
                        invoice.currency, utc(invoice.due_at), dunning)
