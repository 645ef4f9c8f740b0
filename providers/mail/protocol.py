"""An outgoing message, the one operation a mailer offers, and what an SMTP reply means for it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable, Literal, Protocol

from providers.errors import LogicalError, TechnicalError

__all__ = ["OutgoingMessage", "Attachment", "Mailer", "BeforeData", "SmtpRefused", "SmtpTrouble",
           "classify_smtp_reply", "LogicalError", "TechnicalError"]


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


def classify_smtp_reply(code: int) -> Literal["technical", "permanent"]:
    """RFC 5321 §4.2.1: 4yz is a transient negative reply (the same command may work later), 5yz a
    permanent one (do not repeat it as it is). Anything else in a failure is unexpected: technical."""
    return "permanent" if 500 <= code <= 599 else "technical"


class SmtpRefused(LogicalError):
    """The server answered 5yz at MAIL FROM, RCPT TO or DATA: this message will never be accepted."""

    def __init__(self, stage: str, reply_code: int, reply_text: str):
        super().__init__(f"SMTP {stage} refused: {reply_code} {reply_text}", code=str(reply_code),
                         provider="smtp", kind=stage)
        self.stage, self.reply_code, self.reply_text = stage, reply_code, reply_text


class SmtpTrouble(TechnicalError):
    """A 4yz reply, a connection, TLS or login failure, or a timeout: try again later.
    `maybe_delivered` is set when the trouble struck after the message data went out, so nobody
    knows whether the server kept it."""

    def __init__(self, stage: str, message: str, reply_code: int | None = None, *, maybe_delivered: bool = False):
        super().__init__(message, code=str(reply_code or ""), provider="smtp", kind=stage)
        self.stage, self.reply_code, self.maybe_delivered = stage, reply_code, maybe_delivered
        self.reply_text = message


# Called by the mailer once the server has accepted the sender and the recipient, right before DATA:
# the outbox records `sending` there. If it raises, the mailer sends nothing and re-raises.
BeforeData = Callable[[], Awaitable[None]]


class Mailer(Protocol):
    async def send(self, message: OutgoingMessage, before_data: BeforeData | None = None) -> None: ...
