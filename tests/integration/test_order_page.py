"""The order page and the operators' Payments page as people use them, on the real stack: payment is
offered only once the invoice is issued with credit applied, and for what is then due (a fast
customer cannot pay the whole amount); an operator's part payment says what was recorded and what
is still due."""
from __future__ import annotations

import asyncio
import re
from datetime import date

import httpx
from sqlalchemy import text

from core.money import Money
from tests.integration.test_billing_api import give_credit, me
from tests.integration.test_manual_payment_api import order_one, until
from tests.support import buyer_and_operator, mails_to, make_domain, sandbox_state


async def test_payment_is_offered_only_once_credit_is_applied_and_only_for_what_is_due(live, pg_settings,
                                                                                      pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    client_id = await me(buyer)
    await give_credit(operator, oh, client_id, "5.00")
    # hold the client's balance (as a busy database would) so the invoice is not issued yet
    async with pg_sessions() as held:
        await held.execute(text("SELECT id FROM clients WHERE id = :id FOR NO KEY UPDATE"), {"id": client_id})
        order = await order_one(buyer, bh, domain)
        total = Money.parse(order["total"].lstrip("$"))
        due = total - Money(500)
        page = (await buyer.get(f"/orders/{order['id']}")).text
        assert 'id="preparing"' in page and 'role="status"' in page
        assert "with PayPal" not in page and 'id="pay-cheque"' not in page and 'id="pay-credit"' not in page
        assert 'http-equiv="refresh"' not in page and f'href="/orders/{order["id"]}"' in page   # a manual refresh
        # a fast customer posts the PayPal form anyway: it waits for the invoice, then asks PayPal for what is due
        fast = asyncio.create_task(buyer.post(f"/orders/{order['id']}/pay", data={"csrf": bh["X-CSRF-Token"]}))
        await asyncio.sleep(1.0)
        assert not fast.done()
        await held.rollback()
    went = await fast
    assert went.status_code == 303 and "checkoutnow" in went.headers["location"], went.text
    token = httpx.URL(went.headers["location"]).params["token"]
    assert (await sandbox_state(sandboxes.paypal))["orders"][token]["amount"]["value"] == due.amount()
    page = (await buyer.get(f"/orders/{order['id']}")).text
    assert f"Pay {due.display()} with PayPal" in page and 'id="preparing"' not in page
    assert 'http-equiv="refresh"' not in page          # the customer is choosing: nothing reloads under them
    for http in (buyer, operator):
        await http.aclose()


async def test_a_part_payment_on_the_payments_page_says_what_is_still_due(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    order = await order_one(buyer, bh, domain)
    total = Money.parse(order["total"].lstrip("$"))
    email = (await buyer.get("/api/v1/auth/session")).json()["client"]["email"]
    for _ in range(100):   # issued: the invoice is in the customer's mailbox
        if any(order["invoice_number"] in m["subject"] for m in mails_to(sandboxes, email)):
            break
        await asyncio.sleep(0.1)
    before = (await buyer.post(f"/api/v1/orders/{order['id']}/paypal", headers=bh)).json()   # PayPal begun first
    form = {"csrf": oh["X-CSRF-Token"], "method": "cheque", "amount": "1.00", "reference": "CHQ-501",
            "received_on": date.today().isoformat()}
    done = await operator.post(f"/operator/orders/{order['id']}/payments", data=form, follow_redirects=True)
    left = total - Money(100)
    assert done.status_code == 200
    assert f"Cheque CHQ-501 for $1.00 recorded on order {order['id']}; {left.display()} still due." in done.text
    row = re.search(rf'<tr data-order="{order["id"]}">.*?</tr>', done.text, re.S).group(0)
    assert f'name="amount" value="{left.amount()}"' in row
    again = await operator.get("/operator/payments")           # said once, not on every later visit
    assert "recorded on order" not in again.text
    view = (await buyer.get(f"/api/v1/orders/{order['id']}")).json()
    assert view["paid"] == "$1.00" and view["due"] == left.display()
    # the checkout begun for the whole amount is not the one PayPal is asked to take now
    page = (await buyer.get(f"/orders/{order['id']}")).text
    assert f"Pay {left.display()} with PayPal" in page
    now = (await buyer.post(f"/api/v1/orders/{order['id']}/paypal", headers=bh)).json()
    assert now["paypal_order_id"] != before["paypal_order_id"]
    assert (await sandbox_state(sandboxes.paypal))["orders"][now["paypal_order_id"]]["amount"]["value"] == left.amount()
    # a link can't make the page say things: what a change says travels in the session, not the URL
    spoof = await operator.get("/operator/payments", params={"done": "Refund of $500 approved. Call 555-0100."})
    assert "Refund of $500" not in spoof.text and 'id="done"' not in spoof.text
    # the rest and $2 more: the operator is told the excess is now the client's credit
    over = left + Money(200)
    form.update(amount=over.amount(), reference="CHQ-502")
    done = await operator.post(f"/operator/orders/{order['id']}/payments", data=form, follow_redirects=True)
    assert (f"Cheque CHQ-502 for {over.display()} recorded on order {order['id']}; paid in full; "
            "$2.00 more than was due is now the client&#39;s credit.") in done.text, done.text[:3000]
    for http in (buyer, operator):
        await http.aclose()
