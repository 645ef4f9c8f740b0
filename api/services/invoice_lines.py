"""The lines of an operator's own invoice as they are typed, on the Billing page or in the JSON
API: one rule for each field (description, a bounded whole quantity, prices, a service period)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from core.billing import MAX_QUANTITY, Line
from core.refusals import Refusals, refuse
from core.money import Money
from store.invoicing import Item

@dataclass(frozen=True)
class LineEntry:
    """One line as entered: text from a form, or values a JSON body has typed already."""
    description: str
    quantity: int | str
    unit_price: str
    discount: str | None = None
    period_start: date | str | None = None
    period_end: date | str | None = None


def json_field(i: int, name: str) -> str:
    return f"lines.{i}.{name}"


def form_field(i: int, name: str) -> str:
    return f"{name}_{i}"


def _quantity(raw: int | str, field: str) -> int:
    text = str(raw).strip() or "1"
    if not text.isdecimal():   # isdigit() passes "²", which int() refuses
        raise refuse(Refusals.QUANTITY_INVALID, field, message="A quantity is a whole number.")
    if len(text) > len(str(MAX_QUANTITY)) or not 1 <= int(text) <= MAX_QUANTITY:
        raise refuse(Refusals.QUANTITY_INVALID, field, max_quantity=MAX_QUANTITY)
    return int(text)


def _day(raw: date | str | None, field: str) -> date | None:
    if raw is None or isinstance(raw, date):
        return raw
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise refuse(Refusals.DATE_INVALID, field, message="Give dates as YYYY-MM-DD.") from None


def items(entries: list[LineEntry], currency: str, field: Callable[[int, str], str] = json_field) -> list[Item]:
    out = []
    for i, line in enumerate(entries):
        quantity = _quantity(line.quantity, field(i, "quantity"))
        unit = Money.parse(line.unit_price, currency, field(i, "unit_price"))
        discount = Money.parse(line.discount, currency, field(i, "discount")) if line.discount else None
        start, end = _day(line.period_start, field(i, "period_start")), _day(line.period_end, field(i, "period_end"))
        if start and end and end < start:
            raise refuse(Refusals.PERIOD_INVALID, field(i, "period_end"))
        out.append(Item(Line(" ".join(line.description.split()), quantity, unit, discount), 0, start, end))
    return out
