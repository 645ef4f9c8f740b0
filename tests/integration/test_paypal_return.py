"""PayPal's return to /paypal/return?token=… on the real stack: only the signed-in owner's return hands
the approval to the workflow, which reads the order back from PayPal before capturing; anyone else
sees a page that reveals nothing, and a token PayPal has not approved changes nothing. The page says
"Payment received" only once the money is taken."""
from __future__ import annotations

import asyncio
import re
from urllib.parse import quote

import httpx

from tests.integration.test_manual_payment_api import order_one, until
from tests.integration.test_billing_modes_api import LINES
from tests.support import approve_at_paypal, buyer_and_operator, make_domain, sandbox_state, signed_in_http

SETTLE = 3.0   # long enough for a wrongly relayed approval to reach a capture and a decline


async def begun(http, h, domain) -> tuple[dict, dict]:
    order = await order_one(http, h, domain)
    pay = (await http.post(f"/api/v1/orders/{order['id']}/paypal", headers=h)).json()
    return order, pay


async def test_a_stranger_s_return_changes_nothing_and_reveals_nothing(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh = await signed_in_http(pg_settings.public_base_url)
    other, _ = await signed_in_http(pg_settings.public_base_url)
    order, pay = await begun(buyer, bh, domain)
    token = pay["paypal_order_id"]
    async with httpx.AsyncClient(base_url=pg_settings.public_base_url) as anonymous:
        asked = await anonymous.get(f"/paypal/return?token={token}")
        unknown = await anonymous.get("/paypal/return?token=NOSUCHORDER0000")
    # asked to sign in and come back; nothing about the order, and the same for a token we do not know
    assert asked.status_code == 200 and "Payment received" not in asked.text and "Thank you" not in asked.text
    assert f'href="/login?next={quote(f"/paypal/return?token={token}", safe="")}"' in asked.text
    assert "/orders/" not in asked.text and "/invoices" not in asked.text.replace('href="/invoices">Invoices', "")
    assert unknown.text.replace("NOSUCHORDER0000", token) == asked.text

    theirs = await other.get(f"/paypal/return?token={token}")
    nothing = await other.get("/paypal/return?token=NOSUCHORDER0000")
    assert (theirs.status_code, nothing.status_code) == (404, 404)
    assert "Payment received" not in theirs.text and f"/orders/{order['id']}" not in theirs.text
    assert theirs.text == nothing.text

    await asyncio.sleep(SETTLE)
    view = (await buyer.get(f"/api/v1/orders/{order['id']}")).json()
    assert (view["payment_status"], view["invoice_status"], view["message"]) == ("awaiting_payment", "unpaid", "")
    assert not [c for c in (await sandbox_state(sandboxes.paypal))["captures"] if c["order_id"] == token]

    # the real buyer's checkout still works: approve, come back (signed out on this device), sign in, paid
    email = (await buyer.get("/api/v1/auth/session")).json()["client"]["email"]
    back = await approve_at_paypal(sandboxes, pay["approve_url"])
    async with httpx.AsyncClient(base_url=pg_settings.public_base_url) as device:
        asked = await device.get(httpx.URL(back).raw_path.decode())
        sign_in = re.search(r'href="(/login\?next=[^"]+)"', asked.text).group(1)
        form = await device.get(sign_in.replace("&amp;", "&"))
        fields = dict(re.findall(r'name="(csrf|next)" value="([^"]*)"', form.text))
        landed = await device.post("/login", data={**fields, "email": email, "password": "a long passphrase"},
                                   follow_redirects=True)
    assert landed.status_code == 200 and str(landed.url).endswith(f"/orders/{order['id']}/payment")
    assert f'href="/orders/{order["id"]}"' in landed.text
    await until(buyer, order["id"], lambda o: o["invoice_status"] == "paid")
    page = await buyer.get(str(landed.url))
    assert "Payment received" in page.text
    await buyer.aclose()
    await other.aclose()


async def test_the_owner_s_return_before_approving_changes_nothing(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh = await signed_in_http(pg_settings.public_base_url)
    order, pay = await begun(buyer, bh, domain)
    early = await buyer.get(f"/paypal/return?token={pay['paypal_order_id']}", follow_redirects=True)
    assert early.status_code == 200 and "Payment received" not in early.text
    assert "confirming your payment" in early.text and f'href="/orders/{order["id"]}"' in early.text
    await asyncio.sleep(SETTLE)
    view = (await buyer.get(f"/api/v1/orders/{order['id']}")).json()
    assert (view["payment_status"], view["invoice_status"], view["message"]) == ("awaiting_payment", "unpaid", "")
    assert not [c for c in (await sandbox_state(sandboxes.paypal))["captures"]
                if c["order_id"] == pay["paypal_order_id"]]
    await approve_at_paypal(sandboxes, pay["approve_url"])
    await until(buyer, order["id"], lambda o: o["invoice_status"] == "paid")
    await buyer.aclose()


async def test_a_stranger_s_return_for_a_chased_invoice_changes_nothing(live, pg_settings, pg_sessions, sandboxes):
    """An invoice paid on its own (an operator's): the same rules as an order's checkout."""
    buyer, bh, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    client_id = (await buyer.get("/api/v1/auth/session")).json()["client"]["id"]
    number = (await operator.post("/api/v1/operator/invoices", headers=oh,
                                  json={"client_id": client_id, "lines": LINES})).json()["number"]
    pay = await buyer.post(f"/api/v1/invoices/{number}/paypal", headers=bh)
    assert pay.status_code == 200, pay.text
    token = pay.json()["paypal_order_id"]
    async with httpx.AsyncClient(base_url=pg_settings.public_base_url) as anonymous:
        asked = await anonymous.get(f"/paypal/return?token={token}")
    assert asked.status_code == 200 and "Payment received" not in asked.text and number not in asked.text
    theirs = await operator.get(f"/paypal/return?token={token}")
    assert theirs.status_code == 404 and number not in theirs.text
    early = await buyer.get(f"/paypal/return?token={token}")   # the owner, before approving: nothing either
    assert early.status_code == 303 and early.headers["location"] == "/invoices"
    await asyncio.sleep(SETTLE)
    mine = {i["number"]: i for i in (await buyer.get("/api/v1/invoices")).json()["invoices"]}
    assert mine[number]["status"] == "unpaid"
    again = await buyer.post(f"/api/v1/invoices/{number}/paypal", headers=bh)
    assert again.json()["paypal_order_id"] == token     # still the same checkout, not dropped as declined
    await approve_at_paypal(sandboxes, pay.json()["approve_url"])
    await buyer.get(f"/paypal/return?token={token}")
    for _ in range(100):
        mine = {i["number"]: i for i in (await buyer.get("/api/v1/invoices")).json()["invoices"]}
        if mine[number]["status"] == "paid":
            break
        await asyncio.sleep(0.2)
    assert mine[number]["status"] == "paid"
    for http in (buyer, operator):
        await http.aclose()
