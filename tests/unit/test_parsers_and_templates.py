"""Provider parsing, webhook signature verification and email rendering, without I/O."""
from __future__ import annotations

import asyncio
import base64
import json
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from activities.notifications import EmailRenderer
from providers.enom.client import parse_enom_date
from providers.enom.protocol import split_domain
from providers.errors import TechnicalError
from providers.paypal.webhook import WebhookRejected, WebhookVerifier, host_allowed, signed_message

SITE = {"site_name": "mailmarket", "site_url": "https://mm.test", "webmail_url": "https://webmail.mm.test",
        "imap_host": "mail.mm.test", "smtp_host": "mail.mm.test"}


def test_enom_dates_and_names():
    assert parse_enom_date("1/30/2012 5:23:00 PM") == date(2012, 1, 30)
    assert parse_enom_date("2027-03-01") == date(2027, 3, 1)
    with pytest.raises(TechnicalError):
        parse_enom_date("soon")
    assert split_domain("accordionist.org") == ("accordionist", "org")
    assert split_domain("example.co.uk") == ("example", "co.uk")


def _cert(key, days=30):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    now = datetime.now(timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=days))
            .sign(key, hashes.SHA256())).public_bytes(serialization.Encoding.PEM)


SENT = "2026-11-23T10:00:00Z"
RECEIVED = datetime(2026, 11, 23, 10, 0, 5, tzinfo=timezone.utc)


def _signed(key, body: bytes, webhook_id="WH1", cert_url="https://api.paypal.com/certs/c1", when=SENT):
    sig = key.sign(signed_message("tid", when, webhook_id, body), padding.PKCS1v15(), hashes.SHA256())
    return {"PAYPAL-TRANSMISSION-ID": "tid", "PAYPAL-TRANSMISSION-TIME": when,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(sig).decode(), "PAYPAL-CERT-URL": cert_url,
            "PAYPAL-AUTH-ALGO": "SHA256withRSA"}


def test_webhook_signature_verification():
    key, other = rsa.generate_private_key(public_exponent=65537, key_size=2048), \
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = _cert(key)
    fetched = []
    transport = httpx.MockTransport(lambda request: fetched.append(str(request.url)) or httpx.Response(200, content=pem))
    verifier = WebhookVerifier("WH1", [".paypal.com"], transport=transport)
    body = json.dumps({"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {}}).encode()

    async def run():
        assert (await verifier.verify(_signed(key, body), body, RECEIVED))["id"] == "WH-1"
        assert (await verifier.verify(_signed(key, body), body, RECEIVED))["id"] == "WH-1"
        assert len(fetched) == 1  # the certificate is cached
        offset = await verifier.verify(_signed(key, body, when="2026-11-23T03:00:00-07:00"), body, RECEIVED)
        assert offset["id"] == "WH-1"                                           # RFC 3339 with an offset
        for headers, raw, why in [
            (_signed(key, body), body + b" ", "signature"),                       # body changed
            (_signed(other, body), body, "signature"),                            # someone else's key
            (_signed(key, body, webhook_id="WH2"), body, "signature"),            # for another listener
            (_signed(key, body, cert_url="https://evil.example/c"), body, "host"),  # cert from elsewhere
            ({}, body, "missing"),
            (_signed(key, body, when="2026-11-23T09:44:00Z"), body, "older than 900 s"),   # stale
            (_signed(key, body, when="2026-11-23T10:06:00Z"), body, "in the future"),
            (_signed(key, body, when="yesterday"), body, "not a timestamp"),
        ]:
            with pytest.raises(WebhookRejected, match=why):
                await verifier.verify(headers, raw, RECEIVED)

    asyncio.run(run())
    assert host_allowed("https://api.sandbox.paypal.com/x", [".paypal.com"])
    assert not host_allowed("https://paypal.com.evil.test/x", [".paypal.com"])


def test_welcome_emails_are_multipart_and_escaped():
    renderer = EmailRenderer(SITE)
    subject, text, html = renderer.render("welcome_forwarder", {
        "name": "<b>Mark</b>", "address": "mark@accordionist.org", "destination": "m@home.example",
        "term_end": "2029-11-23", "years": "3"})
    assert subject == "Your address mark@accordionist.org is ready"
    assert "forwarded to m@home.example" in text and "3 years" in text and "<b>Mark</b>" in text
    assert "&lt;b&gt;Mark&lt;/b&gt;" in html and "<b>Mark</b>" not in html
    subject, text, _ = renderer.render("welcome_mailbox", {"name": "M", "address": "m@x.org", "term_end": "2030-01-01"})
    assert "IMAP" in text and "mail.mm.test" in text


def test_manual_methods_are_offered_only_when_the_operator_set_them_up():
    from api.services.payments import customer_method, offered_methods
    from core.errors import BusinessError
    from settings import Settings

    bare = Settings(environment="development", payee_name="", payee_postal_address="", bank_details="")
    assert offered_methods(bare) == []
    with pytest.raises(BusinessError) as err:
        customer_method("wire", bare)
    assert err.value.code == "method_unavailable"
    cheque_only = Settings(environment="development", payee_name="Acme Hosting", payee_postal_address="PO Box 9", bank_details="")
    assert offered_methods(cheque_only) == ["cheque"] and customer_method("Cheque ", cheque_only) == "cheque"
    with pytest.raises(BusinessError) as err:
        customer_method("wire", cheque_only)
    assert err.value.code == "method_unavailable"


async def test_cpanel_sandbox_refuses_an_auto_reply_that_could_never_run_as_cpanel_does():
    import time

    import httpx
    import pytest

    from providers.cpanel.client import CpanelClient
    from providers.cpanel.protocol import AutoResponder
    from providers.cpanel.sandbox import create_app
    from providers.errors import LogicalError

    client = CpanelClient("http://cpanel.test", "mailmkt", "T", transport=httpx.ASGITransport(app=create_app(token="T")))
    now = int(time.time())
    for start, stop, words in ((now - 86400, now - 3600, "in the past"), (now, now - 60, "after the start")):
        with pytest.raises(LogicalError, match=words):
            await client.add_auto_responder("box@ours.org", "Box", AutoResponder("Away", "Gone.", 24, start, stop))
    await client.add_auto_responder("box@ours.org", "Box", AutoResponder("Away", "Gone.", 24, now, now + 3600))
    assert (await client.get_auto_responder("box@ours.org")).subject == "Away"
    await client.aclose()
