"""Core rules: address syntax and normalization, term dates and registry coverage, money."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.addresses import display_domain, normalize_destination, normalize_domain, normalize_local_part
from core.errors import BusinessError
from core.money import Money
from core.terms import add_years, check_term_fits_registry, coverage_target, plan_extension, validate_term


@pytest.mark.parametrize("raw,expected", [("Mark", "mark"), ("  mary.jones ", "mary.jones"), ("o_brien-2", "o_brien-2")])
def test_names_are_trimmed_and_case_folded(raw, expected):
    assert normalize_local_part(raw) == expected


@pytest.mark.parametrize("raw,code", [
    ("", "local_part_empty"), ("   ", "local_part_empty"), ("x" * 65, "local_part_too_long"),
    ("mark+news", "local_part_plus"), ("mark smith", "local_part_bad_characters"),
    ("<script>", "local_part_bad_characters"), ("a'; drop table x;--", "local_part_bad_characters"),
    ("tab\there", "local_part_bad_characters"), (".mark", "local_part_dot_position"),
    ("mark.", "local_part_dot_position"), ("ma..rk", "local_part_double_dot"), ("josé", "local_part_bad_characters"),
])
def test_bad_names_are_refused_with_a_code(raw, code):
    with pytest.raises(BusinessError) as err:
        normalize_local_part(raw)
    assert err.value.code == code and err.value.field == "local_part" and err.value.message


def test_idn_domains_are_stored_as_punycode_and_shown_in_unicode():
    assert normalize_domain("München-Fans.DE.") == "xn--mnchen-fans-thb.de"
    assert display_domain("xn--mnchen-fans-thb.de") == "münchen-fans.de"
    for bad in ["", "nodot", "-bad.com", "a..b.com", "x" * 64 + ".com"]:
        with pytest.raises(BusinessError):
            normalize_domain(bad)


def test_destinations():
    assert normalize_destination(" Mark.Smith@Gmail.COM ") == "Mark.Smith@gmail.com"
    for bad in ["mark", "a@b", "two@a.com,three@b.com", "sp ace@x.com", "@x.com", "a@-x.com"]:
        with pytest.raises(BusinessError) as err:
            normalize_destination(bad)
        assert err.value.code in ("destination_invalid", "destination_empty")


def test_term_ends_on_the_same_day_and_leap_day_falls_back():
    assert add_years(date(2026, 11, 23), 3) == date(2029, 11, 23)
    assert add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert validate_term(10, range(1, 11)) == 10
    for bad in (0, 11, True):
        with pytest.raises(BusinessError) as err:
            validate_term(bad, range(1, 11))
        assert err.value.code == "term_not_allowed"


def test_coverage_margin_is_capped_at_the_registry_limit():
    today = date(2026, 11, 23)
    assert coverage_target(date(2028, 11, 23), today) == date(2028, 12, 23)
    assert coverage_target(date(2036, 11, 23), today) == date(2036, 11, 23)  # a 10-year term: margin later
    assert check_term_fits_registry(today, 10) == date(2036, 11, 23)


def test_extension_plans_fewest_whole_years_within_the_limit():
    today = date(2026, 11, 23)
    assert plan_extension(date(2027, 6, 1), date(2027, 5, 1), today).years == 0
    plan = plan_extension(date(2027, 6, 1), date(2029, 12, 23), today)
    assert (plan.years, plan.new_expiry) == (3, date(2030, 6, 1))
    capped = plan_extension(date(2027, 12, 1), date(2036, 11, 23), today)
    assert capped.new_expiry == date(2035, 12, 1) and capped.new_expiry < date(2036, 11, 23)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
       st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
       st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)))
def test_extension_never_passes_the_registry_limit_and_covers_when_it_can(expiry, target, today):
    plan = plan_extension(expiry, target, today)
    assert plan.years >= 0
    assert plan.years == 0 or plan.new_expiry <= add_years(today, 10)
    if add_years(expiry, plan.years + 1) <= add_years(today, 10):
        assert plan.new_expiry >= target  # stopped early only because it already covered


def test_money_is_exact():
    assert Money.parse("12.50") + Money.parse("0.05") == Money(1255)
    assert Money(1200).times(3).display() == "$36.00"
    assert Money(-5).amount() == "-0.05"
    for bad in ["-1", "1.234", "abc", "1e3", "", "0.1.2"]:
        with pytest.raises(BusinessError):
            Money.parse(bad)
    with pytest.raises(ValueError):
        Money(1, "USD") + Money(1, "EUR")
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]


@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=50))
def test_money_sums_never_lose_a_cent(amounts):
    total = Money.zero()
    for a in amounts:
        total += Money(a)
    assert total.minor == sum(amounts)
    assert Money.parse(total.amount()) == total


@pytest.mark.parametrize("password, code", [
    ("", "password_empty"), ("short1!", "password_too_short"), ("x" * 129, "password_too_long"),
    ("tab\there-long-one", "password_bad_characters"), ("mark-is-my-name-1", "password_guessable"),
    ("accordionist-rules", "password_guessable"), ("Password123", "password_common"),
    ("aaaaaaaaaaaa", "password_common"),
])
def test_mailbox_password_policy_refuses_by_name(password, code):
    from core.passwords import check_mailbox_password

    with pytest.raises(BusinessError) as err:
        check_mailbox_password(password, "mark", "accordionist.org")
    assert err.value.code == code and err.value.field == "password" and err.value.message


def test_mailbox_password_policy_accepts_a_long_unusual_one():
    from core.passwords import check_mailbox_password

    assert check_mailbox_password("Tango-Fjord-7-Quill", "mark", "accordionist.org") == "Tango-Fjord-7-Quill"


def test_forwarding_loop_follows_hosted_forwarders_across_customers():
    from core.addresses import forwarding_loop

    hops = {"b@ours.org": "c@ours.org", "c@ours.org": "a@ours.org", "m@ours.org": None}
    assert forwarding_loop("a@ours.org", "b@ours.org", hops.get) == ["a@ours.org", "b@ours.org", "c@ours.org",
                                                                    "a@ours.org"]
    assert forwarding_loop("a@ours.org", "m@ours.org", hops.get) is None          # a mailbox ends the chain
    assert forwarding_loop("a@ours.org", "me@gmail.example", hops.get) is None    # leaves our system
    assert forwarding_loop("x@ours.org", "b@ours.org", hops.get) is None           # b -> c -> a: a leaves us
    cyclic = {"p@ours.org": "q@ours.org", "q@ours.org": "p@ours.org"}
    assert forwarding_loop("x@ours.org", "p@ours.org", cyclic.get) == ["x@ours.org", "p@ours.org", "q@ours.org",
                                                                      "p@ours.org"]   # a cycle further on


def test_forwarding_circle_follows_every_destination_of_a_forwarder():
    from core.addresses import circle_sentence, forwarding_circle

    # mike forwards to me@home and, once its confirmed change is applied, to mark: mark -> mike closes a circle.
    hops = {"mike@ours.org": ["me@home.example", "mark@ours.org"], "mark@ours.org": ["me@home.example"]}
    loop = forwarding_circle("mark@ours.org", "mike@ours.org", lambda a: hops.get(a, []))
    assert loop == ["mark@ours.org", "mike@ours.org", "mark@ours.org"]
    assert circle_sentence(loop) == ("That would send mail round in a circle: mark@ours.org → mike@ours.org → "
                                     "mark@ours.org.")
    assert forwarding_circle("x@ours.org", "mike@ours.org", lambda a: hops.get(a, [])) is None
    assert forwarding_circle("x@ours.org", "x@ours.org", lambda a: []) == ["x@ours.org", "x@ours.org"]
