"""Renewal on the real stack: the renewal invoice and its code, the public code page (wrong,
malformed, used and expired codes, limited guessing), paying a renewal by PayPal without signing in,
the bulk renewal page with its refusals, declining, cancelling, credit and auto-renew.

The API here issues orders whose lifecycle invoices the renewal at once (renewal_invoice_days
longer than the term), so a renewal happens in seconds; production timing is the workflow tests'."""
from __future__ import annotations

import asyncio
import re
from datetime import date

import httpx
import pytest_asyncio
from sqlalchemy import select, update

from api.app import create_app
from core.terms import add_years
from providers.sandbox_kit import ServerThread, free_port
from store.models import Client, Invoice, Order
from tests.integration.test_destination_change import wait_active
from tests.integration.test_paypal_webhooks import paid_order
from tests.support import approve_at_paypal, make_domain, mails_to, signed_in_http, signed_in_operator


@pytest_asyncio.fixture(scope="module")
async def soon(live, pg_settings):
    """A second API on the same database and worker whose orders invoice their renewal at once and
    whose renewal page looks 14 months ahead."""
    port = free_port()
    settings = pg_settings.model_copy(update={"renewal_invoice_days": 400, "renewal_window_months": 14,
                                              "public_base_url": f"http://127.0.0.1:{port}"})
    api = ServerThread(create_app(settings), port=port).start()
    yield settings
    api.stop()


async def eventually(check, what: str, tries: int = 150):
    for _ in range(tries):
        if (got := await check()):
            return got
        await asyncio.sleep(0.2)
    raise AssertionError(f"never saw {what}")


async def renewal_mail(sandboxes, email: str, address: str) -> dict:
    async def found():
        return next((m for m in mails_to(sandboxes, email) if m["subject"].startswith(f"Renewal of {address}")), None)
    return await eventually(found, f"the renewal invoice of {address}")


def code_in(mail: dict) -> str:
    return re.search(r"renewal code is ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})", mail["text"]).group(1)


async def term_end(http, address: str) -> date | None:
    rows = (await http.get("/api/v1/addresses")).json()["addresses"]
    row = next(r for r in rows if r["address"] == address)
    return date.fromisoformat(row["term_end"]) if row["term_end"] else None


async def renewing(soon, pg_sessions, sandboxes):
    """A client with a paid, active address whose renewal invoice has just gone out: (http, headers,
    the client, the address, its term end, the renewal invoice email)."""
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, h = await signed_in_http(soon.public_base_url)
    order, _ = await paid_order(buyer, h, domain, sandboxes)
    await wait_active(buyer, order["id"])
    address = order["lines"][0]["address"]
    end = await term_end(buyer, address)
    me = (await buyer.get("/api/v1/auth/session")).json()["client"]
    return buyer, h, me, address, end, await renewal_mail(sandboxes, me["email"], address)


