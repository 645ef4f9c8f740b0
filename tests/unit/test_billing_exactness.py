"""Property tests: line totals, tax, discounts, partial payments, credit and refunds always add up,
and never create or lose a cent."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from core.billing import (Line, check_refund, invoice_totals, parse_tax_rate, percent_of, rate_text, settle,
                          spread)
from core.errors import BusinessError
from core.money import Money

cents = st.integers(min_value=0, max_value=10_000_000)
rates = st.integers(min_value=0, max_value=10_000)


@st.composite
def lines(draw):
    qty = draw(st.integers(min_value=1, max_value=50))
    unit = Money(draw(cents))
    discount = Money(draw(st.integers(min_value=0, max_value=unit.minor * qty)))
    return Line("x", qty, unit, discount, draw(rates))


@given(st.lists(lines(), min_size=1, max_size=20))
def test_an_invoice_is_the_sum_of_its_lines(items):
    totals = invoice_totals(items, "USD")
    parts = [line.totals() for line in items]
    assert totals.total.minor == sum(p.total.minor for p in parts)
    assert totals.total == totals.subtotal - totals.discount + totals.tax
    assert totals.net.minor == sum(p.net.minor for p in parts) >= 0
    for line, p in zip(items, parts):
        exact = Decimal(p.net.minor) * line.tax_bp / 10_000
        assert abs(Decimal(p.tax.minor) - exact) <= Decimal("0.5")     # rounded, never drifting


@given(cents, st.integers(min_value=0, max_value=10_000))
def test_a_percent_discount_never_exceeds_the_amount(amount, bp):
    off = percent_of(Money(amount), bp)
    assert 0 <= off.minor <= amount
    assert abs(Decimal(off.minor) - Decimal(amount) * bp / 10_000) <= Decimal("0.5")


@given(st.lists(cents, min_size=1, max_size=15), st.data())
def test_a_spread_discount_adds_up_and_leaves_no_line_negative(amounts, data):
    discount = data.draw(st.integers(min_value=0, max_value=sum(amounts)))
    parts = spread(Money(discount), [Money(a) for a in amounts])
    assert sum(p.minor for p in parts) == discount
    assert all(0 <= p.minor <= a for p, a in zip(parts, amounts))


@settings(max_examples=300)
@given(cents, st.lists(st.integers(min_value=1, max_value=5_000_000), min_size=1, max_size=10))
def test_partial_payments_settle_exactly_and_overpayment_becomes_credit(total, payments):
    paid = Money(0)
    credit = Money(0)
    for amount in payments:
        s = settle(Money(total), paid, Money(amount))
        assert s.applied + s.overpaid == Money(amount)
        paid += s.applied
        credit += s.overpaid
        assert paid.minor <= total and s.outstanding == Money(total) - paid
    assert paid + credit == Money(sum(payments))           # nothing created, nothing lost
    assert (paid.minor == total) == (sum(payments) >= total)


@given(st.integers(min_value=1, max_value=10_000_000), st.lists(st.integers(min_value=1, max_value=5_000_000),
                                                              max_size=10))
def test_refunds_never_exceed_the_capture(captured, asks):
    refunded = 0
    for amount in asks:
        try:
            left = check_refund(Money(amount), Money(captured), Money(refunded))
        except BusinessError as err:
            assert err.code == "refund_exceeds_capture" and amount > captured - refunded
            continue
        refunded += amount
        assert left.minor == captured - refunded >= 0
    assert refunded <= captured


@given(st.lists(st.tuples(st.sampled_from(["credit", "spend"]), st.integers(min_value=1, max_value=100_000)),
                max_size=40))
def test_a_credit_ledger_is_the_sum_of_its_entries_and_never_negative(ops):
    entries: list[int] = []
    for kind, amount in ops:
        change = amount if kind == "credit" else -amount
        if sum(entries) + change < 0:
            continue            # refused, ledger unchanged (store.credit.add_entry does the same)
        entries.append(change)
        assert sum(entries) >= 0
    assert sum(e for e in entries if e > 0) - sum(-e for e in entries if e < 0) == sum(entries)


def test_tax_rates_parse_and_print():
    assert [parse_tax_rate(t) for t in ("0", "20", "20%", "7.25", "100")] == [0, 2000, 2000, 725, 10000]
    assert [rate_text(b) for b in (0, 2000, 725, 750)] == ["0%", "20%", "7.25%", "7.5%"]
    for bad in ("", "-5", "101", "ten", "7.255"):
        with pytest.raises(BusinessError):
            parse_tax_rate(bad)


def test_bad_lines_are_refused_with_the_reason():
    for line, code in ((Line("x", 0, Money(100)), "quantity_invalid"),
                       (Line("x", 1, Money(100), Money(101)), "discount_invalid"),
                       (Line("x", 1, Money(100), tax_bp=10_001), "tax_rate_invalid"),
                       # what the database's columns hold: quantity an integer, amounts a bigint
                       (Line("x", 2**31, Money(100)), "quantity_invalid"),
                       (Line("x", 100_000, Money(99_999_999_999_999)), "amount_invalid")):
        with pytest.raises(BusinessError) as err:
            line.totals()
        assert err.value.code == code
    with pytest.raises(BusinessError):
        settle(Money(100), Money(0), Money(0))
