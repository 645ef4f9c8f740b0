"""Subscription terms and registration coverage: date arithmetic that must never be off by a day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.refusals import Refusals, refuse

REGISTRY_MAX_YEARS = 10


def add_years(day: date, years: int) -> date:
    """Same calendar day `years` later; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validate_term(years: int, allowed: list[int] | tuple[int, ...], field: str = "years") -> int:
    if not isinstance(years, int) or isinstance(years, bool) or years not in allowed:
        choices = ", ".join(str(y) for y in sorted(allowed))
        raise refuse(Refusals.TERM_NOT_ALLOWED, field, message=f"Choose a term of {choices} years.")
    return years


def term_end(start: date, years: int) -> date:
    return add_years(start, years)


def registry_limit(today: date) -> date:
    """The furthest expiry a registry accepts: ten years from today."""
    return add_years(today, REGISTRY_MAX_YEARS)


def check_term_fits_registry(start: date, years: int, field: str = "years") -> date:
    end = term_end(start, years)
    if end > registry_limit(start):
        raise refuse(Refusals.TERM_BEYOND_REGISTRY, field,
                     message=f"A {years}-year term would end after the registry's {REGISTRY_MAX_YEARS}-year limit.")
    return end


def coverage_target(end: date, today: date, margin_days: int = 30) -> date:
    """The registration must outlive the term by a margin, but never beyond what the registry
    allows today; the lifecycle tops the margin up later as the registry limit moves on."""
    return min(end + timedelta(days=margin_days), registry_limit(today))


@dataclass(frozen=True)
class Extension:
    years: int
    new_expiry: date

    @property
    def needed(self) -> bool:
        return self.years > 0


def plan_extension(current_expiry: date, target: date, today: date) -> Extension:
    """Fewest whole years that reach `target`, capped so the new expiry stays within the registry's
    limit. The result may fall short of `target` when the cap bites; the caller checks."""
    limit = registry_limit(today)
    years = 0
    expiry = current_expiry
    while expiry < target and add_years(current_expiry, years + 1) <= limit:
        years += 1
        expiry = add_years(current_expiry, years)
    return Extension(years, expiry)
