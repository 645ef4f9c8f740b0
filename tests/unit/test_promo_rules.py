"""Promo code rules: every refusal names its reason; a discount never exceeds what the lines cost and
a fixed amount is spread so the parts add up exactly."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import BusinessError
from core.money import Money
from core.promos import PromoLine, PromoRule, discounts, normalize_code

NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
LINES = [PromoLine("forwarder", "accordionist.org", Money(2400)), PromoLine("mailbox", "dancetherapist.com", Money(3000))]


def off(rule: PromoRule, lines=LINES, uses=0, client_uses=0) -> list[int]:
    return [m.minor for m in discounts(rule, lines, now=NOW, uses=uses, client_uses=client_uses)]


def refusal(rule: PromoRule, **kw) -> str:
    with pytest.raises(BusinessError) as err:
        off(rule, **kw)
    return err.value.code


def test_percent_is_taken_off_each_eligible_line_rounded_half_up():
    assert off(PromoRule("TEN", percent_bp=1000)) == [240, 300]
    assert off(PromoRule("MBOX", percent_bp=1250, kinds=("mailbox",))) == [0, 375]
    assert off(PromoRule("ACC", percent_bp=333, domains=("accordionist.org",))) == [80, 0]   # 79.92 -> 80


def test_a_fixed_amount_is_spread_in_proportion_and_capped_at_the_lines():
    assert off(PromoRule("FIVE", amount=Money(500))) == [222, 278]
    assert off(PromoRule("HUGE", amount=Money(99_999))) == [2400, 3000]
    assert off(PromoRule("FWD", amount=Money(500), kinds=("forwarder",))) == [500, 0]


def test_each_refusal_says_why():
    assert refusal(PromoRule("OLD", percent_bp=10, active=False)) == "promo_inactive"
    assert refusal(PromoRule("SOON", percent_bp=10, starts_at=NOW + timedelta(days=1))) == "promo_not_started"
    assert refusal(PromoRule("PAST", percent_bp=10, ends_at=NOW)) == "promo_expired"
    assert refusal(PromoRule("LIMIT", percent_bp=10, max_uses=3), uses=3) == "promo_used_up"
    assert refusal(PromoRule("ONCE", percent_bp=10, max_uses_per_client=1), client_uses=1) == "promo_used_by_you"
    assert refusal(PromoRule("BOXES", percent_bp=10, kinds=("mailbox",)),
                   lines=[LINES[0]]) == "promo_not_applicable"
    with pytest.raises(BusinessError) as err:
        off(PromoRule("ELSE", percent_bp=10, domains=("other.org",)))
    assert "only for addresses at other.org" in err.value.message
    assert off(PromoRule("LIMIT", percent_bp=1000, max_uses=3), uses=2) == [240, 300]


def test_codes_and_new_rules_are_checked():
    assert normalize_code(" spring-26 ") == "SPRING-26"
    for bad in ("", "ab", "has space", "x" * 41, "ünï"):
        with pytest.raises(BusinessError):
            normalize_code(bad)
    for rule, code in [(PromoRule("BOTH", percent_bp=10, amount=Money(5)), "promo_value_invalid"),
                       (PromoRule("NONE"), "promo_value_invalid"),
                       (PromoRule("WIN", percent_bp=10, starts_at=NOW, ends_at=NOW), "promo_window_invalid"),
                       (PromoRule("ZERO", percent_bp=10, max_uses=0), "promo_limit_invalid"),
                       (PromoRule("HUGE", percent_bp=10, max_uses=2**31), "promo_limit_invalid"),
                       (PromoRule("HUGE", percent_bp=10, max_uses_per_client=2**63), "promo_limit_invalid"),
                       (PromoRule("KIND", percent_bp=10, kinds=("domain",)), "promo_kind_invalid")]:
        with pytest.raises(BusinessError) as err:
            rule.validate()
        assert err.value.code == code


amounts = st.lists(st.integers(min_value=0, max_value=1_000_000), min_size=1, max_size=8)


@given(amounts, st.integers(min_value=1, max_value=2_000_000))
def test_a_fixed_discount_adds_up_to_exactly_what_it_takes(lines, amount):
    promo_lines = [PromoLine("forwarder", "a.org", Money(m)) for m in lines]
    parts = off(PromoRule("FIX", amount=Money(amount)), lines=promo_lines)
    assert sum(parts) == min(amount, sum(lines))
    assert all(0 <= p <= m for p, m in zip(parts, lines))


@given(amounts, st.integers(min_value=1, max_value=10_000))
def test_a_percentage_never_takes_more_than_a_line_costs(lines, bp):
    promo_lines = [PromoLine("mailbox", "a.org", Money(m)) for m in lines]
    parts = off(PromoRule("PCT", percent_bp=bp), lines=promo_lines)
    assert all(0 <= p <= m for p, m in zip(parts, lines))
