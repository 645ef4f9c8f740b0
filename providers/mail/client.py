"""The real SMTP client (stdlib smtplib, each step in a worker thread): multipart text + HTML."""
from __future__ import annotations

import asyncio
import io
import smtplib
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from providers.mail.protocol import BeforeData, OutgoingMessage, SmtpRefused, SmtpTrouble, classify_smtp_reply


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
    """One SMTP conversation per message, step by step, so each reply is classified where it comes:
    a 4yz anywhere, a connection, TLS or login failure and a timeout are technical (retry later);
    a 5yz at MAIL FROM, RCPT TO or DATA is permanent (`SmtpRefused`: this message will never go).
    Between the accepted RCPT and DATA it calls `before_data`, where the outbox records `sending`."""

    def __init__(self, host: str, port: int, sender: str, *, starttls: bool = False,
                 username: str = "", password: str = "", timeout: float = 30.0):
        self._host, self._port, self._sender = host, port, sender
        self._starttls, self._username, self._password = starttls, username, password
        self._timeout = timeout

    def _open(self) -> smtplib.SMTP:
        try:
            smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        except smtplib.SMTPConnectError as exc:   # the greeting was not 220 (a 421 busy, a 554 go away)
            raise SmtpTrouble("connect", f"SMTP greeting {exc.smtp_code}: {_text(exc.smtp_error)}",
                              exc.smtp_code) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SmtpTrouble("connect", f"SMTP server unreachable: {exc.__class__.__name__}") from exc
        try:
            smtp.ehlo_or_helo_if_needed()
            if self._starttls:
                smtp.starttls()
                smtp.ehlo()
            if self._username:
                smtp.login(self._username, self._password)
        except smtplib.SMTPResponseException as exc:
            # our own setup (TLS, login) is refused: every message would be, so it is never the
            # message's fault; retry while staff fix it
            _close(smtp)
            raise SmtpTrouble("login", f"SMTP setup refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                              exc.smtp_code) from exc
        except (OSError, smtplib.SMTPException) as exc:
            _close(smtp)
            raise SmtpTrouble("login", f"SMTP setup failed: {exc.__class__.__name__}") from exc
        return smtp

    @staticmethod
    def _step(stage: str, reply: tuple[int, bytes], ok: tuple[int, ...]) -> None:
        code, text = reply
        if code in ok:
            return
        if classify_smtp_reply(code) == "permanent":
            raise SmtpRefused(stage, code, _text(text))
        raise SmtpTrouble(stage, f"SMTP {stage} deferred: {code} {_text(text)}", code)

    async def send(self, message: OutgoingMessage, before_data: BeforeData | None = None) -> None:
        mime = build_mime(message, self._sender)
        sender, recipient = parseaddr(self._sender)[1] or self._sender, message.to
        international = not (sender + recipient).isascii()
        body = io.BytesIO()
        BytesGenerator(body, policy=mime.policy.clone(utf8=international)).flatten(mime, linesep="\r\n")
        smtp = await asyncio.to_thread(self._open)
        try:
            options: list[str] = ["SMTPUTF8", "BODY=8BITMIME"] if international else []
            try:
                self._step("MAIL FROM", await asyncio.to_thread(smtp.mail, sender, options), (250,))
                self._step("RCPT TO", await asyncio.to_thread(smtp.rcpt, recipient), (250, 251))
            except (OSError, smtplib.SMTPException) as exc:
                raise SmtpTrouble("envelope", f"SMTP connection lost before DATA: {exc.__class__.__name__}") from exc
            if before_data is not None:
                await before_data()
            try:
                # smtplib raises for a refused DATA command, and returns the reply to the data itself
                reply = await asyncio.to_thread(smtp.data, body.getvalue())
            except smtplib.SMTPDataError as exc:   # a reply: the server did not take the message
                reply = (exc.smtp_code, exc.smtp_error)
            except (OSError, smtplib.SMTPException) as exc:
                # the data may have gone out and been kept: the caller must treat it as maybe sent
                raise SmtpTrouble("DATA", f"SMTP connection lost during DATA: {exc.__class__.__name__}",
                                  maybe_delivered=True) from exc
            self._step("DATA", reply, (250,))
        finally:
            await asyncio.to_thread(_close, smtp)


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:400]


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
