"""What mailmarket needs from cPanel, independent of transport."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from providers.errors import LogicalError, TechnicalError

__all__ = ["AutoResponder", "CpanelAPI", "Forwarder", "Mailbox", "MailboxUsage", "LogicalError", "TechnicalError"]


@dataclass(frozen=True)
class Forwarder:
    address: str       # the forwarder itself, e.g. mark@accordionist.org
    destination: str   # where its mail goes (or ":fail: <bounce message>")

    @property
    def bounces(self) -> bool:
        return self.destination.startswith(FAIL_PREFIX)


FAIL_PREFIX = ":fail:"   # how cPanel lists a forwarder that bounces: ":fail: <message>"


@dataclass(frozen=True)
class Mailbox:
    email: str
    suspended_login: bool = False
    suspended_incoming: bool = False


@dataclass(frozen=True)
class MailboxUsage:
    used_bytes: int
    quota_mb: int | None        # None: unlimited

    @property
    def used_mb(self) -> float:
        return round(self.used_bytes / MIB, 2)


MIB = 1024 * 1024


@dataclass(frozen=True)
class AutoResponder:
    subject: str
    body: str
    interval_hours: int
    start: int                  # epoch seconds
    stop: int


class CpanelAPI(Protocol):
    async def list_forwarders(self, domain: str) -> list[Forwarder]: ...
    async def add_forwarder(self, address: str, destination: str) -> None: ...
    async def add_fail_forwarder(self, address: str, message: str) -> None: ...
    async def delete_forwarder(self, address: str, destination: str) -> None: ...
    async def add_pop(self, local_part: str, domain: str, password: str, quota_mb: int) -> str: ...
    async def delete_pop(self, address: str) -> None: ...
    async def passwd_pop(self, address: str, password: str) -> None: ...
    async def mailbox_usage(self, address: str) -> MailboxUsage | None: ...
    async def list_pops_with_disk(self, domain: str | None = None) -> dict[str, MailboxUsage]: ...
    async def add_auto_responder(self, address: str, from_name: str, reply: AutoResponder) -> None: ...
    async def delete_auto_responder(self, address: str) -> None: ...
    async def get_auto_responder(self, address: str) -> AutoResponder | None: ...
    async def list_auto_responders(self, domain: str) -> dict[str, str]: ...
    async def list_pops(self, regex: str | None = None) -> list[Mailbox]: ...
    async def suspend_login(self, address: str) -> None: ...
    async def unsuspend_login(self, address: str) -> None: ...
