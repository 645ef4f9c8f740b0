"""Rules of an address's life after it is sold: the reminder ladder before its term ends, the
renewal code printed on a renewal invoice, and which renewal terms are possible."""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, timedelta

from core.refusals import Refusals, refuse
from core.terms import add_years, registry_limit

DEFAULT_LADDER = ("3m", "2m", "1m", "15d", "5d", "4d", "3d", "2d", "1d", "0d")
_STEP = re.compile(r"^(\d{1,2})([md])$")


@dataclass(frozen=True, order=True)
class Threshold:
    """How long before the term ends a reminder goes out: `3m` three months, `5d` five days, `0d`
    the expiry day itself."""

    months: int
    days: int

    @classmethod
    def parse(cls, text: str) -> "Threshold":
        match = _STEP.match(text.strip().lower())
        if not match:
            raise refuse(Refusals.LADDER_INVALID, "reminder_ladder", text=text)
        n, unit = int(match.group(1)), match.group(2)
        return cls(n, 0) if unit == "m" else cls(0, n)

    @property
    def label(self) -> str:
        return f"{self.months}m" if self.months else f"{self.days}d"

    def due_on(self, term_end: date) -> date:
        return add_months(term_end, -self.months) - timedelta(days=self.days)

    def phrase(self) -> str:
        """How a digest heads the addresses at this step: 'expire in 5 days'."""
        if self.months:
            return f"expire in {self.months} month{'s' if self.months > 1 else ''}"
        if self.days == 0:
            return "expire today"
        return "expire tomorrow" if self.days == 1 else f"expire in {self.days} days"


def parse_ladder(steps: list[str] | tuple[str, ...]) -> tuple[Threshold, ...]:
    """Earliest reminder first; duplicates dropped."""
    return tuple(sorted({Threshold.parse(s) for s in steps}, key=lambda t: (-t.months, -t.days)))


def add_months(day: date, months: int) -> date:
    """Same day of the month `months` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def ladder(term_end: date, steps: tuple[Threshold, ...]) -> list[tuple[date, Threshold]]:
    """Each reminder date of a term, in order."""
    return sorted(((t.due_on(term_end), t) for t in steps), key=lambda pair: pair[0])


def due_reminder(term_end: date, steps: tuple[Threshold, ...], today: date,
                 sent: set[str]) -> tuple[Threshold | None, set[str]]:
    """The one reminder to send today, if any, and every step now behind us. After a pause (a worker
    down for days) only the nearest step that passed is sent; the ones it overtook are dropped."""
    passed = [t for d, t in ladder(term_end, steps) if d <= today and t.label not in sent]
    if not passed:
        return None, set()
    return passed[-1], {t.label for t in passed}


def renewal_years_possible(term_end: date, allowed: list[int], today: date) -> list[int]:
    """The terms a renewal may take today: those whose new end stays within the registry's limit."""
    return [y for y in sorted(allowed) if add_years(term_end, y) <= registry_limit(today)]


def renewal_years_allowed(term_end: date, years: int, allowed: list[int], today: date,
                          field: str = "years") -> date:
    """A renewal extends from the current term end; it may not reach past the registry's limit."""
    if years not in allowed:
        choices = ", ".join(str(y) for y in sorted(allowed))
        raise refuse(Refusals.TERM_NOT_ALLOWED, field, choices=choices)
    new_end = add_years(term_end, years)
    if new_end > registry_limit(today):
        raise refuse(Refusals.TERM_BEYOND_REGISTRY, field, years=years, new_end=new_end.isoformat())
    return new_end


# ---- renewal codes -------------------------------------------------------------------------------

_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"   # no 0/O, 1/I/L: read aloud or typed from paper


def renewal_code(secret: str, subscription_id: int, term_end: date) -> str:
    """The activation code on a renewal invoice: derived, so a retried email repeats it and nothing
    secret is stored; 12 symbols (~59 bits) in three groups."""
    digest = hmac.new(secret.encode(), f"renewal:{subscription_id}:{term_end.isoformat()}".encode(),
                      hashlib.sha256).digest()
    value = int.from_bytes(digest[:10], "big")
    symbols = []
    for _ in range(12):
        value, index = divmod(value, len(_ALPHABET))
        symbols.append(_ALPHABET[index])
    code = "".join(symbols)
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalize_code(text: str) -> str:
    """What the customer typed, as the code is printed: case, spaces and dashes do not matter."""
    cleaned = re.sub(r"[\s\-]", "", (text or "").upper())
    if len(cleaned) != 12 or any(c not in _ALPHABET for c in cleaned):
        raise refuse(Refusals.CODE_MALFORMED, "code")
    return f"{cleaned[:4]}-{cleaned[4:8]}-{cleaned[8:]}"


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
