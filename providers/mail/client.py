"""The real SMTP client (stdlib smtplib in a worker thread): multipart text + HTML."""
from __future__ import annotations

import asyncio
import smtplib
import socket
from email.message import EmailMessage
from email.utils import formatdate

from providers.errors import LogicalError, TechnicalError
from providers.mail.protocol import OutgoingMessage


def build_mime(message: OutgoingMessage, sender: str) -> EmailMessage:
    mime = EmailMessage()
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(localtime=False)
    mime["Message-ID"] = message.message_id
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return mime


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, *, starttls: bool = False,
                 username: str = "", password: str = "", timeout: float = 30.0):
        self._host, self._port, self._sender = host, port, sender
        self._starttls, self._username, self._password = starttls, username, password
        self._timeout = timeout

    def _send_sync(self, message: OutgoingMessage) -> None:
        mime = build_mime(message, self._sender)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls()
                if self._username:
                    smtp.login(self._username, self._password)
                smtp.send_message(mime)
        except smtplib.SMTPRecipientsRefused as exc:
            raise LogicalError(f"the mail server refused the recipient {message.to}", provider="smtp") from exc
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise TechnicalError(f"SMTP delivery failed: {exc.__class__.__name__}", provider="smtp") from exc

    async def send(self, message: OutgoingMessage) -> None:
        await asyncio.to_thread(self._send_sync, message)