async def test_renewal_code_confirms_and_pays_without_signing_in(soon, pg_sessions, sandboxes):
    buyer, h, _, address, end, mail = await renewing(soon, pg_sessions, sandboxes)
    code = code_in(mail)
    assert len(mail["attachments"]) == 1 and mail["attachments"][0].startswith("invoice-")   # the PDF

    async with httpx.AsyncClient(base_url=soon.public_base_url) as stranger:
        csrf = (await stranger.get("/api/v1/auth/session")).json()["csrf_token"]
        ch = {"X-CSRF-Token": csrf}
        ask = "/api/v1/renewal-codes"
        bad = await stranger.post(ask, headers=ch, json={"code": "not a code"})
        assert (bad.status_code, bad.json()["code"]) == (422, "code_malformed")
        wrong = "ABCD-EFGH-JKMN" if code != "ABCD-EFGH-JKMN" else "NMKJ-HGFE-DCBA"
        unknown = await stranger.post(ask, headers=ch, json={"code": wrong})
        assert (unknown.status_code, unknown.json()["code"]) == (404, "code_unknown")
        looked = (await stranger.post(ask, headers=ch, json={"code": code.lower().replace("-", " ")})).json()
        assert looked == {"address": address, "term_end": end.isoformat(), "decision": None, "order": None}

        # the page: confirm, then pay by PayPal as a visitor
        page = await stranger.post("/renew", data={"csrf": csrf, "code": code})
        assert page.status_code == 200 and 'id="confirm"' in page.text
        page = await stranger.post("/renew/decide", data={"csrf": csrf, "code": code, "decision": "confirm"})
        assert 'id="decided"' in page.text and 'id="pay-paypal"' in page.text
        order_id = re.search(r'name="order_id" value="(\d+)"', page.text).group(1)
        token = re.search(r'name="token" value="(\w+)"', page.text).group(1)
        used = await stranger.post(ask, headers=ch, json={"code": code, "decision": "decline"})
        assert (used.status_code, used.json()["code"]) == (409, "code_used")
        forged = await stranger.post("/renew/pay", data={"csrf": csrf, "order_id": order_id, "token": "0" * 40})
        assert forged.status_code == 403
        go = await stranger.post("/renew/pay", data={"csrf": csrf, "order_id": order_id, "token": token})
        assert go.status_code == 303 and "checkoutnow" in go.headers["location"]
        back = await approve_at_paypal(sandboxes, go.headers["location"])
        landed = await stranger.get(httpx.URL(back).copy_with(scheme=None, host=None, port=None).raw_path.decode())
        # this browser began the checkout with the code: its return confirms, and says only what is true
        assert landed.status_code == 200 and "confirming your payment" in landed.text
        assert "Payment received" not in landed.text

    async def renewed():
        return await term_end(buyer, address) == add_years(end, 1)
    await eventually(renewed, "the new term end")
    staff = [m["subject"] for m in mails_to(sandboxes, "operator@mailmarket.test")]
    assert f"Renewal confirmed: {address}" in staff

    async with httpx.AsyncClient(base_url=soon.public_base_url) as stranger:
        csrf = (await stranger.get("/api/v1/auth/session")).json()["csrf_token"]
        ch = {"X-CSRF-Token": csrf}
        stale = await stranger.post("/api/v1/renewal-codes", headers=ch, json={"code": code})
        assert (stale.status_code, stale.json()["code"]) == (410, "code_expired")   # that term is renewed
        answers = [(await stranger.post("/api/v1/renewal-codes", headers=ch, json={"code": wrong})).status_code
                   for _ in range(12)]
        assert answers[-1] == 429 and set(answers) <= {404, 429}                     # guessing is limited


