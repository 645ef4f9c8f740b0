"""Reminder ladder, renewal terms and codes, and the demo calendar: pure rules."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from core.clock import Calendar
from core.errors import BusinessError
from core.lifecycle import (DEFAULT_LADDER, Threshold, add_months, due_reminder, ladder, normalize_code,
                            parse_ladder, renewal_code, renewal_years_allowed)


def test_the_default_ladder_falls_on_the_right_days():
    end = date(2027, 3, 31)
    days = [(t.label, d) for d, t in ladder(end, parse_ladder(list(DEFAULT_LADDER)))]
    assert days == [("3m", date(2026, 12, 31)), ("2m", date(2027, 1, 31)), ("1m", date(2027, 2, 28)),
                    ("15d", date(2027, 3, 16)), ("5d", date(2027, 3, 26)), ("4d", date(2027, 3, 27)),
                    ("3d", date(2027, 3, 28)), ("2d", date(2027, 3, 29)), ("1d", date(2027, 3, 30)),
                    ("0d", date(2027, 3, 31))]
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert [Threshold.parse(s).phrase() for s in ("2m", "1m", "5d", "1d", "0d")] == [
        "expire in 2 months", "expire in 1 month", "expire in 5 days", "expire tomorrow", "expire today"]


@pytest.mark.parametrize("bad", ["", "3w", "-1d", "100d", "m"])
def test_a_bad_ladder_step_is_refused(bad):
    with pytest.raises(BusinessError) as err:
        parse_ladder(["3m", bad])
    assert err.value.code == "ladder_invalid"


def test_after_a_pause_only_the_nearest_missed_step_is_sent():
    steps = parse_ladder(list(DEFAULT_LADDER))
    end = date(2027, 3, 31)
    step, passed = due_reminder(end, steps, date(2027, 3, 27), {"3m", "2m", "1m"})
    assert step.label == "4d" and passed == {"15d", "5d", "4d"}
    assert due_reminder(end, steps, date(2027, 3, 27), {"3m", "2m", "1m", "15d", "5d", "4d"}) == (None, set())


def test_renewal_years_stop_at_the_registry_limit():
    today = date(2026, 11, 23)
    assert renewal_years_allowed(date(2027, 11, 23), 9, list(range(1, 11)), today) == date(2036, 11, 23)
    with pytest.raises(BusinessError) as err:
        renewal_years_allowed(date(2027, 11, 23), 10, list(range(1, 11)), today)
    assert err.value.code == "term_beyond_registry"
    with pytest.raises(BusinessError) as err:
        renewal_years_allowed(date(2027, 11, 23), 4, [1, 2, 3], today)
    assert err.value.code == "term_not_allowed"


def test_renewal_codes_are_stable_distinct_and_forgiving_to_type():
    code = renewal_code("k", 7, date(2027, 1, 1))
    assert code == renewal_code("k", 7, date(2027, 1, 1)) and len(code) == 14
    assert code != renewal_code("k", 7, date(2029, 1, 1)) != renewal_code("k", 8, date(2027, 1, 1))
    assert normalize_code(code.lower().replace("-", " ")) == code
    for bad in ("", "ABCD-EFGH-JKM", "ABCD-EFGH-JKM0", "ABCD-EFGH-JKMNP"):
        with pytest.raises(BusinessError):
            normalize_code(bad)


def test_the_demo_calendar_maps_seconds_to_days_and_back():
    epoch = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
    cal = Calendar(2.0, epoch)
    assert cal.today(epoch + timedelta(seconds=5)) == date(2026, 11, 25)
    assert cal.at(date(2026, 12, 3), 12) == epoch + timedelta(seconds=21)
    real = Calendar()
    assert real.today(epoch) == date(2026, 11, 23) and real.at(date(2026, 11, 24)) - epoch == timedelta(hours=12)
    assert real.until(epoch, date(2026, 11, 1)) == timedelta(0)
