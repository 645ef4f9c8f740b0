"""Input that can never name anything or be stored is refused at the edge, with the usual answer:
ids beyond what the database holds are not found (a path) or invalid (a query or body field), and
text holding NUL or other control characters is invalid; nothing answers 500, and the connection
stays open for the next request."""
from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.support import signed_in_http, signed_in_operator

BEYOND = [2**31, 2**33, 2**63, -1, 0]   # 2^31: the first id PostgreSQL's integer cannot hold
NUL = "a\x00b"


def connection(response: httpx.Response):
    """The client side of the TCP connection that carried the response: the same one means kept alive."""
    return response.extensions["network_stream"].get_extra_info("client_addr")


async def still_open(http: httpx.AsyncClient, bad: httpx.Response) -> None:
    assert bad.headers.get("connection", "").lower() != "close", bad.headers
    after = await http.get("/api/v1/auth/session")
    assert after.status_code == 200 and connection(after) == connection(bad), "the server dropped the connection"


def refused_json(response: httpx.Response, status: int, field: str | None) -> None:
    assert response.status_code == status, (response.request.url, response.status_code, response.text)
    body = response.json()
    assert set(body) == {"code", "message", "field"} and body["code"] and body["message"], body
    assert body["field"] == field, body


async def test_ids_beyond_the_database_range_are_not_found_or_invalid(live, pg_settings, pg_sessions):
    base = pg_settings.public_base_url
    customer, ch = await signed_in_http(base)
    operator, oh = await signed_in_operator(base, pg_sessions)
    line = {"description": "Support", "unit_price": "10.00"}
    for big in BEYOND:
        for http, method, path, field, kwargs in [
            (customer, "GET", f"/api/v1/orders/{big}", "order_id", {}),
            (customer, "POST", f"/api/v1/orders/{big}/cancel", "order_id", {"headers": ch}),
            (customer, "POST", f"/api/v1/orders/{big}/paypal", "order_id", {"headers": ch}),
            (customer, "POST", f"/api/v1/orders/{big}/credit", "order_id", {"headers": ch}),
            (customer, "POST", f"/api/v1/orders/{big}/manual", "order_id", {"headers": ch, "json": {"method": "cheque"}}),
            (customer, "DELETE", f"/api/v1/reserved-names/{big}", "entry_id", {"headers": ch}),
            (operator, "PUT", f"/api/v1/operator/invoices/drafts/{big}", "invoice_id",
             {"headers": oh, "json": {"lines": [line]}}),
            (operator, "POST", f"/api/v1/operator/invoices/drafts/{big}/issue", "invoice_id", {"headers": oh}),
            (operator, "DELETE", f"/api/v1/operator/invoices/drafts/{big}", "invoice_id", {"headers": oh}),
            (operator, "POST", f"/api/v1/operator/clients/{big}/credit", "client_id",
             {"headers": oh, "json": {"amount": "1.00", "reason": "r"}}),
            (operator, "PUT", f"/api/v1/operator/clients/{big}/billing", "client_id",
             {"headers": oh, "json": {"mode": "exempt"}}),
            (operator, "POST", f"/api/v1/operator/orders/{big}/payments", "order_id",
             {"headers": oh, "json": {"method": "cheque", "amount": "1.00", "reference": "c1",
                                      "received_on": "2026-01-01"}}),
        ]:
            response = await http.request(method, path, **kwargs)
            refused_json(response, 404, field)
            assert response.json()["code"] == "not_found", response.text
            await still_open(http, response)

        listed = await operator.get("/api/v1/operator/invoices", params={"client_id": big})
        refused_json(listed, 422, "client_id")
        await still_open(operator, listed)
        made = await operator.post("/api/v1/operator/invoices", headers=oh, json={"client_id": big, "lines": [line]})
        refused_json(made, 422, "client_id")
        await still_open(operator, made)
    for http in (customer, operator):
        await http.aclose()


async def test_path_ids_name_the_field_at_fault(live, pg_settings):
    customer, _ = await signed_in_http(pg_settings.public_base_url)
    refused_json(await customer.get(f"/api/v1/orders/{2**31}"), 404, "order_id")
    refused_json(await customer.get("/api/v1/orders/not-a-number"), 404, "order_id")
    await customer.aclose()


