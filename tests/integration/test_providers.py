"""The real provider clients against their sandboxes over HTTP, faults included."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
import pytest

from core.money import Money
from providers.cpanel.client import CpanelClient
from providers.enom.client import EnomClient
from providers.errors import LogicalError, TechnicalError
from providers.mail.client import SmtpMailer
from providers.mail.protocol import OutgoingMessage
from providers.paypal.client import PayPalClient
from providers.paypal.protocol import CheckoutRequest, NotAtPayPal, RefundRequest
from temporalio.testing import ActivityEnvironment

from activities.lifecycle import ExpiryActivities
from tests.support import approve_at_paypal, mails_to, sandbox_state, set_faults as fault, unique
from workflows.contracts import RemoveAddress, RestoreAddress, SuspendAddress


async def test_cpanel_forwarder_round_trip_and_errors(sandboxes):
    cp = CpanelClient(sandboxes.cpanel.url, "mailmkt", "SANDBOXCPANELTOKEN")
    domain = f"{unique('cp')}.org"
    await cp.add_forwarder(f"ann@{domain}", "ann@home.example")
    assert [(f.address, f.destination) for f in await cp.list_forwarders(domain)] == [(f"ann@{domain}", "ann@home.example")]
    await cp.delete_forwarder(f"ann@{domain}", "ann@home.example")
    assert await cp.list_forwarders(domain) == []
    with pytest.raises(LogicalError, match="does not exist"):
        await cp.delete_forwarder(f"ann@{domain}", "ann@home.example")
    assert await cp.add_pop("box", domain, "s3cret-enough", 1024) == f"box+{domain}"
    assert f"box@{domain}" in [m.email for m in await cp.list_pops()]
    await fault(sandboxes.cpanel, [{"match": "list_forwarders", "times": 1, "status": 503}])
    with pytest.raises(TechnicalError, match="503"):
        await cp.list_forwarders(domain)
    assert await cp.list_forwarders(domain) == []  # the fault was for one call only
    bad = CpanelClient(sandboxes.cpanel.url, "mailmkt", "WRONG")
    with pytest.raises(TechnicalError, match="token"):
        await bad.list_forwarders(domain)
    await cp.aclose(); await bad.aclose()


async def test_expiry_steps_on_cpanel_are_safe_to_repeat(sandboxes):
    """Suspend, restore and remove, each run twice as a retry would: a forwarder swaps to a bouncing
    one and back; a mailbox's login is suspended and lifted; removal leaves nothing."""
    cp = CpanelClient(sandboxes.cpanel.url, "mailmkt", "SANDBOXCPANELTOKEN")
    steps, env = ExpiryActivities(cp), ActivityEnvironment()
    domain = f"{unique('exp')}.org"
    fwd, box = f"ann@{domain}", f"bob@{domain}"
    await cp.add_forwarder(fwd, "ann@home.example")
    await cp.add_pop("bob", domain, "s3cret-enough", 100)
    bounce = f"{fwd} has expired."

    def lines():
        return [(f.address, f.destination) for f in forwarders]
    for kind, address, dest in (("forwarder", fwd, "ann@home.example"), ("mailbox", box, "")):
        for _ in range(2):
            await env.run(steps.suspend_address, SuspendAddress(address, kind, dest, bounce))
    forwarders = await cp.list_forwarders(domain)
    assert lines() == [(fwd, f":fail: {bounce}")]
    assert [m.suspended_login for m in await cp.list_pops() if m.email == box] == [True]
    for kind, address, dest in (("forwarder", fwd, "ann@home.example"), ("mailbox", box, "")):
        for _ in range(2):
            await env.run(steps.restore_address, RestoreAddress(address, kind, dest, bounce))
    forwarders = await cp.list_forwarders(domain)
    assert lines() == [(fwd, "ann@home.example")]
    assert [m.suspended_login for m in await cp.list_pops() if m.email == box] == [False]
    for kind, address, dest in (("forwarder", fwd, "ann@home.example"), ("mailbox", box, "")):
        await env.run(steps.suspend_address, SuspendAddress(address, kind, dest, bounce))
        for _ in range(2):
            await env.run(steps.remove_address, RemoveAddress(address, kind, dest, bounce))
    assert await cp.list_forwarders(domain) == []
    assert box not in [m.email for m in await cp.list_pops()]
    await cp.aclose()


