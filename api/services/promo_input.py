"""A promo code as the Billing page's form types it: days (YYYY-MM-DD, the last one whole) and
limits of uses as text; the JSON API sends times and numbers. Both end in billing.promo_rule."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timezone

from api.services.billing import promo_rule
from core.refusals import Refusals, refuse
from core.promos import MAX_USES, PromoRule


def window_day(raw: str, field: str, end: bool = False) -> datetime | None:
    """A day of the code's window: from its first second, or (`end`) to its last."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        return datetime.combine(date.fromisoformat(raw), time(23, 59, 59) if end else time(0), timezone.utc)
    except ValueError:
        raise refuse(Refusals.DATE_INVALID, field, message="Give dates as YYYY-MM-DD.") from None


def use_limit(raw: str, field: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdecimal() or len(raw) > len(str(MAX_USES)):   # isdigit() passes "²", which int() refuses
        raise refuse(Refusals.PROMO_LIMIT_INVALID, field,
                     message=f"A limit of uses is a whole number up to {MAX_USES:,}.")
    return int(raw)


def rule_from_form(form: Mapping[str, str], kinds: list[str], currency: str) -> PromoRule:
    def text(name: str) -> str:
        return str(form.get(name, ""))

    return promo_rule(code=text("code")[:40], percent=text("percent").strip() or None,
                      amount=text("amount").strip() or None, starts_at=window_day(text("starts_on"), "starts_on"),
                      ends_at=window_day(text("ends_on"), "ends_on", end=True),
                      max_uses=use_limit(text("max_uses"), "max_uses"),
                      max_uses_per_client=use_limit(text("max_uses_per_client"), "max_uses_per_client"),
                      kinds=kinds[:2], domains=text("domains")[:4000].replace(",", " ").split(), currency=currency)
