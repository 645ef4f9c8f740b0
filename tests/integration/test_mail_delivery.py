"""SMTP failures classified by reply code at each step, against the aiosmtpd sink; the outbox
records what became of each message and never sends a refused one again."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.notifications import EmailRenderer, NotificationActivities
from providers.errors import TechnicalError
from providers.mail.client import SmtpMailer
from providers.mail.protocol import OutgoingMessage, SmtpRefused, SmtpTrouble
from providers.sandbox_kit import free_port
from store.models import OutboundEmail
from tests.support import mails_to, unique

SENDER = "mailmarket <hello@mailmarket.test>"
SITE = {"site_name": "mailmarket", "site_url": "http://shop.test", "webmail_url": "", "imap_host": "",
        "smtp_host": ""}
ALERT = {"provider_name": "Test", "what": "a test", "error": "none", "remedy": "none"}


@pytest.fixture
def sink(sandboxes):
    """The sandboxes, with no reply injected at the SMTP sink before or after the test."""
    sandboxes.mail.store.set_faults([])
    yield sandboxes
    sandboxes.mail.store.set_faults([])


def message(to: str, subject: str = "Hello") -> OutgoingMessage:
    return OutgoingMessage(to, subject, "plain", "<p>html</p>", f"<{unique('m')}@mailmarket.test>")


async def test_smtp_replies_are_classified_at_mail_rcpt_and_data(sink):
    mailer = SmtpMailer("127.0.0.1", sink.mail.smtp_port, SENDER)
    to = f"{unique('rcpt')}@example.net"
    cases = [("rcpt", 550, SmtpRefused, "RCPT TO"), ("rcpt", 451, SmtpTrouble, "RCPT TO"),
             ("data", 554, SmtpRefused, "DATA"), ("data", 452, SmtpTrouble, "DATA"),
             ("mail", 553, SmtpRefused, "MAIL FROM"), ("mail", 421, SmtpTrouble, "MAIL FROM")]
    for stage, code, error, named in cases:
        sink.mail.inject(stage, code, "5.1.1 refused by the test" if code >= 500 else "4.3.0 try later",
                    match="hello@mailmarket.test" if stage == "mail" else to)
        with pytest.raises(error) as raised:
            await mailer.send(message(to))
        assert (raised.value.stage, raised.value.reply_code) == (named, code)
        assert str(code) in raised.value.message
    assert mails_to(sink, to) == []   # nothing got through
    await mailer.send(message(to))    # and with the faults used up, the same mail goes
    assert len(mails_to(sink, to)) == 1


async def test_smtp_connection_failure_is_technical():
    with pytest.raises(SmtpTrouble) as raised:
        await SmtpMailer("127.0.0.1", free_port(), SENDER, timeout=2).send(message("a@example.net"))
    assert raised.value.stage == "connect" and isinstance(raised.value, TechnicalError)


def notifications(sink, sessions, **options) -> NotificationActivities:
    return NotificationActivities(SmtpMailer("127.0.0.1", sink.mail.smtp_port, SENDER), sessions, EmailRenderer(SITE),
                                  **options)


async def row(sessions, key: str) -> OutboundEmail:
    async with sessions() as session:
        return (await session.execute(select(OutboundEmail).where(OutboundEmail.key == key))).scalar_one()


async def test_permanent_refusal_is_recorded_failed_and_never_retried(sink, sessions):
    mail, to, key = notifications(sink, sessions), f"{unique('gone')}@example.net", unique("key")
    sink.mail.inject("rcpt", 550, "5.1.1 <user> no such mailbox", match=to, times=-1)
    env = ActivityEnvironment()
    assert await env.run(mail.deliver, key, "provider_alert", to, None, ALERT) == "failed"
    assert await env.run(mail.deliver, key, "provider_alert", to, None, ALERT) == "failed"   # a retried step
    stored = await row(sessions, key)
    assert (stored.state, stored.reply_code, stored.sent_at) == ("failed", 550, None)
    assert "RCPT TO: 550 5.1.1 <user> no such mailbox" == stored.reply_text
    assert [r["stage"] for r in sink.mail.store.refused if r["subject"] == to] == ["rcpt"]   # asked once only
    assert mails_to(sink, to) == []


async def test_transient_refusal_at_data_is_retried_and_sent_once(sink, sessions):
    mail, to, key = notifications(sink, sessions), f"{unique('busy')}@example.net", unique("key")
    sink.mail.inject("data", 451, "4.3.0 mailbox busy", match=to)
    env = ActivityEnvironment()
    with pytest.raises(SmtpTrouble):
        await env.run(mail.deliver, key, "provider_alert", to, None, ALERT)
    stored = await row(sessions, key)
    assert (stored.state, stored.reply_code) == ("pending", 451)   # the server certainly kept nothing
    assert await env.run(mail.deliver, key, "provider_alert", to, None, ALERT) == "sent"
    assert await env.run(mail.deliver, key, "provider_alert", to, None, ALERT) == "sent"
    stored = await row(sessions, key)
    assert (stored.state, stored.attempts) == ("sent", 2)
    assert [m["message_id"] for m in mails_to(sink, to)] == [stored.message_id]


async def test_technical_trouble_past_the_retry_window_is_recorded_failed(sink, sessions):
    mail = notifications(sink, sessions, give_up_after=timedelta(0))
    to, key = f"{unique('slow')}@example.net", unique("key")
    sink.mail.inject("rcpt", 452, "4.2.2 over quota", match=to, times=-1)
    await asyncio.sleep(0.01)
    assert await ActivityEnvironment().run(mail.deliver, key, "provider_alert", to, None, ALERT) == "failed"
    stored = await row(sessions, key)
    assert stored.state == "failed" and stored.reply_code == 452 and stored.reply_text.startswith("gave up after")


class CrashAfterAcceptance:
    """The SMTP server takes the message, then the worker dies before the outbox records it."""

    def __init__(self, mailer: SmtpMailer):
        self.mailer, self.crashed = mailer, False

    async def send(self, message, before_data=None):
        await self.mailer.send(message, before_data)
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("worker lost between the 250 and the record")


async def test_crash_between_acceptance_and_record_resends_with_the_same_message_id(sink, sessions):
    """What is guaranteed, as docs/operations.md says: at-least-once. A retry finding `sending`
    waits out the lease (an attempt may still be in flight), then sends again under the same
    Message-ID, so the receiver can tell it is one message."""
    crashy = CrashAfterAcceptance(SmtpMailer("127.0.0.1", sink.mail.smtp_port, SENDER))
    mail = NotificationActivities(crashy, sessions, EmailRenderer(SITE), sending_lease=timedelta(seconds=1))
    to, key, env = f"{unique('dup')}@example.net", unique("key"), ActivityEnvironment()
    with pytest.raises(RuntimeError):
        await env.run(mail.deliver, key, "provider_alert", to, None, ALERT)
    assert (await row(sessions, key)).state == "sending"
    with pytest.raises(SmtpTrouble, match="another attempt"):   # within the lease: nothing sent again
        await env.run(mail.deliver, key, "provider_alert", to, None, ALERT)
    assert len(mails_to(sink, to)) == 1
    await asyncio.sleep(1.1)
    assert await env.run(mail.deliver, key, "provider_alert", to, None, ALERT) == "sent"
    stored = await row(sessions, key)
    assert (stored.state, stored.attempts) == ("sent", 2)
    assert {m["message_id"] for m in mails_to(sink, to)} == {stored.message_id}
