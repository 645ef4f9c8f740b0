"""An outgoing message and the one operation a mailer offers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from providers.errors import LogicalError, TechnicalError

__all__ = ["OutgoingMessage", "Attachment", "Mailer", "LogicalError", "TechnicalError"]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class OutgoingMessage:
    to: str
    subject: str
    text: str
    html: str
    message_id: str      # deterministic per business key, so a resend is recognisably the same mail
    attachments: list[Attachment] = field(default_factory=list)


class Mailer(Protocol):
    async def send(self, message: OutgoingMessage) -> None: ...
