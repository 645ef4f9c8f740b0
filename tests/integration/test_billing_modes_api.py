"""Over HTTP on the real stack (PostgreSQL, the dev server): draft invoices that take their number only
when issued, clients billed postpaid (addresses at once, the invoice paid later through its own
workflow) or exempt (no invoice), a client paying an invoice from credit, and refused attempts on
record in the audit log with the ledger unchanged."""
from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import select

from store.models import AuditEntry
from tests.integration.test_billing_api import give_credit, ledger, me
from tests.integration.test_manual_payment_api import order_one, until
from tests.support import buyer_and_operator, mail_arrives, make_domain, refund_answered

LINES = [{"description": "Support, November (hours)", "quantity": 2, "unit_price": "40.00"}]


async def refused(sessions, action: str, entity_id: str) -> list[dict]:
    async with sessions() as session:
        return [e.after for e in (await session.execute(select(AuditEntry).where(
            AuditEntry.action == f"{action}.refused", AuditEntry.entity_id == entity_id))).scalars()]


def seq(number: str) -> int:
    return int(number.split("-")[-1])


async def test_drafts_are_unseen_and_unnumbered_until_issued(live, pg_settings, pg_sessions, sandboxes):
    buyer, bh, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    client_id = await me(buyer)
    url = "/api/v1/operator/invoices"
    made = await operator.post(url, headers=oh, json={"client_id": client_id, "lines": LINES, "draft": True})
    assert made.status_code == 201, made.text
    draft = made.json()
    assert (draft["status"], draft["number"], draft["total"]) == ("draft", f"DRAFT-{draft['id']}", "80.00")
    # the client sees nothing of it: not listed, no PDF; operators can preview it
    assert (await buyer.get("/api/v1/invoices")).json()["invoices"] == []
    assert (await buyer.get(draft["pdf"])).status_code == 404
    preview = await operator.get(draft["pdf"])
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    listed = (await operator.get(url, params={"status": "draft", "client_id": client_id})).json()["invoices"]
    assert [i["id"] for i in listed] == [draft["id"]]
    assert (await operator.get(url, params={"status": "lost"})).json()["code"] == "status_invalid"

    # edited while a draft; a bad edit is refused and changes nothing
    bad = await operator.put(f"{url}/drafts/{draft['id']}", headers=oh,
                             json={"lines": [{"description": "x", "unit_price": "-3.00"}]})
    assert bad.status_code == 422 and bad.json()["code"] == "amount_invalid"
    edited = await operator.put(f"{url}/drafts/{draft['id']}", headers=oh, json={"lines": [
        *LINES, {"description": "Mailbox migration", "unit_price": "25.00", "discount": "5.00"}]})
    assert edited.status_code == 200 and edited.json()["total"] == "100.00", edited.text

    # an invoice issued meanwhile takes the next number; the draft, issued after it, the one after that
    other = (await operator.post(url, headers=oh, json={"client_id": client_id, "lines": LINES})).json()
    issued = await operator.post(f"{url}/drafts/{draft['id']}/issue", headers=oh)
    assert issued.status_code == 200, issued.text
    invoice = issued.json()
    assert invoice["status"] == "unpaid" and seq(invoice["number"]) == seq(other["number"]) + 1
    email = (await buyer.get("/api/v1/auth/session")).json()["client"]["email"]
    await mail_arrives(sandboxes, email, f"Invoice {invoice['number']}: $100.00 due",
                       "the issued draft was not emailed", tries=60)
    assert {i["number"] for i in (await buyer.get("/api/v1/invoices")).json()["invoices"]} == {
        other["number"], invoice["number"]}
    # an issued invoice is never edited, issued again or deleted
    for call in (operator.put(f"{url}/drafts/{draft['id']}", headers=oh, json={"lines": LINES}),
                 operator.post(f"{url}/drafts/{draft['id']}/issue", headers=oh),
                 operator.delete(f"{url}/drafts/{draft['id']}", headers=oh)):
        r = await call
        assert r.status_code == 409 and r.json()["code"] == "invoice_not_draft", r.text

    # a draft thrown away leaves no number behind; it is not cancelled like an issued invoice
    spare = (await operator.post(url, headers=oh, json={"client_id": client_id, "lines": LINES, "draft": True})).json()
    r = await operator.post(f"{url}/{spare['number']}/cancel", headers=oh, json={"reason": "typo"})
    assert r.status_code == 409 and r.json()["code"] == "invoice_draft"
    assert (await operator.delete(f"{url}/drafts/{spare['id']}", headers=oh)).status_code == 204
    assert (await operator.delete(f"{url}/drafts/{spare['id']}", headers=oh)).json()["code"] == "draft_unknown"
    assert (await buyer.post(url, headers=bh, json={"client_id": client_id, "lines": LINES,
                                                    "draft": True})).status_code == 403

    # the client pays one from credit added after it was issued; with nothing left, refused on record
    await give_credit(operator, oh, client_id, "30.00")
    paid = await buyer.post(f"/api/v1/invoices/{invoice['number']}/credit", headers=bh)
    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["due"]) == ("unpaid", 7000)
    entries = await ledger(pg_sessions, client_id)
    again = await buyer.post(f"/api/v1/invoices/{invoice['number']}/credit", headers=bh)
    assert again.status_code == 409 and again.json()["code"] == "balance_insufficient"
    assert await ledger(pg_sessions, client_id) == entries
    assert [a["code"] for a in await refused(pg_sessions, "credit_payment", invoice["number"])] == [
        "balance_insufficient"]
    page = (await buyer.get("/invoices")).text
    assert 'id="how-to-pay"' in page and pg_settings.payee_name in page
    # on the page: more credit pays the rest, and the page says so once
    await give_credit(operator, oh, client_id, "70.00")
    paid = await buyer.post(f"/invoices/{invoice['number']}/credit", data={"csrf": bh["X-CSRF-Token"]})
    assert paid.status_code == 303, paid.text[:300]
    assert f"Invoice {invoice['number']}: paid from your credit." in (await buyer.get("/invoices")).text
    assert "paid from your credit" not in (await buyer.get("/invoices")).text
    for http in (buyer, operator):
        await http.aclose()