async def test_cpanel_timeout_is_technical(sandboxes):
    cp = CpanelClient(sandboxes.cpanel.url, "mailmkt", "SANDBOXCPANELTOKEN", timeout=0.3)
    await fault(sandboxes.cpanel, [{"match": "list_pops", "times": 1, "latency_ms": 1000}])
    with pytest.raises(TechnicalError, match="timed out"):
        await cp.list_pops()
    await cp.aclose()


async def test_enom_expiry_and_extend(sandboxes):
    enom = EnomClient(sandboxes.enom.url + "/interface.asp", "mailmkt", "sandbox-enom-token")
    domain = f"{unique('en')}.com"
    async with httpx.AsyncClient() as http:
        await http.post(f"{sandboxes.enom.url}/__sandbox/domains", json=[{"name": domain, "expiry": "2027-03-01"}])
    assert await enom.get_expiry(domain) == date(2027, 3, 1)
    assert await enom.check(domain) is False and await enom.check(f"{unique('free')}.com") is True
    await enom.extend(domain, 2)
    assert await enom.get_expiry(domain) == date(2029, 3, 1)
    with pytest.raises(LogicalError, match="10 years"):
        await enom.extend(domain, 10)
    with pytest.raises(LogicalError, match="not found"):
        await enom.get_expiry("nobody-here.com")
    bad = EnomClient(sandboxes.enom.url + "/interface.asp", "mailmkt", "wrong")
    with pytest.raises(TechnicalError, match="password") as refused:   # our token, not the domain: retried
        await bad.get_expiry(domain)
    assert (refused.value.code, refused.value.kind) == ("304156", "credentials")
    await enom.aclose(); await bad.aclose()


async def test_paypal_checkout_capture_is_idempotent(sandboxes):
    pp = PayPalClient(sandboxes.paypal.url, "sandbox-client", "sandbox-secret")
    rid = unique("req")
    request = CheckoutRequest("42", "2026-000042", "test", Money(1200), "http://r.test/ok", "http://r.test/no", rid)
    created = await pp.create_order(request)
    assert (await pp.create_order(request)).id == created.id  # same PayPal-Request-Id, same order
    with pytest.raises(LogicalError) as refused:
        await pp.capture_order(created.id, unique("cap"))
    assert refused.value.code == "ORDER_NOT_APPROVED"
    await approve_at_paypal(sandboxes, created.approve_url)
    capture_rid = unique("cap")
    first = await pp.capture_order(created.id, capture_rid)
    again = await pp.capture_order(created.id, capture_rid)
    other_key = await pp.capture_order(created.id, unique("cap"))  # already captured: read it back
    assert first.id == again.id == other_key.id and first.amount == Money(1200)
    state = (await httpx.AsyncClient().get(f"{sandboxes.paypal.url}/__sandbox/state")).json()
    assert len([c for c in state["captures"] if c["order_id"] == created.id]) == 1
    bad = PayPalClient(sandboxes.paypal.url, "sandbox-client", "wrong")
    with pytest.raises(TechnicalError, match="credentials"):
        await bad.create_order(request)
    await pp.aclose(); await bad.aclose()


