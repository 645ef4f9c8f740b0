"""The page and the JSON API do the same work through one service, so they refuse the same things
the same way: a name of spaces at sign-up, an invoice line's quantity and service period, and
cancelling or paying an order that no longer waits for its money."""
from __future__ import annotations

import asyncio
import html
from datetime import date

import httpx
from sqlalchemy import select

from store.models import Invoice, InvoiceLine
from tests.support import buyer_and_operator, make_domain, signed_in_http, unique


async def _csrf(http: httpx.AsyncClient) -> str:
    return (await http.get("/api/v1/auth/session")).json()["csrf_token"]


async def test_a_name_of_spaces_is_refused_by_the_page_and_the_api(live, pg_settings):
    async with httpx.AsyncClient(base_url=pg_settings.public_base_url, timeout=30) as http:
        csrf = await _csrf(http)
        page = await http.post("/signup", data={"csrf": csrf, "email": f"{unique('sp')}@example.net",
                                                "name": "   ", "password": "a long passphrase"})
        assert page.status_code == 422 and "Tell us your name." in page.text
        api = await http.post("/api/v1/auth/signup", headers={"X-CSRF-Token": csrf},
                              json={"email": f"{unique('sp')}@example.net", "name": "   ",
                                    "password": "a long passphrase"})
        assert api.status_code == 422
        assert (api.json()["code"], api.json()["field"]) == ("name_empty", "name")


async def test_invoice_lines_from_the_page_have_the_apis_period_and_bounds(live, pg_settings, pg_sessions):
    customer, _, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    who = (await customer.get("/api/v1/auth/session")).json()["client"]
    csrf = oh["X-CSRF-Token"]
    line = {"description_0": "Support, November (hours)", "unit_price_0": "45.00", "quantity_0": "3",
            "period_start_0": "2026-11-01", "period_end_0": "2026-11-30"}
    form = {"csrf": csrf, "client_email": who["email"], "action": "draft"}

    # a quantity beyond the bound and a period that ends before it starts: refused, beside the field
    too_many = await operator.post("/operator/billing/invoices", data={**form, **line, "quantity_0": "100001"})
    assert too_many.status_code == 422 and "quantity is between 1 and 100,000" in too_many.text
    backwards = await operator.post("/operator/billing/invoices",
                                    data={**form, **line, "period_end_0": "2026-10-31"})
    assert backwards.status_code == 422 and "A service period ends after it starts." in backwards.text
    api_line = {"description": "Support", "unit_price": "45.00", "quantity": 3,
                "period_start": "2026-11-01", "period_end": "2026-10-31"}
    api = await operator.post("/api/v1/operator/invoices", headers=oh, json={
        "client_id": who["id"], "draft": True, "lines": [api_line]})
    assert api.status_code == 422 and api.json()["code"] == "period_invalid", api.text
    api = await operator.post("/api/v1/operator/invoices", headers=oh, json={
        "client_id": who["id"], "draft": True, "lines": [{**api_line, "period_end": "2026-11-30",
                                                          "quantity": 100_001}]})
    assert api.status_code == 422 and api.json()["field"] == "lines.0.quantity", api.text

    # no client named: the page says so (not a forwarding destination's sentence)
    nobody = await operator.post("/operator/billing/invoices", data={**form, **line, "client_email": " "})
    assert nobody.status_code == 422 and "Enter the email address of the client." in nobody.text

    # a good one keeps its service period, as the API's does
    saved = await operator.post("/operator/billing/invoices", data={**form, **line})
    assert saved.status_code == 303, saved.text[:500]
    async with pg_sessions() as session:
        [row] = (await session.execute(
            select(InvoiceLine).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(Invoice.client_id == who["id"]))).scalars().all()
    assert (row.quantity, row.period_start, row.period_end) == (3, date(2026, 11, 1), date(2026, 11, 30))
    for http in (customer, operator):
        await http.aclose()


async def test_an_order_no_longer_waiting_is_refused_the_same_way_on_the_page(live, pg_settings, pg_sessions,
                                                                             sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh = await signed_in_http(pg_settings.public_base_url)
    made = await buyer.post("/api/v1/orders", headers=bh, json={"lines": [
        {"local_part": unique("c"), "domain": domain.name, "years": 1, "destination": "me@home.example"}]})
    assert made.status_code == 201, made.text
    order_id = made.json()["id"]
    cancelled = await buyer.post(f"/orders/{order_id}/cancel", data={"csrf": bh["X-CSRF-Token"]})
    assert cancelled.status_code == 303
    said = await buyer.get(cancelled.headers["location"])   # the page says the cancellation is on its way, once
    assert f"Order {order_id} is being cancelled" in said.text
    assert "is being cancelled" not in (await buyer.get(f"/orders/{order_id}")).text
    for _ in range(150):
        if (await buyer.get(f"/api/v1/orders/{order_id}")).json()["status"] == "cancelled":
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"order {order_id} was not cancelled")

    api = await buyer.post(f"/api/v1/orders/{order_id}/cancel", headers=bh)
    assert api.status_code == 409 and api.json()["code"] == "order_not_cancellable"
    page = await buyer.post(f"/orders/{order_id}/cancel", data={"csrf": bh["X-CSRF-Token"]})
    assert page.status_code == 409 and api.json()["message"] in html.unescape(page.text)

    # paying it is refused alike: with PayPal, and by cheque or wire
    api = await buyer.post(f"/api/v1/orders/{order_id}/paypal", headers=bh)
    assert api.status_code == 409 and api.json()["code"] == "order_not_payable"
    page = await buyer.post(f"/orders/{order_id}/pay", data={"csrf": bh["X-CSRF-Token"]})
    assert page.status_code == 409 and api.json()["message"] in html.unescape(page.text)
    page = await buyer.post(f"/orders/{order_id}/manual", data={"csrf": bh["X-CSRF-Token"], "method": "wire"})
    assert page.status_code == 409 and api.json()["message"] in html.unescape(page.text)
    await buyer.aclose()