async def test_renewal_page_confirms_in_bulk_declines_and_refuses_bad_choices(soon, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, h = await signed_in_http(soon.public_base_url)
    me = (await buyer.get("/api/v1/auth/session")).json()["client"]
    keep_order, _ = await paid_order(buyer, h, domain, sandboxes)
    drop_order, _ = await paid_order(buyer, h, domain, sandboxes)
    for o in (keep_order, drop_order):
        await wait_active(buyer, o["id"])
    keep, drop = keep_order["lines"][0]["address"], drop_order["lines"][0]["address"]
    end = await term_end(buyer, keep)
    for a in (keep, drop):
        await renewal_mail(sandboxes, me["email"], a)

    listed = (await buyer.get("/api/v1/renewals")).json()
    rows = {r["address"]: r for r in listed["addresses"]}
    assert {keep, drop} <= rows.keys()
    first_invoice = rows[keep]["open_order"]["id"]
    # a year is left, so nine more years reach the registry's ten-year limit; ten would pass it
    assert rows[keep]["years_allowed"] == list(range(1, 10)) and rows[keep]["default_years"] == 1

    for bad, code in (({"address": keep, "action": "confirm", "years": 11}, "request_invalid"),
                      ({"address": keep, "action": "confirm", "years": 10}, "term_beyond_registry"),
                      ({"address": "someone@else.example", "action": "confirm", "years": 1}, "address_not_renewable"),
                      ({"address": keep, "action": "maybe", "years": 1}, "action_invalid")):
        r = await buyer.post("/api/v1/renewals", headers=h, json={"items": [{"address": drop, "action": "decline"}, bad]})
        assert r.json()["code"] == code, r.text
    again = {r["address"]: r for r in (await buyer.get("/api/v1/renewals")).json()["addresses"]}
    assert again[drop]["decision"] is None and again[keep]["open_order"]["id"] == first_invoice   # nothing written

    page = await buyer.get("/renewals")   # declined on the page, confirmed over the API
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    page = await buyer.post("/renewals", data={"csrf": csrf, f"action:{drop}": "decline", f"years:{drop}": "1",
                                               f"action:{keep}": "", f"years:{keep}": "1"})
    assert page.status_code == 200 and 'id="done"' in page.text and f"Declined: {drop}" in page.text
    r = await buyer.post("/api/v1/renewals", headers=h, json={"items": [
        {"address": keep, "action": "confirm", "years": 3}]})
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["confirmed"] == [keep] and done["order"]["amount"] == "$36.00"

    async def withdrawn():
        return (await buyer.get(f"/api/v1/orders/{first_invoice}")).json()["status"] == "cancelled"
    await eventually(withdrawn, "the single renewal invoice withdrawn")
    pay = (await buyer.post(f"/api/v1/orders/{done['order']['id']}/paypal", headers=h)).json()
    await approve_at_paypal(sandboxes, pay["approve_url"])
    await buyer.get(f"/paypal/return?token={pay['paypal_order_id']}")

    async def renewed():
        return await term_end(buyer, keep) == add_years(end, 3)
    await eventually(renewed, "three more years")
    view = {r["address"]: r for r in (await buyer.get("/api/v1/renewals")).json()["addresses"]}
    assert view[drop]["decision"] == "declined" and view[drop]["open_order"] is None
    staff = [m["subject"] for m in mails_to(sandboxes, "operator@mailmarket.test")]
    assert f"Renewal declined: {drop}" in staff

    # cancelling: works to the term end; once only; not someone else's
    c = await buyer.post(f"/api/v1/addresses/{drop}/cancel", headers=h)
    assert c.status_code == 200 and c.json()["cancel_at_term_end"] is True, c.text
    twice = await buyer.post(f"/api/v1/addresses/{drop}/cancel", headers=h)
    assert (twice.status_code, twice.json()["code"]) == (409, "already_cancelled")
    other, oh = await signed_in_http(soon.public_base_url)
    theirs = await other.post(f"/api/v1/addresses/{keep}/cancel", headers=oh)
    assert (theirs.status_code, theirs.json()["code"]) == (404, "address_not_yours")
    page = await buyer.get("/renewals")
    assert page.status_code == 200 and drop in page.text and "cancelled" in page.text


async def test_credit_adjustments_and_auto_renew(soon, pg_sessions):
    client, h = await signed_in_http(soon.public_base_url)
    operator, oh = await signed_in_http(soon.public_base_url)
    me = (await client.get("/api/v1/auth/session")).json()["client"]["id"]
    op = (await operator.get("/api/v1/auth/session")).json()["client"]["id"]
    async with pg_sessions.begin() as session:
        await session.execute(update(Client).where(Client.id == op).values(is_operator=True))
    url = f"/api/v1/operator/clients/{me}/credit"
    assert (await client.post(url, headers=h, json={"amount": "5.00", "reason": "x"})).status_code == 403
    r = await operator.post(url, headers=oh, json={"amount": "10.00", "reason": "goodwill", "reference": "gw-1"})
    assert r.status_code == 201 and r.json()["balance"] == "10.00"
    assert (await operator.post(url, headers=oh, json={"amount": "10.00", "reason": "goodwill",
                                                        "reference": "gw-1"})).json()["balance"] == "10.00"
    for body, code in (({"amount": "-20.00", "reason": "oops"}, "balance_insufficient"),
                       ({"amount": "5.00", "reason": " "}, "reason_missing"),
                       ({"amount": "ten", "reason": "x"}, "amount_invalid")):
        refused = await operator.post(url, headers=oh, json=body)
        assert refused.json()["code"] == code, refused.text
    mine = (await client.get("/api/v1/account/credit")).json()
    assert mine["balance"] == "10.00" and mine["auto_renew"] is True
    assert [e["reason"] for e in mine["entries"]] == ["goodwill"]
    assert (await client.put("/api/v1/account/auto-renew", headers=h, json={"enabled": False})).json() == \
        {"auto_renew": False}
    assert (await client.get("/api/v1/account/credit")).json()["auto_renew"] is False


async def test_invoices_carry_the_clients_tax_and_download_as_pdf(soon, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, h = await signed_in_http(soon.public_base_url)
    me = (await buyer.get("/api/v1/auth/session")).json()["client"]["id"]
    async with pg_sessions.begin() as session:
        await session.execute(update(Client).where(Client.id == me).values(tax_bp=2000))   # 20 %
    order, _ = await paid_order(buyer, h, domain, sandboxes)
    assert order["total"] == "$14.40" and order["invoice_status"] == "paid"     # 12.00 + 20 % tax, captured
    listed = (await buyer.get("/api/v1/invoices")).json()["invoices"]
    first = next(i for i in listed if i["number"] == order["invoice_number"])
    assert (first["subtotal"], first["tax"], first["total"], first["status"]) == ("12.00", "2.40", "14.40", "paid")
    pdf = await buyer.get(first["pdf"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and f"Invoice {first['number']}".encode() in pdf.content
    page = await buyer.get("/invoices")
    assert page.status_code == 200 and first["number"] in page.text
    stranger, _ = await signed_in_http(soon.public_base_url)
    assert (await stranger.get(first["pdf"])).status_code == 404


async def test_a_client_made_postpaid_renews_on_the_page_at_once_and_is_invoiced(soon, pg_sessions, sandboxes):
    buyer, h, me, address, end, _ = await renewing(soon, pg_sessions, sandboxes)   # renewal invoice out, unpaid
    prepaid_renewal = (await buyer.get("/api/v1/renewals")).json()["addresses"][0]["open_order"]["id"]
    operator, oh = await signed_in_operator(soon.public_base_url, pg_sessions)
    r = await operator.put(f"/api/v1/operator/clients/{me['id']}/billing", headers=oh, json={"mode": "postpaid"})
    assert r.status_code == 200, r.text

    r = await buyer.post("/api/v1/renewals", headers=h, json={"items": [
        {"address": address, "action": "confirm", "years": 2}]})
    assert r.status_code == 201, r.text
    await eventually(lambda: _ended(buyer, address, add_years(end, 2)), "the renewal without payment")
    async with pg_sessions() as session:
        renewal = await session.get(Order, r.json()["order"]["id"])
        invoice = (await session.execute(select(Invoice).where(Invoice.order_id == renewal.id))).scalar_one()
        assert (renewal.billing, renewal.status, invoice.status) == ("postpaid", "invoiced", "unpaid")
        assert (invoice.due_at - invoice.issued_at).days == soon.postpaid_due_days
    replaced = await eventually(lambda: _order_status(pg_sessions, prepaid_renewal, "cancelled"), "replaced")
    assert replaced
    for http in (buyer, operator):
        await http.aclose()


async def _ended(http, address: str, end: date) -> bool:
    return await term_end(http, address) == end


async def _order_status(sessions, order_id: int, status: str) -> bool:
    async with sessions() as session:
        return (await session.get(Order, order_id)).status == status