async def test_postpaid_and_exempt_clients_get_addresses_at_once(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    client_id = await me(buyer)
    url = f"/api/v1/operator/clients/{client_id}/billing"
    assert (await buyer.put(url, headers=bh, json={"mode": "postpaid"})).status_code == 403
    r = await operator.put(url, headers=oh, json={"mode": "monthly"})
    assert r.status_code == 422 and r.json()["code"] == "billing_mode_invalid" and "postpaid" in r.json()["message"]
    r = await operator.put("/api/v1/operator/clients/999999999/billing", headers=oh, json={"mode": "postpaid"})
    assert r.status_code == 404 and r.json()["code"] == "client_unknown"
    r = await operator.put(url, headers=oh, json={"mode": "Postpaid"})
    assert r.json() == {"client_id": client_id, "billing_mode": "postpaid"}

    order = await order_one(buyer, bh, domain)
    view = await until(buyer, order["id"], lambda o: o["lines"][0]["status"] == "active")
    assert (view["status"], view["invoice_status"]) == ("invoiced", "unpaid")
    page = (await buyer.get(f"/orders/{order['id']}")).text
    assert 'id="invoiced"' in page and view["invoice_due_on"] in page and "Pay " not in page
    assert (await buyer.post(f"/api/v1/orders/{order['id']}/paypal", headers=bh)).status_code == 409
    # an unknown invoice in a bulk file is refused on record; the real one goes to its invoice workflow
    rows = [{"invoice": "2000-999999", "method": "wire", "amount": "1.00", "reference": "W-lost",
             "received_on": date.today().isoformat()},
            {"invoice": order["invoice_number"], "method": "wire", "amount": order["total"].lstrip("$"),
             "reference": f"W-post-{order['id']}", "received_on": date.today().isoformat()}]
    r = (await operator.post("/api/v1/operator/payments", headers=oh, json={"payments": rows})).json()
    assert [x["recorded"] for x in r["results"]] == [False, True], r
    assert r["results"][1]["status"] == "paid"
    assert [a["code"] for a in await refused(pg_sessions, "payment", "2000-999999")] == ["invoice_unknown"]
    await until(buyer, order["id"], lambda o: o["status"] == "paid" and o["invoice_status"] == "paid")

    assert (await operator.put(url, headers=oh, json={"mode": "exempt"})).status_code == 200
    free = await order_one(buyer, bh, domain)
    assert free["invoice_number"] == ""
    view = await until(buyer, free["id"], lambda o: o["lines"][0]["status"] == "active")
    assert view["status"] == "exempt"
    assert 'id="not-invoiced"' in (await buyer.get(f"/orders/{free['id']}")).text
    numbers = [i["number"] for i in (await buyer.get("/api/v1/invoices")).json()["invoices"]]
    assert numbers == [order["invoice_number"]]       # the exempt order wrote none
    async with pg_sessions() as session:
        modes = [(e.before, e.after) for e in (await session.execute(select(AuditEntry).where(
            AuditEntry.action == "client.billing_mode", AuditEntry.entity_id == str(client_id))
            .order_by(AuditEntry.id))).scalars()]
    assert modes == [({"billing_mode": "prepaid"}, {"billing_mode": "postpaid"}),
                     ({"billing_mode": "postpaid"}, {"billing_mode": "exempt"})]
    for http in (buyer, operator):
        await http.aclose()


async def test_a_client_pays_an_operators_invoice_with_paypal_and_part_is_refunded(live, pg_settings, pg_sessions,
                                                                                  sandboxes):
    from store.models import WebhookEvent
    from tests.support import approve_at_paypal

    buyer, bh, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    client_id = await me(buyer)
    invoice = (await operator.post("/api/v1/operator/invoices", headers=oh,
                                   json={"client_id": client_id, "lines": LINES})).json()
    page = (await buyer.get("/invoices")).text
    assert "Pay $80.00 with PayPal" in page
    pay = await buyer.post(f"/api/v1/invoices/{invoice['number']}/paypal", headers=bh)
    assert pay.status_code == 200, pay.text
    await approve_at_paypal(sandboxes, pay.json()["approve_url"])
    back = await buyer.get(f"/paypal/return?token={pay.json()['paypal_order_id']}")
    assert back.status_code == 303 and back.headers["location"] == "/invoices"
    for _ in range(100):
        mine = {i["number"]: i for i in (await buyer.get("/api/v1/invoices")).json()["invoices"]}
        if mine[invoice["number"]]["status"] == "paid":
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"not paid: {mine[invoice['number']]}")
    again = await buyer.post(f"/api/v1/invoices/{invoice['number']}/paypal", headers=bh)
    assert again.status_code == 409 and again.json()["code"] in ("invoice_not_payable",)
    # PayPal's own webhooks for the capture reach the invoice's (closed) workflow harmlessly
    for _ in range(50):
        async with pg_sessions() as session:
            outcomes = [e.outcome for e in (await session.execute(select(WebhookEvent).where(
                WebhookEvent.outcome.like(f"%invoice {invoice['number']}%")))).scalars()]
        if outcomes:
            break
        await asyncio.sleep(0.2)
    assert outcomes and all(o == f"relayed to invoice {invoice['number']}" for o in outcomes)
    refund = await operator.post(f"/api/v1/operator/invoices/{invoice['number']}/refunds",
                                 headers={**oh, "Idempotency-Key": f"inv-{invoice['number']}"},
                                 json={"amount": "30.00", "reason": "one hour not worked"})
    assert (await refund_answered(operator, refund))["status"] == "completed", refund.text
    too_much = await operator.post(f"/api/v1/operator/invoices/{invoice['number']}/refunds", headers=oh,
                                   json={"amount": "60.00", "reason": "again"})
    assert too_much.status_code == 409 and too_much.json()["code"] == "refund_exceeds_capture"
    assert [a["code"] for a in await refused(pg_sessions, "refund", invoice["number"])] == ["refund_exceeds_capture"]
    mine = {i["number"]: i for i in (await buyer.get("/api/v1/invoices")).json()["invoices"]}
    assert mine[invoice["number"]]["paid"] == "50.00"
    for http in (buyer, operator):
        await http.aclose()
