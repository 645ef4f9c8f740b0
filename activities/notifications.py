"""Email step: render a notification (text + HTML) and send it once per business key, recording
what became of it in the outbox."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from hashlib import sha256
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.heartbeat import heartbeating

from core.clock import utc
from providers.errors import TechnicalError
from providers.mail.protocol import Attachment, Mailer, OutgoingMessage, SmtpRefused, SmtpTrouble
from store import outbox
from store.invoice_pdf import InvoicePdf
from workflows.contracts import SendNotification

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "emails"


def attachment(document: InvoicePdf) -> Attachment:
    """An invoice's PDF, attached to the email that sends or chases it."""
    return Attachment(f"invoice-{document.invoice.number}.pdf", "application/pdf", document.pdf)


class EmailRenderer:
    """`<name>.txt` starts with a `Subject:` line; `<name>.html` is the HTML part (autoescaped)."""

    def __init__(self, site: dict[str, str], directory: Path = TEMPLATES):
        loader = FileSystemLoader(directory)
        self._text = Environment(loader=loader, autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True)
        self._html = Environment(loader=loader, autoescape=select_autoescape(["html"]), undefined=StrictUndefined)
        self._site = site

    def render(self, template: str, context: dict[str, str]) -> tuple[str, str, str]:
        ctx = {**self._site, **context}
        text = self._text.get_template(f"{template}.txt").render(ctx)
        first, _, body = text.partition("\n")
        if not first.startswith("Subject:"):
            raise ValueError(f"{template}.txt must start with a 'Subject:' line")
        html = self._html.get_template(f"{template}.html").render(ctx)
        return first[len("Subject:"):].strip(), body.lstrip("\n"), html


class _Settled(Exception):
    """Another attempt sent (or gave up on) the message while this one was getting to DATA."""


class NotificationActivities:
    """Sends each notification once per business key through the outbox (store.outbox).

    A permanent refusal (5yz at MAIL FROM, RCPT TO or DATA) is recorded `failed` with the reply and
    never retried, and the activity returns: a notification never holds up the workflow that sent
    it. A technical failure (4yz, connection, timeout) is raised for Temporal to retry, until
    `give_up_after` from the first attempt, when it too is recorded `failed` and the activity returns."""

    def __init__(self, mailer: Mailer, sessions: async_sessionmaker[AsyncSession], renderer: EmailRenderer,
                 mail_domain: str = "mailmarket.test", staff: list[str] | None = None, *,
                 sending_lease: timedelta = timedelta(minutes=2), give_up_after: timedelta = timedelta(hours=24)):
        self._mailer, self._sessions, self._renderer = mailer, sessions, renderer
        self._mail_domain = mail_domain
        self._staff = list(staff or [])
        # longer than one SMTP conversation can take (its timeout): a `sending` row younger than
        # this may still be in another attempt's hands
        self._lease = sending_lease
        self._give_up_after = give_up_after

    @activity.defn(name="send_notification")
    @heartbeating
    async def send_notification(self, inp: SendNotification) -> None:
        if inp.to:
            await self.deliver(inp.key, inp.template, inp.to, inp.client_id, inp.context)
        if inp.to_staff:
            for email in self._staff:
                await self.deliver(f"{inp.key}:staff:{email}", inp.template, email, None, inp.context)

    async def alert_staff(self, provider: str, kind: str, context: dict[str, str], now: datetime) -> None:
        """Tell OPERATOR_EMAILS about a provider's trouble: at most one email per provider and kind
        an hour (the outbox key carries the hour), listed on /operator/mail."""
        hour = now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H")
        for email in self._staff:
            await self.deliver(f"{outbox.ALERT_PREFIX}{provider}:{kind}:{hour}:staff:{email}", "provider_alert",
                               email, None, context)

    async def deliver(self, key: str, template: str, to: str, client_id: int | None, context: dict,
                      attachments: list[Attachment] | None = None) -> str:
        """Render and send once per business key; returns the row's state (`sent` or `failed`)."""
        subject, text, html = self._renderer.render(template, context)
        message_id = f"<{sha256(key.encode()).hexdigest()[:32]}@{self._mail_domain}>"
        async with self._sessions.begin() as session:
            row = await outbox.claim(session, key=key, client_id=client_id, recipient=to,
                                     subject=subject, message_id=message_id, now=_now())
            if row.state in outbox.FINAL or row.sent_at is not None:
                return outbox.SENT if row.sent_at is not None else row.state
            first_attempt = utc(row.created_at) if row.created_at else _now()
        taken = False

        async def before_data() -> None:
            nonlocal taken
            async with self._sessions.begin() as session:
                outcome, previous = await outbox.begin_sending(session, key, _now(), self._lease)
            if outcome in outbox.FINAL:
                raise _Settled(outcome)
            if outcome != "claimed":
                raise SmtpTrouble("outbox", f"another attempt is sending {key}; waiting for its lease")
            taken = True
            if previous == outbox.SENDING:
                activity.logger.warning("sending %s again: an earlier attempt reached DATA and its outcome is "
                                        "unknown (same Message-ID %s)", key, message_id)

        try:
            await self._mailer.send(OutgoingMessage(to, subject, text, html, message_id, list(attachments or [])),
                                    before_data)
        except _Settled as settled:
            return str(settled)
        except SmtpRefused as refused:
            activity.logger.warning("%s to %s refused for good: %s", key, to, refused.message)
            async with self._sessions.begin() as session:
                await outbox.mark_failed(session, key, _now(), refused.reply_code,
                                         f"{refused.stage}: {refused.reply_code} {refused.reply_text}")
            return outbox.FAILED
        except TechnicalError as trouble:
            if getattr(trouble, "stage", "") == "outbox":   # another attempt holds the row: leave it be
                raise
            code = getattr(trouble, "reply_code", None)
            if _now() - first_attempt > self._give_up_after:
                activity.logger.error("%s to %s: giving up after %s: %s", key, to, self._give_up_after, trouble.message)
                async with self._sessions.begin() as session:
                    await outbox.mark_failed(session, key, _now(), code,
                                             f"gave up after {self._give_up_after}: {trouble.message}")
                return outbox.FAILED
            async with self._sessions.begin() as session:
                await outbox.mark_deferred(session, key, code, trouble.message,
                                           released=taken and not getattr(trouble, "maybe_delivered", False))
            raise
        # The server said 250 to the data: record it at once. Only a crash in this gap leaves the row
        # `sending`, and then the message goes again with the same Message-ID (at-least-once).
        async with self._sessions.begin() as session:
            await outbox.mark_sent(session, key, _now())
        return outbox.SENT


def _now() -> datetime:
    return datetime.now(timezone.utc)
