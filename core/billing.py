"""Invoice arithmetic, exact to the cent: line totals with quantity, discount and tax, promo
discounts, how a payment settles an invoice (partial, exact, or with an overpayment that becomes
credit) and how much of a capture may still be refunded. Tax is rounded per line, half up, and the
invoice total is the sum of its lines, so a printed invoice always adds up."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.money import Money
from core.refusals import Refusals, refuse
from core.statuses import BillingMode

# How a client is billed: prepaid (a service starts once its invoice is paid), postpaid (it starts at
# once and the invoice, due some days later, is chased by dunning) or exempt (never invoiced).
BILLING_MODES = tuple(BillingMode)
MAX_TAX_BP = 10_000          # 100 %, in basis points (1 bp = 0.01 %)
MAX_QUANTITY = 100_000
MAX_LINE_MINOR = 10**14      # a line's gross; fifty of them, taxed, still fit the bigint amount columns
_RATE = re.compile(r"^\d{1,3}(\.\d{1,2})?%?$")


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer, halves away from zero."""
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_percent(text: str, field: str, code: Refusals = Refusals.PERCENT_INVALID, noun: str = "percentage") -> int:
    """'20', '20%', '7.25' -> basis points (2000, 2000, 725); 0 is allowed."""
    cleaned = (text or "").strip()
    if not _RATE.match(cleaned):
        raise refuse(code, field, message=f"'{cleaned[:20]}' is not a {noun} like 20 or 7.25%.")
    bp = int(Decimal(cleaned.rstrip("%")) * 100)
    if bp > MAX_TAX_BP:
        raise refuse(code, field, message=f"A {noun} cannot be above 100%.")
    return bp


def parse_tax_rate(text: str, field: str = "tax_rate") -> int:
    return parse_percent(text, field, Refusals.TAX_RATE_INVALID, "tax rate")


def parse_billing_mode(text: str, field: str = "mode") -> str:
    mode = (text or "").strip().lower()
    if mode not in BILLING_MODES:
        raise refuse(Refusals.BILLING_MODE_INVALID, field, mode=mode[:20])
    return mode


def rate_text(bp: int) -> str:
    whole, frac = divmod(bp, 100)
    return f"{whole}%" if not frac else f"{whole}.{frac:02d}".rstrip("0") + "%"


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit: Money
    discount: Money | None = None
    tax_bp: int = 0

    def totals(self) -> "LineTotals":
        if not 1 <= self.quantity <= MAX_QUANTITY:
            raise refuse(Refusals.QUANTITY_INVALID, "quantity", max_quantity=MAX_QUANTITY)
        if self.unit.minor < 0:
            raise refuse(Refusals.AMOUNT_INVALID, "unit_price")
        if not 0 <= self.tax_bp <= MAX_TAX_BP:
            raise refuse(Refusals.TAX_RATE_INVALID, "tax_rate")
        gross = self.unit.times(self.quantity)
        if gross.minor > MAX_LINE_MINOR:
            most = Money(MAX_LINE_MINOR, gross.currency).display()
            raise refuse(Refusals.AMOUNT_INVALID, "unit_price", message=f"A line comes to at most {most}.")
        discount = self.discount or Money.zero(self.unit.currency)
        if discount.minor < 0 or discount.minor > gross.minor:
            raise refuse(Refusals.DISCOUNT_INVALID, "discount", gross=gross.display())
        net = gross - discount
        tax = Money(round_half_up(net.minor * self.tax_bp, MAX_TAX_BP), net.currency)
        return LineTotals(gross, discount, net, tax, net + tax)


@dataclass(frozen=True)
class LineTotals:
    gross: Money       # quantity x unit price
    discount: Money
    net: Money         # gross - discount
    tax: Money
    total: Money       # net + tax


@dataclass(frozen=True)
class InvoiceTotals:
    subtotal: Money    # sum of gross
    discount: Money
    net: Money
    tax: Money
    total: Money


def invoice_totals(lines: list[Line], currency: str) -> InvoiceTotals:
    zero = Money.zero(currency)
    subtotal = discount = net = tax = total = zero
    for line in lines:
        if line.unit.currency != currency:
            raise refuse(Refusals.CURRENCY_MISMATCH, "lines", currency=currency)
        t = line.totals()
        subtotal, discount, net, tax, total = (subtotal + t.gross, discount + t.discount, net + t.net,
                                               tax + t.tax, total + t.total)
    return InvoiceTotals(subtotal, discount, net, tax, total)


def percent_of(amount: Money, percent_bp: int) -> Money:
    """A percentage discount of an amount, rounded half up, never more than the amount."""
    if not 0 <= percent_bp <= MAX_TAX_BP:
        raise refuse(Refusals.PERCENT_INVALID, "percent")
    return Money(min(amount.minor, round_half_up(amount.minor * percent_bp, MAX_TAX_BP)), amount.currency)


def spread(discount: Money, amounts: list[Money]) -> list[Money]:
    """Split an order-level discount over lines in proportion to their amounts (largest remainder),
    so the parts add up to the discount exactly and no line goes below zero."""
    total = sum(a.minor for a in amounts)
    if discount.minor > total:
        raise refuse(Refusals.DISCOUNT_INVALID, "discount", message="The discount is larger than the order.")
    if total == 0:
        return [Money.zero(discount.currency) for _ in amounts]
    shares = [discount.minor * a.minor // total for a in amounts]
    left = discount.minor - sum(shares)
    order = sorted(range(len(amounts)), key=lambda i: (-(discount.minor * amounts[i].minor % total), i))
    for i in order[:left]:
        shares[i] += 1
    return [Money(s, discount.currency) for s in shares]


@dataclass(frozen=True)
class Settlement:
    applied: Money       # what this payment puts towards the invoice
    overpaid: Money      # the rest, which becomes credit
    outstanding: Money   # what the invoice still needs after it
    paid_in_full: bool


def settle(total: Money, paid_so_far: Money, payment: Money) -> Settlement:
    """A payment against an invoice: partial payments add up; anything beyond the total is credit."""
    if payment.minor <= 0:
        raise refuse(Refusals.AMOUNT_INVALID, "amount", message="A payment must be more than zero.")
    due = max(0, total.minor - paid_so_far.minor)
    applied = min(due, payment.minor)
    left = due - applied
    return Settlement(Money(applied, total.currency), Money(payment.minor - applied, total.currency),
                      Money(left, total.currency), left == 0)


def check_refund(amount: Money, captured: Money, refunded: Money) -> Money:
    """A refund of part or all of a capture; returns what would be left refundable after it."""
    if amount.minor <= 0:
        raise refuse(Refusals.AMOUNT_INVALID, "amount", message="A refund must be more than zero.")
    left = captured.minor - refunded.minor
    if amount.minor > left:
        raise refuse(Refusals.REFUND_EXCEEDS_CAPTURE, "amount", amount=Money(left, captured.currency).display())
    return Money(left - amount.minor, captured.currency)
