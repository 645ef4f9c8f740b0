"""Promo code rules: whether a code may be used now, by this client, on these lines, and how much it
takes off each line. A percentage is taken off each eligible line (rounded half up); a fixed amount
is spread over the eligible lines in proportion, never more than they cost. Every refusal says why."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from core.billing import MAX_TAX_BP, percent_of, spread
from core.money import Money
from core.refusals import Refusals, refuse

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,39}$")
KINDS = ("forwarder", "mailbox")
MAX_USES = 1_000_000


def normalize_code(raw: str, field: str = "promo_code") -> str:
    code = (raw or "").strip().upper()
    if not _CODE.match(code):
        raise refuse(Refusals.PROMO_CODE_INVALID, field)
    return code


@dataclass(frozen=True)
class PromoRule:
    code: str
    percent_bp: int = 0                    # or
    amount: Money | None = None            # a fixed amount off the order
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_uses: int | None = None
    max_uses_per_client: int | None = None
    kinds: tuple[str, ...] = ()            # empty: every kind
    domains: tuple[str, ...] = ()          # empty: every domain
    active: bool = True

    def validate(self) -> "PromoRule":
        """An operator's new code must make sense before it is saved."""
        if bool(self.percent_bp) == bool(self.amount and self.amount.minor):
            raise refuse(Refusals.PROMO_VALUE_INVALID, "percent")
        if not 0 <= self.percent_bp <= MAX_TAX_BP:
            raise refuse(Refusals.PROMO_VALUE_INVALID, "percent", message="A percentage is between 0 and 100.")
        if self.amount is not None and self.amount.minor < 0:
            raise refuse(Refusals.PROMO_VALUE_INVALID, "amount", message="A fixed amount cannot be negative.")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise refuse(Refusals.PROMO_WINDOW_INVALID, "ends_at")
        for limit, field in ((self.max_uses, "max_uses"), (self.max_uses_per_client, "max_uses_per_client")):
            if limit is not None and not 1 <= limit <= MAX_USES:
                raise refuse(Refusals.PROMO_LIMIT_INVALID, field, max_uses=MAX_USES)
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise refuse(Refusals.PROMO_KIND_INVALID, "kinds", unknown=unknown[0])
        return self

    def describe(self) -> str:
        return f"{self.percent_bp / 100:g}% off" if self.percent_bp else f"{self.amount.display()} off"  # type: ignore[union-attr]


@dataclass(frozen=True)
class PromoLine:
    kind: str
    domain: str
    amount: Money            # the line's price before the code


def discounts(rule: PromoRule, lines: list[PromoLine], *, now: datetime, uses: int, client_uses: int) -> list[Money]:
    """What the code takes off each line, or the reason it cannot be used."""
    code = rule.code
    if not rule.active:
        raise refuse(Refusals.PROMO_INACTIVE, "promo_code", promo=code)
    if rule.starts_at and now < rule.starts_at:
        raise refuse(Refusals.PROMO_NOT_STARTED, "promo_code", promo=code, starts_at=rule.starts_at.date())
    if rule.ends_at and now >= rule.ends_at:
        raise refuse(Refusals.PROMO_EXPIRED, "promo_code", promo=code, ends_at=rule.ends_at.date())
    if rule.max_uses is not None and uses >= rule.max_uses:
        raise refuse(Refusals.PROMO_USED_UP, "promo_code", promo=code)
    if rule.max_uses_per_client is not None and client_uses >= rule.max_uses_per_client:
        times = "once" if rule.max_uses_per_client == 1 else f"{rule.max_uses_per_client} times"
        raise refuse(Refusals.PROMO_USED_BY_YOU, "promo_code", promo=code, times=times)
    eligible = [(not rule.kinds or line.kind in rule.kinds) and (not rule.domains or line.domain in rule.domains)
                for line in lines]
    if not any(eligible):
        limits = []
        if rule.kinds:
            limits.append(" or ".join(f"{k}s" for k in rule.kinds))
        if rule.domains:
            limits.append("addresses at " + ", ".join(rule.domains))
        raise refuse(Refusals.PROMO_NOT_APPLICABLE, "promo_code", promo=code, names=" and ".join(limits))
    currency = lines[0].amount.currency
    zero = Money.zero(currency)
    if rule.percent_bp:
        return [percent_of(line.amount, rule.percent_bp) if ok else zero for line, ok in zip(lines, eligible)]
    assert rule.amount is not None
    if rule.amount.currency != currency:
        raise refuse(Refusals.PROMO_NOT_APPLICABLE, "promo_code",
                     message=f"The code {code} is for orders in {rule.amount.currency}.")
    base = [line.amount if ok else zero for line, ok in zip(lines, eligible)]
    off = Money(min(rule.amount.minor, sum(b.minor for b in base)), currency)
    return spread(off, base)