async def test_paypal_look_ups_tell_the_truth_and_a_repeated_request_id_gets_its_first_answer(sandboxes):
    pp = PayPalClient(sandboxes.paypal.url, "sandbox-client", "sandbox-secret")
    admin = httpx.AsyncClient(base_url=sandboxes.paypal.url)
    created = await pp.create_order(CheckoutRequest("43", "2026-000043", "test", Money(1500), "http://r.test/ok",
                                                    "http://r.test/no", unique("req")))
    await admin.post("/__sandbox/decline", json={"times": 1})
    await approve_at_paypal(sandboxes, created.approve_url)
    key = unique("cap")
    with pytest.raises(LogicalError) as declined:
        await pp.capture_order(created.id, key)
    assert declined.value.code == "INSTRUMENT_DECLINED"
    await approve_at_paypal(sandboxes, created.approve_url)          # the buyer tries another card
    with pytest.raises(LogicalError) as again:                      # PayPal: the first answer to that key
        await pp.capture_order(created.id, key)
    assert again.value.code == "INSTRUMENT_DECLINED"
    capture = await pp.capture_order(created.id, key + ":2")
    assert capture.status == "COMPLETED"

    looked = await pp.get_capture(capture.id)
    assert (looked.id, looked.status, looked.amount, looked.order_id) == (capture.id, "COMPLETED", Money(1500),
                                                                          created.id)
    assert (await pp.get_order_capture(created.id)) == looked       # the order's capture names it by `up`
    with pytest.raises(NotAtPayPal):
        await pp.get_capture("NOSUCHCAPTURE1")
    with pytest.raises(NotAtPayPal):
        await pp.get_capture("../v2/checkout/orders/X")            # never sent anywhere
    for status in (503, 429):
        await admin.post("/__sandbox/faults", json={"match": f"/v2/payments/captures/{capture.id}", "times": 1,
                                                    "status": status})
        with pytest.raises(TechnicalError):
            await pp.get_capture(capture.id)
    slow = PayPalClient(sandboxes.paypal.url, "sandbox-client", "sandbox-secret", timeout=0.3)
    await admin.post("/__sandbox/faults", json={"match": f"/v2/payments/captures/{capture.id}", "times": 1,
                                                "latency_ms": 1500})
    with pytest.raises(TechnicalError, match="timed out"):
        await slow.get_capture(capture.id)
    await admin.delete("/__sandbox/faults")

    await admin.post("/__sandbox/refund_pending", json={"times": 1})
    refund = await pp.refund_capture(RefundRequest(capture.id, Money(500), "2026-000043", "part", unique("ref")))
    assert (refund.status, refund.capture_id) == ("PENDING", capture.id)
    await admin.post(f"/__sandbox/refunds/{refund.id}/settle", json={"outcome": "COMPLETED"})
    assert (await pp.get_refund(refund.id)).status == "COMPLETED"
    assert (await pp.get_capture(capture.id)).status == "PARTIALLY_REFUNDED"
    dispute = (await admin.post(f"/__sandbox/captures/{capture.id}/dispute", json={})).json()
    found = await pp.get_dispute(dispute["dispute_id"])
    assert (found.status, found.capture_ids) == ("OPEN", (capture.id,))
    await pp.aclose(); await slow.aclose(); await admin.aclose()


async def test_smtp_client_delivers_multipart(sandboxes):
    to = f"{unique('rcpt')}@example.net"
    mailer = SmtpMailer("127.0.0.1", sandboxes.mail.smtp_port, "mailmarket <hello@mailmarket.test>")
    await mailer.send(OutgoingMessage(to, "Hello", "plain body", "<p>html body</p>", "<abc@mailmarket.test>"))
    [message] = mails_to(sandboxes, to)
    assert (message["subject"], message["text"].strip(), message["message_id"]) == ("Hello", "plain body", "<abc@mailmarket.test>")
    assert "html body" in message["html"]


# ---- Enom: account trouble is technical, a renewal never happens twice ------------------------

async def enom_admin(sandboxes, path: str, body) -> None:
    async with httpx.AsyncClient() as http:
        (await http.post(f"{sandboxes.enom.url}/__sandbox/{path}", json=body)).raise_for_status()


async def enom_domain(sandboxes, expiry: str = "2027-03-01") -> str:
    domain = f"{unique('en')}.com"
    await enom_admin(sandboxes, "domains", [{"name": domain, "expiry": expiry}])
    return domain


