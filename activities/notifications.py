"""Email step: render a notification (text + HTML) and send it once per business key."""
from __future__ import annotations

from datetime import datetime, timezone
from hashlib import sha256
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.heartbeat import heartbeating

from providers.mail.protocol import Attachment, Mailer, OutgoingMessage
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


class NotificationActivities:
    def __init__(self, mailer: Mailer, sessions: async_sessionmaker[AsyncSession], renderer: EmailRenderer,
                 mail_domain: str = "mailmarket.test", staff: list[str] | None = None):
        self._mailer, self._sessions, self._renderer = mailer, sessions, renderer
        self._mail_domain = mail_domain
        self._staff = list(staff or [])

    @activity.defn(name="send_notification")
    @heartbeating
    async def send_notification(self, inp: SendNotification) -> None:
        if inp.to:
            await self.deliver(inp.key, inp.template, inp.to, inp.client_id, inp.context)
        if inp.to_staff:
            for email in self._staff:
                await self.deliver(f"{inp.key}:staff:{email}", inp.template, email, None, inp.context)

    async def deliver(self, key: str, template: str, to: str, client_id: int | None, context: dict,
                      attachments: list[Attachment] | None = None) -> None:
        """Render and send once per business key."""
        subject, text, html = self._renderer.render(template, context)
        message_id = f"<{sha256(key.encode()).hexdigest()[:32]}@{self._mail_domain}>"
        async with self._sessions.begin() as session:
            row = await outbox.claim(session, key=key, client_id=client_id, recipient=to,
                                     subject=subject, message_id=message_id)
            if row.sent_at is not None:
                return
        # At-least-once: a crash between the SMTP hand-off and mark_sent resends the same
        # Message-ID, which receiving systems treat as one message.
        await self._mailer.send(OutgoingMessage(to, subject, text, html, message_id, list(attachments or [])))
        async with self._sessions.begin() as session:
            await outbox.mark_sent(session, key, datetime.now(timezone.utc))