async def test_control_characters_in_text_are_invalid(live, pg_settings, pg_sessions):
    base = pg_settings.public_base_url
    customer, ch = await signed_in_http(base)
    operator, oh = await signed_in_operator(base, pg_sessions)
    visitor = httpx.AsyncClient(base_url=base, timeout=30)
    vh = {"X-CSRF-Token": (await visitor.get("/api/v1/auth/session")).json()["csrf_token"]}
    payment = {"method": "cheque", "amount": "1.00", "reference": "c1", "received_on": "2026-01-01"}
    for bad in (NUL, "a\x01b", "a\x1bb", "a\x7fb"):
        seg = quote(bad)   # as a browser sends it in a path
        for http, method, path, kwargs, status, field in [
            (visitor, "GET", "/api/v1/domains", {"params": {"q": bad}}, 422, "q"),
            (visitor, "GET", "/api/v1/availability", {"params": {"names": bad, "domains": "x.org"}}, 422, "names"),
            (visitor, "POST", "/api/v1/auth/login", {"headers": vh, "json": {"email": f"{bad}@example.net",
                                                                              "password": "whatever it is"}},
             422, "email"),
            (visitor, "POST", "/api/v1/auth/signup", {"headers": vh, "json": {"email": "x@example.net",
                                                                               "password": "a long passphrase",
                                                                               "name": bad}}, 422, "name"),
            (customer, "POST", f"/api/v1/addresses/{seg}@example.org/destination",
             {"headers": ch, "json": {"destination": "me@example.net"}}, 404, "address"),
            (customer, "POST", "/api/v1/addresses/me@example.org/destination",
             {"headers": ch, "json": {"destination": f"{bad}@example.net"}}, 422, "destination"),
            (customer, "GET", f"/api/v1/addresses/{seg}@example.org/mailbox", {}, 404, "address"),
            (customer, "DELETE", f"/api/v1/cart/{seg}@example.org", {"headers": ch}, 404, "address"),
            (customer, "GET", f"/api/v1/invoices/{seg}.pdf", {}, 404, "number"),
            (customer, "GET", "/api/v1/reserved-names", {"params": {"domain": bad}}, 422, "domain"),
            (operator, "POST", "/api/v1/operator/payments",
             {"headers": oh, "json": {"payments": [{**payment, "invoice": bad}]}}, 422, "payments.0.invoice"),
            (operator, "POST", f"/api/v1/operator/invoices/{seg}/cancel", {"headers": oh, "json": {"reason": "r"}},
             404, "number"),
            (operator, "GET", "/api/v1/operator/invoices", {"params": {"status": bad}}, 422, "status"),
        ]:
            response = await http.request(method, path, **kwargs)
            refused_json(response, status, field)
            await still_open(http, response)
    for http in (customer, operator, visitor):
        await http.aclose()


@pytest.mark.parametrize("body", [b'{"email": "\\ud800@example.net", "password": "x"}',
                                  b'{"email": "\xff\xfe@example.net", "password": "x"}'])