async def test_enom_account_trouble_is_technical_and_domain_refusals_logical(sandboxes):
    """A revoked token, a caller outside the IP allow-list, an empty balance, a system error and
    maintenance come back as HTTP 200 with ErrCount > 0: all technical, each with its kind."""
    enom = EnomClient(sandboxes.enom.url + "/interface.asp", "mailmkt", "sandbox-enom-token")
    domain = await enom_domain(sandboxes)
    try:
        await enom_admin(sandboxes, "account", {"pw": "rotated-token"})
        with pytest.raises(TechnicalError) as err:
            await enom.get_expiry(domain)
        assert (err.value.code, err.value.kind) == ("304156", "credentials")
        await enom_admin(sandboxes, "account", {"pw": "sandbox-enom-token", "uid": "someone-else"})
        with pytest.raises(TechnicalError) as err:
            await enom.get_expiry(domain)
        assert (err.value.code, err.value.kind) == ("304155", "credentials")
        await enom_admin(sandboxes, "account", {"uid": "mailmkt", "allowed_ips": ["203.0.113.7"]})
        with pytest.raises(TechnicalError, match="not permitted from this IP") as err:
            await enom.extend(domain, 1)
        assert (err.value.code, err.value.kind) == ("713254", "ip_not_allowed")
        await enom_admin(sandboxes, "account", {"allowed_ips": [], "balance": "5.00"})
        with pytest.raises(TechnicalError) as err:
            await enom.extend(domain, 1)
        assert (err.value.code, err.value.kind) == ("524181", "balance")
        assert await enom.get_expiry(domain) == date(2027, 3, 1)   # nothing was renewed
        await enom_admin(sandboxes, "account", {"balance": None})
        await enom_admin(sandboxes, "errors", [{"match": "GetDomainExp", "times": 1, "number": "620397",
                                               "text": "System error"},
                                              {"match": "GetDomainExp", "times": 1, "number": "218153",
                                               "text": "Registry down for maintenance"}])
        with pytest.raises(TechnicalError) as err:
            await enom.get_expiry(domain)
        assert err.value.kind == "system"
        with pytest.raises(TechnicalError) as err:
            await enom.get_expiry(domain)
        assert err.value.kind == "maintenance"
        assert await enom.get_expiry(domain) == date(2027, 3, 1)
        with pytest.raises(LogicalError, match="not found"):      # the registry about the domain: logical
            await enom.get_expiry(f"{unique('nobody')}.com")
    finally:
        await enom_admin(sandboxes, "account", {"uid": "mailmkt", "pw": "sandbox-enom-token", "allowed_ips": [],
                                                "balance": None})
        await enom_admin(sandboxes, "errors", [])
        await enom.aclose()


async def test_enom_refuses_a_second_renewal_within_24_hours_unless_overridden(sandboxes):
    enom = EnomClient(sandboxes.enom.url + "/interface.asp", "mailmkt", "sandbox-enom-token")
    domain = await enom_domain(sandboxes)
    await enom.extend(domain, 1)
    with pytest.raises(LogicalError, match="24 hours"):
        await enom.extend(domain, 1)
    assert await enom.get_expiry(domain) == date(2028, 3, 1)
    async with httpx.AsyncClient() as http:   # as Enom documents it: OverrideOrder=1 renews again
        r = await http.get(f"{sandboxes.enom.url}/interface.asp", params={
            "command": "Extend", "uid": "mailmkt", "pw": "sandbox-enom-token", "responsetype": "xml",
            "sld": domain.split(".")[0], "tld": "com", "NumYears": 1, "OverrideOrder": 1})
        assert "<ErrCount>0</ErrCount>" in r.text
    assert await enom.get_expiry(domain) == date(2029, 3, 1)
    await enom_admin(sandboxes, "clock", {"today": (date.today() + timedelta(days=2)).isoformat()})
    try:   # two days on, the guard has lapsed
        await enom.extend(domain, 1)
        assert await enom.get_expiry(domain) == date(2030, 3, 1)
    finally:
        await enom_admin(sandboxes, "clock", {"today": None})
        await enom.aclose()


async def _coverage(sandboxes, sessions, enom: EnomClient, domain: str, years: int):
    from activities.registry import RegistryActivities
    from workflows.contracts import EnsureCoverage

    registry = RegistryActivities(enom, sessions)
    today = date.today()
    return await ActivityEnvironment().run(registry.ensure_domain_coverage, EnsureCoverage(
        domain, date(2027 + years, 3, 1), today))


