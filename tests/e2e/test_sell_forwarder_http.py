"""The whole sale over HTTP against the processes `make run` starts: sign up, check, order, pay
with PayPal, and find the forwarder, the extended domain, the paid invoice and the welcome mail."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from core.terms import add_years

pytestmark = pytest.mark.e2e


def sign_up_and_in(site: httpx.Client, email: str, password: str = "a long passphrase", name: str = "Mark") -> dict:
    """Sign-up answers "check your email" and signs nobody in; the password then signs in."""
    csrf = site.get("/api/v1/auth/session").json()["csrf_token"]
    signed = site.post("/api/v1/auth/signup", json={"email": email, "password": password, "name": name},
                       headers={"X-CSRF-Token": csrf})
    assert signed.status_code == 202 and signed.json()["status"] == "check_email", signed.text
    login = site.post("/api/v1/auth/login", json={"email": email, "password": password},
                      headers={"X-CSRF-Token": csrf})
    assert login.status_code == 200, login.text
    return {"X-CSRF-Token": login.json()["csrf_token"]}


def poll(fn, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def test_sell_one_forwarder_end_to_end(stack):
    site = httpx.Client(base_url=stack.site, timeout=30)
    email = f"e2e{time.time_ns()}@buyer.example"
    headers = sign_up_and_in(site, email)

    name = f"mark{time.time_ns() % 100000}"
    check = site.get("/api/v1/availability", params={"names": f"{name},postmaster",
                                                     "domains": "accordionist.org,violinist.net"}).json()
    assert [c["status"] for c in check["cells"]] == ["available", "available", "unavailable", "unavailable"]

    order = site.post("/api/v1/orders", headers=headers, json={"lines": [
        {"local_part": name.upper(), "domain": "Accordionist.org", "kind": "forwarder", "years": 3,
         "destination": "mark@home.example"}]})
    assert order.status_code == 201, order.text
    order = order.json()
    address = f"{name}@accordionist.org"
    assert order["lines"][0]["address"] == address and order["total"] == "$36.00"

    # someone else cannot have it now
    rival = httpx.Client(base_url=stack.site, timeout=30)
    rival_headers = sign_up_and_in(rival, f"rival{time.time_ns()}@buyer.example", "another passphrase", "R")
    refused = rival.post("/api/v1/orders", headers=rival_headers, json={"lines": [
        {"local_part": name, "domain": "accordionist.org", "years": 1, "destination": "r@x.example"}]})
    assert refused.status_code == 409 and refused.json()["code"] == "address_taken"

    pay = site.post(f"/api/v1/orders/{order['id']}/paypal", headers=headers)
    assert pay.status_code == 200, pay.text
    approve_url = pay.json()["approve_url"]
    buyer = httpx.Client(timeout=30)
    assert "Approve payment" in buyer.get(approve_url).text
    decided = buyer.post(f"{stack.paypal}/checkoutnow/decide",
                         data={"token": pay.json()["paypal_order_id"], "decision": "approve"})
    assert decided.status_code == 303
    back = site.get(decided.headers["location"])  # PayPal sends the buyer back to us
    # signed in, the buyer's return hands the approval on and lands on the order's payment page
    assert back.status_code == 303 and back.headers["location"] == f"/orders/{order['id']}/payment"

    done = poll(lambda: (o := site.get(f"/api/v1/orders/{order['id']}").json())["lines"][0]["status"] == "active" and o,
                "the address to become active")
    assert done["invoice_status"] == "paid"
    term_end = date.fromisoformat(done["lines"][0]["term_end"])
    assert term_end == add_years(date.today(), 3)

    cpanel = httpx.get(f"{stack.cpanel}/__sandbox/state").json()
    assert {"address": address, "destination": "mark@home.example"} in cpanel["forwarders"]
    expiry = date.fromisoformat(httpx.get(f"{stack.enom}/__sandbox/state").json()["domains"]["accordionist.org"])
    assert expiry >= term_end + timedelta(days=30)
    mails = poll(lambda: [m for m in httpx.get(f"{stack.mail}/api/messages", params={"to": email}).json()
                          if m["subject"].endswith("is ready")], "the welcome email")
    assert [m["subject"] for m in mails] == [f"Your address {address} is ready"]
    subjects = [m["subject"] for m in httpx.get(f"{stack.mail}/api/messages", params={"to": email}).json()]
    assert "Confirm your email to finish signing up" in subjects
    billing = [s for s in subjects if s.startswith(("Invoice", "Receipt"))]
    assert billing == [f"Invoice {order['invoice_number']}: $36.00 due",
                       f"Receipt: $36.00 for invoice {order['invoice_number']}"]
    deliveries = poll(lambda: [d for d in httpx.get(f"{stack.paypal}/__sandbox/state").json()["deliveries"]
                               if d["event_type"] == "PAYMENT.CAPTURE.COMPLETED" and d["status"] == 200],
                      "PayPal's signed webhook to be accepted")
    assert deliveries
    assert site.get("/api/v1/addresses").json()["addresses"][0]["status"] == "active"


def test_bad_input_is_refused_with_code_and_field_and_nothing_stored(stack):
    site = httpx.Client(base_url=stack.site, timeout=30)
    h = sign_up_and_in(site, f"bad{time.time_ns()}@buyer.example", name="B")

    def refused(line: dict) -> dict:
        base = {"local_part": "ok", "domain": "accordionist.org", "years": 1, "destination": "me@x.example"}
        r = site.post("/api/v1/orders", headers=h, json={"lines": [{**base, **line}]})
        assert 400 <= r.status_code < 500, r.text
        return r.json()

    assert refused({"local_part": "bad name"})["code"] == "local_part_bad_characters"
    assert refused({"local_part": "a..b"})["code"] == "local_part_double_dot"
    assert refused({"domain": "unknown-domain.com"}) == {
        "code": "domain_unknown", "message": "We do not sell addresses at unknown-domain.com.", "field": "lines.0.domain"}
    assert refused({"years": 11})["field"] == "lines.0.years"
    assert refused({"destination": "not-an-address"})["code"] == "destination_invalid"
    assert refused({"local_part": "x" * 5000})["code"] == "request_invalid"
    assert site.post("/api/v1/orders", json={"lines": []}).status_code == 403  # no CSRF header
    assert site.get("/api/v1/addresses").json()["addresses"] == []

    hook = httpx.post(f"{stack.site}/webhooks/paypal", json={"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED"},
                      headers={"PAYPAL-TRANSMISSION-ID": "x",   # fresh, but not signed by PayPal
                               "PAYPAL-TRANSMISSION-TIME": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "PAYPAL-TRANSMISSION-SIG": "AAAA", "PAYPAL-AUTH-ALGO": "SHA256withRSA",
                               "PAYPAL-CERT-URL": f"{stack.paypal}/v1/notifications/certs/CERT-sandbox-0001"})
    assert hook.status_code == 400 and hook.json()["code"] == "webhook_rejected"
    assert "signature" in hook.json()["message"]
