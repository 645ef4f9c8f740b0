"""Email step: render a notification (text + HTML) and send it once per business key."""
from __future__ import annotations

from datetime import datetime, timezone
from hashlib import sha256
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.heartbeat import heartbeating

from providers.mail.protocol import Mailer, OutgoingMessage
from store import outbox
from workflows.contracts import SendNotification

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "emails"


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
                 mail_domain: str = "mailmarket.test"):
        self._mailer, self._sessions, self._renderer = mailer, sessions, renderer
        self._mail_domain = mail_domain

    @activity.defn(name="send_notification")
    @heartbeating
    async def send_notification(self, inp: SendNotification) -> None:
        subject, text, html = self._renderer.render(inp.template, inp.context)
        message_id = f"<{sha256(inp.key.encode()).hexdigest()[:32]}@{self._mail_domain}>"
        async with self._sessions.begin() as session:
            row = await outbox.claim(session, key=inp.key, client_id=inp.client_id, recipient=inp.to,
                                     subject=subject, message_id=message_id)
            if row.sent_at is not None:
                return
        # At-least-once: a crash between the SMTP hand-off and mark_sent resends the same
        # Message-ID, which receiving systems treat as one message.
        await self._mailer.send(OutgoingMessage(inp.to, subject, text, html, message_id))
        async with self._sessions.begin() as session:
            await outbox.mark_sent(session, inp.key, datetime.now(timezone.utc))
