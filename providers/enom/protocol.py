"""What mailmarket needs from the registrar."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from providers.errors import LogicalError, TechnicalError

__all__ = ["RegistrarAPI", "ExtendResult", "LogicalError", "TechnicalError", "split_domain"]


@dataclass(frozen=True)
class ExtendResult:
    order_id: str
    new_expiry: date | None


def split_domain(domain: str) -> tuple[str, str]:
    """SLD and TLD as Enom wants them: `accordionist.org` -> (`accordionist`, `org`).
    The SLD is the first label; multi-label TLDs (`co.uk`) stay whole on the right."""
    sld, _, tld = domain.partition(".")
    return sld, tld


class RegistrarAPI(Protocol):
    async def check(self, domain: str) -> bool: ...
    async def get_expiry(self, domain: str) -> date: ...
    async def extend(self, domain: str, years: int) -> ExtendResult: ...
