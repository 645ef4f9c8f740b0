"""What mailmarket needs from cPanel, independent of transport."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from providers.errors import LogicalError, TechnicalError

__all__ = ["CpanelAPI", "Forwarder", "Mailbox", "LogicalError", "TechnicalError"]


@dataclass(frozen=True)
class Forwarder:
    address: str       # the forwarder itself, e.g. mark@accordionist.org
    destination: str   # where its mail goes


@dataclass(frozen=True)
class Mailbox:
    email: str
    suspended_login: bool = False
    suspended_incoming: bool = False


class CpanelAPI(Protocol):
    async def list_forwarders(self, domain: str) -> list[Forwarder]: ...
    async def add_forwarder(self, address: str, destination: str) -> None: ...
    async def delete_forwarder(self, address: str, destination: str) -> None: ...
    async def add_pop(self, local_part: str, domain: str, password: str, quota_mb: int) -> str: ...
    async def delete_pop(self, address: str) -> None: ...
    async def list_pops(self, regex: str | None = None) -> list[Mailbox]: ...