async def test_held_extend_landing_after_the_retry_renews_once(sandboxes, sessions):
    """The first Extend is held past the client's timeout and lands after the retry has read the
    expiry and extended: Enom's 24-hour rule refuses the late one, so the domain is renewed once."""
    enom = EnomClient(sandboxes.enom.url + "/interface.asp", "mailmkt", "sandbox-enom-token", timeout=1.0)
    domain = await enom_domain(sandboxes)
    await fault(sandboxes.enom, [{"match": f"sld={domain.split('.')[0]}&tld=com&NumYears", "times": 1,
                                  "latency_ms": 2500}])
    with pytest.raises(TechnicalError, match="timed out"):        # attempt 1: the answer is lost
        await _coverage(sandboxes, sessions, enom, domain, 2)
    result = await _coverage(sandboxes, sessions, enom, domain, 2)  # attempt 2: reads 2027, extends
    assert (result.expiry, result.covered) == (date(2029, 3, 1), True)
    await asyncio.sleep(2.0)                                       # the held request lands now
    state = await sandbox_state(sandboxes.enom)
    assert [e["years"] for e in state["extensions"] if e["domain"] == domain] == [2]
    assert [r["reason"] for r in state["refused"] if r["domain"] == domain] == ["renewed within 24 hours"]
    assert state["domains"][domain] == "2029-03-01"
    await enom.aclose()


async def test_held_extend_landing_between_reread_and_retry_counts_as_done(sandboxes, sessions):
    """The held Extend lands after the retry read the old expiry but before the retry's own Extend:
    that one is refused (24 hours), the expiry is read back, covered, and the step is done."""
    enom = EnomClient(sandboxes.enom.url + "/interface.asp", "mailmkt", "sandbox-enom-token", timeout=3.0)
    domain = await enom_domain(sandboxes)
    extend = f"sld={domain.split('.')[0]}&tld=com&NumYears"
    await fault(sandboxes.enom, [{"match": extend, "times": 1, "latency_ms": 4000},
                                 {"match": extend, "times": 1, "latency_ms": 2000}])
    with pytest.raises(TechnicalError, match="timed out"):        # t=0..3: attempt 1, its Extend held to t=4
        await _coverage(sandboxes, sessions, enom, domain, 2)
    result = await _coverage(sandboxes, sessions, enom, domain, 2)  # t=3: reads 2027; its Extend lands at t=5
    assert (result.expiry, result.covered, result.extended_years) == (date(2029, 3, 1), True, 2)
    state = await sandbox_state(sandboxes.enom)
    assert [e["years"] for e in state["extensions"] if e["domain"] == domain] == [2]
    assert [r["reason"] for r in state["refused"] if r["domain"] == domain] == ["renewed within 24 hours"]
    await enom.aclose()


async def test_second_address_on_a_domain_within_24_hours_waits_for_its_top_up(sandboxes, sessions):
    """Two sales on one domain within 24 hours each need a renewal: Enom refuses the second, which
    leaves the registration short (covered False: the address tops it up later) instead of parking;
    once a day has passed at the registry, the same step extends it."""
    enom = EnomClient(sandboxes.enom.url + "/interface.asp", "mailmkt", "sandbox-enom-token")
    domain = await enom_domain(sandboxes)
    first = await _coverage(sandboxes, sessions, enom, domain, 1)
    assert (first.expiry, first.covered) == (date(2028, 3, 1), True)
    second = await _coverage(sandboxes, sessions, enom, domain, 3)
    assert (second.expiry, second.covered) == (date(2028, 3, 1), False)
    await enom_admin(sandboxes, "clock", {"today": (date.today() + timedelta(days=2)).isoformat()})
    try:
        later = await _coverage(sandboxes, sessions, enom, domain, 3)
    finally:
        await enom_admin(sandboxes, "clock", {"today": None})
        await enom.aclose()
    assert (later.expiry, later.covered) == (date(2030, 3, 1), True)
    assert [e["years"] for e in (await sandbox_state(sandboxes.enom))["extensions"] if e["domain"] == domain] == [1, 2]