async def test_json_that_is_not_text_is_invalid(live, pg_settings, body):
    visitor = httpx.AsyncClient(base_url=pg_settings.public_base_url, timeout=30)
    csrf = (await visitor.get("/api/v1/auth/session")).json()["csrf_token"]
    response = await visitor.post("/api/v1/auth/login", content=body,
                                  headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["code"], response.text
    await still_open(visitor, response)
    await visitor.aclose()


def refused_page(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, (response.request.url, response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html") and 'role="alert"' in response.text


async def test_pages_answer_a_readable_page_for_bad_ids_and_text(live, pg_settings, pg_sessions):
    base = pg_settings.public_base_url
    customer, ch = await signed_in_http(base)
    operator, oh = await signed_in_operator(base, pg_sessions)
    csrf, ocsrf = ch["X-CSRF-Token"], oh["X-CSRF-Token"]
    for big in (2**31, 2**63, -1):
        for http, method, path, data in [
            (customer, "GET", f"/orders/{big}", None),
            (customer, "POST", f"/orders/{big}/cancel", {"csrf": csrf}),
            (customer, "POST", f"/orders/{big}/pay", {"csrf": csrf}),
            (customer, "POST", f"/reserved/{big}/remove", {"csrf": csrf}),
            (customer, "GET", f"/destination/confirm/{big}/token", None),
            (operator, "POST", f"/operator/billing/drafts/{big}", {"csrf": ocsrf, "action": "issue"}),
            (operator, "POST", f"/operator/orders/{big}/payments", {"csrf": ocsrf, "method": "cheque"}),
        ]:
            response = await http.request(method, path, data=data)
            refused_page(response, 404)
            assert 'id="sign-out"' in response.text   # the error page still shows who is signed in
            await still_open(http, response)
        paid = await customer.post("/renew/pay", data={"csrf": csrf, "order_id": str(big), "token": "t"})
        refused_page(paid, 422)
        await still_open(customer, paid)
    for http, method, path, params, data, status in [
        (customer, "GET", "/", {"q": NUL}, None, 422),
        (customer, "GET", "/check", {"names": NUL, "domain": "x.org"}, None, 422),
        (customer, "POST", "/login", None, {"csrf": csrf, "email": f"{NUL}@example.net", "password": "x"}, 422),
        (customer, "POST", f"/addresses/{quote(NUL)}@example.org/cancel", None, {"csrf": csrf}, 404),
        (customer, "GET", f"/addresses/{quote(NUL)}@example.org/mailbox", None, None, 404),
        (customer, "POST", "/cart/checkout", None, {"csrf": csrf, "promo_code": NUL}, 422),
        (operator, "POST", "/operator/billing/invoices", None,
         {"csrf": ocsrf, "client_email": "x@example.net", "description_0": NUL, "unit_price_0": "1.00"}, 422),
        (operator, "POST", "/operator/billing/invoices/INV-1", None,
         {"csrf": ocsrf, "action": "pay", "reference": NUL}, 422),
    ]:
        response = await http.request(method, path, params=params, data=data)
        refused_page(response, status)
        await still_open(http, response)
    for http in (customer, operator):
        await http.aclose()


async def test_numbers_beyond_what_the_columns_hold_are_refused(live, pg_settings, pg_sessions):
    """Not ids, but stored in integer columns all the same: promo limits and invoice quantities,
    typed into the Billing page (which reads its forms whole) or sent to the API."""
    operator, oh = await signed_in_operator(pg_settings.public_base_url, pg_sessions)
    customer, ch = await signed_in_http(pg_settings.public_base_url)
    email = (await customer.get("/api/v1/auth/session")).json()["client"]["email"]
    csrf = oh["X-CSRF-Token"]
    for limit in ("2147483648", "9" * 5000, "\u00b2"):
        page = await operator.post("/operator/billing/promo-codes",
                                   data={"csrf": csrf, "code": "BIGLIMIT", "percent": "10", "max_uses": limit})
        refused_page(page, 422)
        assert "A limit of uses is a whole number up to 1,000,000." in page.text
    api = await operator.post("/api/v1/operator/promo-codes", headers=oh,
                              json={"code": "BIGLIMIT", "percent": "10", "max_uses_per_client": 2**31})
    refused_json(api, 422, "max_uses_per_client")
    assert api.json()["code"] == "promo_limit_invalid"
    page = await operator.post("/operator/billing/invoices", data={
        "csrf": csrf, "client_email": email, "description_0": "Support", "unit_price_0": "1.00",
        "quantity_0": "2147483648"})
    refused_page(page, 422)
    assert "quantity is between 1 and 100,000" in page.text
    api = await operator.post("/api/v1/operator/invoices", headers=oh, json={
        "client_id": (await customer.get("/api/v1/auth/session")).json()["client"]["id"],
        "lines": [{"description": "Support", "quantity": 100_000, "unit_price": "999999999999.99"}]})
    refused_json(api, 422, "lines.0.unit_price")
    renew = await customer.post("/renewals", data={"csrf": ch["X-CSRF-Token"], "action:x@example.org": "confirm",
                                                   "years:x@example.org": "9" * 5000})
    assert 400 <= renew.status_code < 500, renew.text[:300]
    for http in (operator, customer):
        await http.aclose()
