"""Exact money: integer minor units plus an ISO currency code. Never a float."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from core.refusals import Refusals, refuse

_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$"}


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError("Money.minor must be an int of minor units")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")

    @classmethod
    def parse(cls, text: str, currency: str = "USD", field: str = "amount") -> "Money":
        """Parse a decimal string such as '12.50'; refuse signs, exponents and fractions of cents."""
        cleaned = (text or "").strip()
        if not _AMOUNT.match(cleaned):
            raise refuse(Refusals.AMOUNT_INVALID, field, message=f"'{cleaned[:20]}' is not an amount like 12.50.")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:  # pragma: no cover - the regex already guarantees a decimal
            raise refuse(Refusals.AMOUNT_INVALID, field, message="That is not an amount.") from None
        return cls(int(value * 100), currency)

    @classmethod
    def zero(cls, currency: str = "USD") -> "Money":
        return cls(0, currency)

    def _same(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def times(self, quantity: int) -> "Money":
        return Money(self.minor * quantity, self.currency)

    def amount(self) -> str:
        """The decimal string PayPal and CSV exports use: '12.50'."""
        sign = "-" if self.minor < 0 else ""
        whole, cents = divmod(abs(self.minor), 100)
        return f"{sign}{whole}.{cents:02d}"

    def display(self) -> str:
        symbol = _SYMBOLS.get(self.currency)
        return f"{symbol}{self.amount()}" if symbol else f"{self.amount()} {self.currency}"

    def __str__(self) -> str:
        return self.display()
