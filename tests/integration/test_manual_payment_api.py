"""Cheque and wire over HTTP on the real stack: the customer's choice and instructions, the
operator's record with its refusals, the operator's list, and a customer's cancellation."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from sqlalchemy import update

from core.money import Money
from store.models import Client
from tests.support import make_domain, signed_in_http, unique


async def order_one(http, h, domain) -> dict:
    r = await http.post("/api/v1/orders", headers=h, json={"lines": [
        {"local_part": unique("w"), "domain": domain.name, "years": 1, "destination": "me@home.example"}]})
    assert r.status_code == 201, r.text
    return r.json()


async def until(http, order_id: int, check) -> dict:
    for _ in range(150):
        got = (await http.get(f"/api/v1/orders/{order_id}")).json()
        if check(got):
            return got
        await asyncio.sleep(0.2)
    raise AssertionError(f"order {order_id} stayed {got}")


async def test_wire_recorded_by_an_operator_activates_and_refusals_change_nothing(live, pg_settings, pg_sessions,
                                                                                  sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh = await signed_in_http(pg_settings.public_base_url)
    operator, oh = await signed_in_http(pg_settings.public_base_url)
    me = (await operator.get("/api/v1/auth/session")).json()["client"]["id"]
    async with pg_sessions.begin() as session:
        await session.execute(update(Client).where(Client.id == me).values(is_operator=True))

    order = await order_one(buyer, bh, domain)
    how = (await buyer.post(f"/api/v1/orders/{order['id']}/manual", headers=bh, json={"method": "wire"})).json()
    assert how["reference"] == order["invoice_number"] and how["pay_to"] == pg_settings.payee_name
    assert how["details"] == pg_settings.bank_details and how["amount"] == order["total"]
    assert timedelta(days=13) < datetime.fromisoformat(how["deadline"]) - datetime.now(
        datetime.fromisoformat(how["deadline"]).tzinfo) <= timedelta(days=14)
    view = (await buyer.get(f"/api/v1/orders/{order['id']}")).json()
    assert view["method"] == "wire" and view["deadline"] == how["deadline"]
    page = await buyer.get(f"/orders/{order['id']}")
    assert 'id="manual-instructions"' in page.text and order["invoice_number"] in page.text

    listed = await operator.get("/operator/payments")
    assert f'data-order="{order["id"]}"' in listed.text
    amount = order["total"].lstrip("$").split()[0]
    record = f"/api/v1/operator/orders/{order['id']}/payments"
    good = {"method": "wire", "amount": amount, "reference": "BANK-REF-991", "received_on": date.today().isoformat()}
    assert (await buyer.post(record, headers=bh, json=good)).json()["code"] == "forbidden"
    for change, code in [({"amount": "0.00"}, "amount_invalid"), ({"amount": "-5"}, "amount_invalid"),
                         ({"amount": "ten"}, "amount_invalid"), ({"received_on": "yesterday"}, "date_invalid"),
                         ({"received_on": (date.today() + timedelta(days=2)).isoformat()}, "date_in_future"),
                         ({"method": "cash"}, "method_invalid"), ({"reference": " "}, "reference_missing")]:
        r = await operator.post(record, headers=oh, json={**good, **change})
        assert 400 <= r.status_code < 500 and r.json()["code"] == code, (change, r.text)
    assert (await buyer.get(f"/api/v1/orders/{order['id']}")).json()["invoice_status"] == "unpaid"

    # part of it first: the order waits for the rest and says how much
    part = await operator.post(record, headers=oh, json={**good, "amount": "1.00", "reference": "BANK-REF-990"})
    assert part.status_code == 200 and part.json()["status"] == "awaiting_payment", part.text
    total = Money.parse(amount)
    view = (await buyer.get(f"/api/v1/orders/{order['id']}")).json()
    assert (view["invoice_status"], view["paid"], view["due"]) == ("unpaid", "$1.00", (total - Money(100)).display())
    assert "still due" in view["message"]
    r = await operator.post(record, headers=oh, json={**good, "amount": (total - Money(100)).amount()})
    assert r.status_code == 200, r.text
    again = await operator.post(record, headers=oh, json=good)
    assert again.status_code == 409  # recorded once, whoever presses again
    done = await until(buyer, order["id"], lambda o: o["lines"][0]["status"] == "active")
    assert done["invoice_status"] == "paid"
    for http in (buyer, operator):
        await http.aclose()


async def test_customer_cancels_an_unpaid_order(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh = await signed_in_http(pg_settings.public_base_url)
    other, xh = await signed_in_http(pg_settings.public_base_url)
    order = await order_one(buyer, bh, domain)
    assert (await other.post(f"/api/v1/orders/{order['id']}/cancel", headers=xh)).status_code == 404
    assert (await buyer.post(f"/api/v1/orders/{order['id']}/cancel", headers=bh)).status_code == 202
    done = await until(buyer, order["id"], lambda o: o["status"] == "cancelled")
    assert done["lines"][0]["status"] == "cancelled" and done["invoice_status"] == "cancelled"
    r = await buyer.post(f"/api/v1/orders/{order['id']}/cancel", headers=bh)
    assert r.status_code == 409 and r.json()["code"] == "order_not_cancellable"
    for http in (buyer, other):
        await http.aclose()
