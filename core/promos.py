"""Promo code rules: whether a code may be used now, by this client, on these lines, and how much it
takes off each line. A percentage is taken off each eligible line (rounded half up); a fixed amount
is spread over the eligible lines in proportion, never more than they cost. Every refusal says why."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from core.billing import MAX_TAX_BP, percent_of, spread
from core.errors import BusinessError
from core.money import Money

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,39}$")
KINDS = ("forwarder", "mailbox")
MAX_USES = 1_000_000


def normalize_code(raw: str, field: str = "promo_code") -> str:
    code = (raw or "").strip().upper()
    if not _CODE.match(code):
        raise BusinessError("promo_code_invalid", "A promo code is 3 to 40 letters, digits, - or _.", field)
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
            raise BusinessError("promo_value_invalid", "Give either a percentage or a fixed amount off.", "percent")
        if not 0 <= self.percent_bp <= MAX_TAX_BP:
            raise BusinessError("promo_value_invalid", "A percentage is between 0 and 100.", "percent")
        if self.amount is not None and self.amount.minor < 0:
            raise BusinessError("promo_value_invalid", "A fixed amount cannot be negative.", "amount")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise BusinessError("promo_window_invalid", "The code must end after it starts.", "ends_at")
        for limit, field in ((self.max_uses, "max_uses"), (self.max_uses_per_client, "max_uses_per_client")):
            if limit is not None and not 1 <= limit <= MAX_USES:
                raise BusinessError("promo_limit_invalid", f"A limit of uses is between 1 and {MAX_USES:,} (leave it "
                                    "out for none).", field)
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise BusinessError("promo_kind_invalid", f"Unknown kind {unknown[0]!r}: use forwarder or mailbox.",
                                "kinds")
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
        raise BusinessError("promo_inactive", f"The code {code} is no longer offered.", "promo_code", 409)
    if rule.starts_at and now < rule.starts_at:
        raise BusinessError("promo_not_started", f"The code {code} can be used from {rule.starts_at.date()}.",
                            "promo_code", 409)
    if rule.ends_at and now >= rule.ends_at:
        raise BusinessError("promo_expired", f"The code {code} expired on {rule.ends_at.date()}.", "promo_code", 409)
    if rule.max_uses is not None and uses >= rule.max_uses:
        raise BusinessError("promo_used_up", f"The code {code} has been used as many times as it may be.",
                            "promo_code", 409)
    if rule.max_uses_per_client is not None and client_uses >= rule.max_uses_per_client:
        times = "once" if rule.max_uses_per_client == 1 else f"{rule.max_uses_per_client} times"
        raise BusinessError("promo_used_by_you", f"You have already used the code {code} {times}, as often as "
                            "it allows.", "promo_code", 409)
    eligible = [(not rule.kinds or line.kind in rule.kinds) and (not rule.domains or line.domain in rule.domains)
                for line in lines]
    if not any(eligible):
        limits = []
        if rule.kinds:
            limits.append(" or ".join(f"{k}s" for k in rule.kinds))
        if rule.domains:
            limits.append("addresses at " + ", ".join(rule.domains))
        raise BusinessError("promo_not_applicable", f"The code {code} is only for {' and '.join(limits)}.",
                            "promo_code", 409)
    currency = lines[0].amount.currency
    zero = Money.zero(currency)
    if rule.percent_bp:
        return [percent_of(line.amount, rule.percent_bp) if ok else zero for line, ok in zip(lines, eligible)]
    assert rule.amount is not None
    if rule.amount.currency != currency:
        raise BusinessError("promo_not_applicable", f"The code {code} is for orders in {rule.amount.currency}.",
                            "promo_code", 409)
    base = [line.amount if ok else zero for line, ok in zip(lines, eligible)]
    off = Money(min(rule.amount.minor, sum(b.minor for b in base)), currency)
    return spread(off, base)
