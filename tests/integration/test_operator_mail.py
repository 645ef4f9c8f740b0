"""The operators' Mail page over HTTP on PostgreSQL: a notification refused for good is listed with
the server's reply, and so is an alert staff were sent about a provider."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import update
from temporalio.testing import ActivityEnvironment

from activities.notifications import EmailRenderer, NotificationActivities
from providers.mail.client import SmtpMailer
from store.models import Client
from tests.support import signed_in_http, unique

SITE = {"site_name": "mailmarket", "site_url": "http://shop.test", "webmail_url": "", "imap_host": "",
        "smtp_host": ""}
ALERT = {"provider_name": "Enom", "what": "the API login or token is refused", "error": "304156", "remedy": "fix it"}


async def test_refused_mail_and_provider_alerts_are_on_the_operators_mail_page(live, pg_settings, pg_sessions,
                                                                                sandboxes):
    staff = f"{unique('ops')}@mailmarket.test"
    mail = NotificationActivities(SmtpMailer("127.0.0.1", sandboxes.mail.smtp_port, "hello@mailmarket.test"),
                                  pg_sessions, EmailRenderer(SITE), staff=[staff])
    to, key = f"{unique('gone')}@example.net", unique("welcome")
    sandboxes.mail.inject("rcpt", 550, "5.1.1 no such user here", match=to)
    try:
        env = ActivityEnvironment()
        assert await env.run(mail.deliver, key, "provider_alert", to, None, ALERT) == "failed"
        await env.run(mail.alert_staff, "enom", "credentials", ALERT, datetime.now(timezone.utc))
        await env.run(mail.alert_staff, "enom", "credentials", ALERT, datetime.now(timezone.utc))  # same hour
    finally:
        sandboxes.mail.store.set_faults([])

    buyer, _ = await signed_in_http(pg_settings.public_base_url)
    assert (await buyer.get("/operator/mail")).status_code == 403
    operator, _ = await signed_in_http(pg_settings.public_base_url)
    me = (await operator.get("/api/v1/auth/session")).json()["client"]["id"]
    async with pg_sessions.begin() as session:
        await session.execute(update(Client).where(Client.id == me).values(is_operator=True))
    page = await operator.get("/operator/mail")
    assert page.status_code == 200
    failed = page.text.split('id="failed-mail"')[1].split("</table>")[0]
    assert f'data-key="{key}"' in failed and "RCPT TO: 550 5.1.1 no such user here" in failed and to in failed
    alerts = page.text.split('id="provider-alerts"')[1].split("</table>")[0]
    assert alerts.count(staff) == 1 and "Enom needs attention" in alerts
    assert 'href="/operator/mail"' in page.text
    await buyer.aclose(); await operator.aclose()
