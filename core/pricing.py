"""What an address costs: a yearly price per kind times the term."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.money import Money
from core.refusals import Refusals, refuse


class Kind(StrEnum):
    FORWARDER = "forwarder"
    MAILBOX = "mailbox"


def parse_kind(raw: str, field: str = "kind") -> Kind:
    try:
        return Kind((raw or "").strip().lower())
    except ValueError:
        raise refuse(Refusals.KIND_INVALID, field) from None


@dataclass(frozen=True)
class PriceList:
    forwarder_per_year: Money
    mailbox_per_year: Money

    def per_year(self, kind: Kind) -> Money:
        return self.forwarder_per_year if kind is Kind.FORWARDER else self.mailbox_per_year

    def price(self, kind: Kind, years: int) -> Money:
        return self.per_year(kind).times(years)
