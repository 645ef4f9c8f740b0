"""Billing over HTTP on the real stack (PostgreSQL, the dev server, the PayPal sandbox): credit applied
to a new invoice with PayPal taking the rest, paying from the balance, refunds through PayPal's refund
API under an idempotency key, credit notes, bulk cheque recording, CSV exports, and every refusal
leaving the ledger as it was."""
from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

from core.billing import Line
from core.money import Money
from store import dunning
from store.invoicing import InvoiceTerms, Item
from store.models import AuditEntry, Client, CreditEntry, Payment, Refund
from tests.integration.test_manual_payment_api import order_one, until
from tests.support import (approve_at_paypal, buyer_and_operator, mail_arrives, mails_to, make_domain,
                           refund_answered, sandbox_state, signed_in_http)


async def give_credit(operator, oh, client_id: int, amount: str) -> None:
    r = await operator.post(f"/api/v1/operator/clients/{client_id}/credit", headers=oh,
                            json={"amount": amount, "reason": "goodwill"})
    assert r.status_code == 201, r.text


async def pay_by_paypal(http, h, sandboxes, order_id: int) -> str:
    pay = (await http.post(f"/api/v1/orders/{order_id}/paypal", headers=h)).json()
    await approve_at_paypal(sandboxes, pay["approve_url"])
    await http.get(f"/paypal/return?token={pay['paypal_order_id']}")
    return pay["paypal_order_id"]


async def me(http) -> int:
    return (await http.get("/api/v1/auth/session")).json()["client"]["id"]


async def ledger(sessions, client_id: int) -> list[tuple]:
    async with sessions() as session:
        return [(e.kind, e.amount_minor, e.reference) for e in (await session.execute(
            select(CreditEntry).where(CreditEntry.client_id == client_id).order_by(CreditEntry.id))).scalars()]


async def test_credit_pays_part_of_a_new_invoice_and_paypal_captures_only_the_rest(live, pg_settings, pg_sessions,
                                                                                 sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    client_id = await me(buyer)
    await give_credit(operator, oh, client_id, "5.00")
    order = await order_one(buyer, bh, domain)
    total = Money.parse(order["total"].lstrip("$"))
    # the page offers payment once the invoice is issued with the credit applied
    view = await until(buyer, order["id"], lambda o: o["paid"] == "$5.00" and o["issued"])
    assert view["due"] == (total - Money(500)).display() and view["invoice_status"] == "unpaid"
    page = (await buyer.get(f"/orders/{order['id']}")).text
    assert f"Pay {(total - Money(500)).display()} with PayPal" in page and 'id="due"' in page

    paypal_id = await pay_by_paypal(buyer, bh, sandboxes, order["id"])
    done = await until(buyer, order["id"], lambda o: o["invoice_status"] == "paid")
    assert done["due"] == "$0.00" and done["paid"] == total.display()
    captured = [c for c in (await sandbox_state(sandboxes.paypal))["captures"] if c["order_id"] == paypal_id]
    assert [c["amount"]["value"] for c in captured] == [(total - Money(500)).amount()]
    assert (await buyer.get("/api/v1/account/credit")).json()["balance"] == "0.00"
    email = (await buyer.get("/api/v1/auth/session")).json()["client"]["email"]
    subjects = [m["subject"] for m in mails_to(sandboxes, email)]
    assert f"Receipt: $5.00 for invoice {order['invoice_number']}" in subjects
    assert f"Receipt: {(total - Money(500)).display()} for invoice {order['invoice_number']}" in subjects
    listed = (await buyer.get("/api/v1/invoices")).json()["invoices"][0]
    assert (listed["number"], listed["status"], listed["paid"], listed["due"]) == (
        order["invoice_number"], "paid", total.amount(), "0.00")
    for http in (buyer, operator):
        await http.aclose()


async def test_paying_an_order_from_the_balance_when_the_client_applies_credit_by_hand(live, pg_settings,
                                                                                     pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    client_id = await me(buyer)
    assert (await buyer.put("/api/v1/account/apply-credit", headers=bh, json={"enabled": False})).status_code == 200
    order = await order_one(buyer, bh, domain)
    refused = await buyer.post(f"/api/v1/orders/{order['id']}/credit", headers=bh)
    assert refused.status_code == 409 and refused.json()["code"] == "balance_insufficient"
    await give_credit(operator, oh, client_id, "100.00")
    await asyncio.sleep(0.5)
    assert (await buyer.get(f"/api/v1/orders/{order['id']}")).json()["invoice_status"] == "unpaid"  # not applied
    other, xh = await signed_in_http(pg_settings.public_base_url)
    assert (await other.post(f"/api/v1/orders/{order['id']}/credit", headers=xh)).status_code == 404
    paid = await buyer.post(f"/api/v1/orders/{order['id']}/credit", headers=bh)
    assert paid.status_code == 200, paid.text
    done = await until(buyer, order["id"], lambda o: o["lines"][0]["status"] == "active")
    assert done["invoice_status"] == "paid"
    total = Money.parse(order["total"].lstrip("$"))
    assert (await buyer.get("/api/v1/account/credit")).json()["balance"] == (Money(10000) - total).amount()
    assert [k for k, *_ in await ledger(pg_sessions, client_id)] == ["adjustment", "invoice_payment"]
    for http in (buyer, operator, other):
        await http.aclose()


async def test_refunds_go_through_paypal_once_per_key_and_never_beyond_the_capture(live, pg_settings, pg_sessions,
                                                                                   sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    order = await order_one(buyer, bh, domain)
    paypal_id = await pay_by_paypal(buyer, bh, sandboxes, order["id"])
    await until(buyer, order["id"], lambda o: o["invoice_status"] == "paid")
    number, total = order["invoice_number"], Money.parse(order["total"].lstrip("$"))
    url = f"/api/v1/operator/invoices/{number}/refunds"

    assert (await buyer.post(url, headers=bh, json={"amount": "1.00", "reason": "x"})).json()["code"] == "forbidden"
    for body, code in [({"amount": "-1.00", "reason": "x"}, "amount_invalid"),
                       ({"amount": "ten", "reason": "x"}, "amount_invalid"),
                       ({"amount": "0.00", "reason": "x"}, "amount_invalid"),
                       ({"amount": (total + Money(1)).amount(), "reason": "x"}, "refund_exceeds_capture"),
                       ({"amount": "1.00", "reason": "  "}, "reason_missing")]:
        r = await operator.post(url, headers={**oh, "Idempotency-Key": f"bad-{code}-{body['amount']}"}, json=body)
        assert 400 <= r.status_code < 500 and r.json()["code"] == code, (body, r.text)
    state = await sandbox_state(sandboxes.paypal)
    assert not [r for r in state["refunds"] if r["capture_id"] in _captures(state, paypal_id)]   # nothing asked

    first = await operator.post(url, headers={**oh, "Idempotency-Key": "refund-one"},
                                json={"amount": "2.00", "reason": "goodwill"})
    assert (await refund_answered(operator, first))["status"] == "completed", first.text
    again = await operator.post(url, headers={**oh, "Idempotency-Key": "refund-one"},
                                json={"amount": "2.00", "reason": "goodwill"})
    assert again.json()["status"] == "completed"
    state = await sandbox_state(sandboxes.paypal)
    ours = [r for r in state["refunds"] if r["capture_id"] in _captures(state, paypal_id)]
    assert [r["amount"]["value"] for r in ours] == ["2.00"]           # one refund at PayPal, not two
    left = total - Money(200)
    too_much = await operator.post(url, headers={**oh, "Idempotency-Key": "refund-two"},
                                   json={"amount": (left + Money(1)).amount(), "reason": "all"})
    assert too_much.status_code == 409 and too_much.json()["code"] == "refund_exceeds_capture"
    assert left.display() in too_much.json()["message"]
    rest = await operator.post(url, headers={**oh, "Idempotency-Key": "refund-three"},
                               json={"amount": left.amount(), "reason": "cancelled by the customer"})
    assert (await refund_answered(operator, rest))["status"] == "completed", rest.text
    listed = (await buyer.get("/api/v1/invoices")).json()["invoices"][0]
    assert (listed["status"], listed["paid"]) == ("refunded", "0.00")
    async with pg_sessions() as session:
        refunds = (await session.execute(select(Refund).join(Payment, Payment.id == Refund.payment_id)
                                         .where(Payment.reference.in_(_captures(state, paypal_id))))).scalars().all()
        assert sorted((r.status, r.amount_minor) for r in refunds) == sorted(
            [("completed", 200), ("completed", left.minor)])
        audits = (await session.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity_id == number, AuditEntry.action == "refund.requested"))).scalar_one()
        assert audits == 2
    # a cheque-paid invoice has no PayPal payment to refund
    cheque_order = await order_one(buyer, bh, domain)
    r = await operator.post("/api/v1/operator/payments", headers=oh, json={"payments": [{
        "invoice": cheque_order["invoice_number"], "method": "cheque", "amount": cheque_order["total"].lstrip("$"),
        "reference": f"CHQ-{cheque_order['id']}", "received_on": date.today().isoformat()}]})
    assert r.json()["recorded"] == 1, r.text
    no = await operator.post(f"/api/v1/operator/invoices/{cheque_order['invoice_number']}/refunds", headers=oh,
                             json={"amount": "1.00", "reason": "x"})
    assert no.status_code == 409 and no.json()["code"] == "no_paypal_payment"
    for http in (buyer, operator):
        await http.aclose()


def _captures(state: dict, paypal_order_id: str) -> list[str]:
    return [c["id"] for c in state["captures"] if c["order_id"] == paypal_order_id]


async def test_cancelling_invoices_issues_credit_notes_and_bulk_records_each_row_on_its_own(live, pg_settings,
                                                                                           pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    client_id = await me(buyer)
    orders_ = [await order_one(buyer, bh, domain) for _ in range(3)]
    paid, pending, partial = orders_
    today = date.today().isoformat()

    def row(order, amount, reference, **change):
        return {"invoice": order["invoice_number"], "method": "wire", "amount": amount, "reference": reference,
                "received_on": today, **change}

    bulk = await operator.post("/api/v1/operator/payments", headers=oh, json={"payments": [
        row(paid, paid["total"].lstrip("$"), f"W-{paid['id']}"),
        row(partial, "1.00", f"W-{partial['id']}"),
        row(pending, "ten", "W-x"),
        row(pending, "1.00", "W-y", invoice="2099-999999"),
        row(pending, "1.00", "W-z", received_on=(date.today() + timedelta(days=3)).isoformat())]})
    assert bulk.status_code == 200, bulk.text
    results = bulk.json()["results"]
    assert [r["recorded"] for r in results] == [True, True, False, False, False]
    assert [r.get("code") for r in results[2:]] == ["amount_invalid", "invoice_unknown", "date_in_future"]
    assert results[1]["outstanding"] == (Money.parse(partial["total"].lstrip("$")) - Money(100)).amount()
    await until(buyer, paid["id"], lambda o: o["invoice_status"] == "paid")

    cancel = lambda order, reason="customer changed their mind": operator.post(  # noqa: E731
        f"/api/v1/operator/invoices/{order['invoice_number']}/cancel", headers=oh, json={"reason": reason})
    assert (await cancel(paid, "  ")).json()["code"] == "reason_missing"
    done = await cancel(paid)
    assert done.status_code == 200 and done.json()["credited"] == paid["total"].lstrip("$"), done.text
    assert done.json()["credit_note"].startswith("CN-")
    again = await cancel(paid)
    assert again.status_code == 409 and again.json()["code"] == "invoice_cancelled"
    # the partly paid order is still waiting: its workflow cancels it, and the 1.00 becomes credit
    assert (await cancel(partial)).json()["status"] == "cancelling"
    await until(buyer, partial["id"], lambda o: o["status"] == "cancelled")
    for _ in range(50):
        kinds = [k for k, *_ in await ledger(pg_sessions, client_id)]
        if kinds.count("credit_note") == 2:
            break
        await asyncio.sleep(0.2)
    entries = await ledger(pg_sessions, client_id)
    assert sorted(a for k, a, _ in entries if k == "credit_note") == sorted(
        [100, Money.parse(paid["total"].lstrip("$")).minor])
    # paying a cancelled invoice is refused, and the ledger stays as it was
    late = await operator.post("/api/v1/operator/payments", headers=oh, json={"payments": [
        row(partial, "5.00", "W-late")]})
    assert late.json()["results"][0]["recorded"] is False
    assert late.json()["results"][0]["code"] in ("order_not_payable", "invoice_cancelled")
    assert await ledger(pg_sessions, client_id) == entries
    invoices = {i["number"]: i for i in (await buyer.get("/api/v1/invoices")).json()["invoices"]}
    assert invoices[paid["invoice_number"]]["credit_note"] == done.json()["credit_note"]
    page = (await buyer.get("/invoices")).text
    assert done.json()["credit_note"] in page and 'id="credit-balance"' in page

    # the accountant's exports for today
    exported = {}
    for kind in ("invoices", "payments", "credit-notes", "credit"):
        r = await operator.get(f"/api/v1/operator/exports/{kind}.csv", params={"from": today, "to": today})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text
        exported[kind] = list(csv.DictReader(io.StringIO(r.text)))
    mine = {r["number"]: r for r in exported["invoices"] if r["client_id"] == str(client_id)}
    assert mine[paid["invoice_number"]]["status"] == "cancelled"
    assert mine[pending["invoice_number"]]["outstanding"] == pending["total"].lstrip("$")
    notes = [n for n in exported["credit-notes"] if n["client_id"] == str(client_id)]
    assert {n["invoice"] for n in notes} == {paid["invoice_number"], partial["invoice_number"]}
    assert [p["reference"] for p in exported["payments"] if p["client_id"] == str(client_id)] == [
        f"W-{paid['id']}", f"W-{partial['id']}"]
    for params, code in [({"from": "yesterday"}, "date_invalid"), ({"from": today, "to": "2000-01-01"}, "range_invalid")]:
        r = await operator.get("/api/v1/operator/exports/invoices.csv", params=params)
        assert r.status_code == 422 and r.json()["code"] == code
    assert (await operator.get("/api/v1/operator/exports/secrets.csv")).status_code == 404
    # the Billing page's export form: the same CSV, and a refusal on the page beside the form (not JSON)
    r = await operator.get("/operator/billing/export", params={"kind": "payments", "from": today, "to": today})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert [p for p in csv.DictReader(io.StringIO(r.text)) if p["client_id"] == str(client_id)] == [
        p for p in exported["payments"] if p["client_id"] == str(client_id)]
    r = await operator.get("/operator/billing/export", params={"kind": "invoices", "from": today, "to": "2000-01-01"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html") and "Billing" in r.text
    assert (await buyer.get("/api/v1/operator/exports/invoices.csv")).status_code == 403
    for http in (buyer, operator):
        await http.aclose()


async def test_operators_issue_their_own_invoices_and_see_who_is_behind(live, pg_settings, pg_sessions, sandboxes):
    buyer, bh, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    client_id = await me(buyer)
    url = "/api/v1/operator/invoices"
    good = {"client_id": client_id, "lines": [
        {"description": "Support, November (hours)", "quantity": 3, "unit_price": "45.00",
         "period_start": "2026-11-01", "period_end": "2026-11-30"},
        {"description": "Mailbox migration", "unit_price": "20.00", "discount": "5.00"}]}
    assert (await buyer.post(url, headers=bh, json=good)).json()["code"] == "forbidden"
    for change, code in [({"client_id": 10**9}, "client_unknown"),
                         ({"lines": [{"description": " ", "unit_price": "1.00"}]}, "description_missing"),
                         ({"lines": [{"description": "x", "unit_price": "-1.00"}]}, "amount_invalid"),
                         ({"lines": [{"description": "x", "unit_price": "ten"}]}, "amount_invalid"),
                         ({"lines": [{"description": "x", "unit_price": "1.00", "discount": "2.00"}]},
                          "discount_invalid"),
                         ({"due_on": "2000-01-01"}, "due_in_past"), ({"due_on": "soon"}, "date_invalid")]:
        r = await operator.post(url, headers=oh, json={**good, **change})
        assert 400 <= r.status_code < 500 and r.json()["code"] == code, (change, r.text)
    assert (await buyer.get("/api/v1/invoices")).json()["invoices"] == []    # nothing was issued
    made = await operator.post(url, headers=oh, json=good)
    assert made.status_code == 201, made.text
    invoice = made.json()
    assert invoice["total"] == "150.00" and invoice["status"] == "unpaid"
    email = (await buyer.get("/api/v1/auth/session")).json()["client"]["email"]
    await mail_arrives(sandboxes, email, f"Invoice {invoice['number']}: $150.00 due",
                       "the invoice email did not arrive")
    listed = (await buyer.get("/api/v1/invoices")).json()["invoices"]
    assert [(i["number"], i["due"]) for i in listed] == [(invoice["number"], "150.00")]
    pdf = await buyer.get(invoice["pdf"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # a cheque for part of it, through the invoice's own workflow
    r = await operator.post("/api/v1/operator/payments", headers=oh, json={"payments": [
        {"invoice": invoice["number"], "method": "cheque", "amount": "50.00", "reference": "CHQ-77",
         "received_on": date.today().isoformat()}]})
    assert r.json()["results"][0]["recorded"] is True and r.json()["results"][0]["outstanding"] == "100.00", r.text
    # not overdue yet: not on the operators' list; an older one, twice reminded, puts the client on it
    behind = (await operator.get("/api/v1/operator/dunning")).json()["clients"]
    assert client_id not in [c["client_id"] for c in behind]
    async with pg_sessions.begin() as session:
        long_ago = datetime.now(timezone.utc) - timedelta(days=40)
        old = await dunning.create_custom_invoice(session, await session.get(Client, client_id),
                                                  [Item(Line("Setup, October", 1, Money(3000)))], now=long_ago,
                                                  due_at=long_ago + timedelta(days=14), terms=InvoiceTerms(),
                                                  actor="test")
        old.reminders_sent = 2
    behind = {c["client_id"]: c for c in (await operator.get("/api/v1/operator/dunning")).json()["clients"]}
    assert (behind[client_id]["overdue_invoices"], behind[client_id]["reminders"], behind[client_id]["owed"]) == (
        1, 2, "30.00")
    assert list(behind)[0] == client_id or behind[list(behind)[0]]["reminders"] >= 2   # most reminded first
    cancel = await operator.post(f"/api/v1/operator/invoices/{invoice['number']}/cancel", headers=oh,
                                 json={"reason": "agreed to waive the rest"})
    assert cancel.json()["status"] == "cancelling"
    for _ in range(50):
        entries = await ledger(pg_sessions, client_id)
        if any(k == "credit_note" for k, *_ in entries):
            break
        await asyncio.sleep(0.2)
    assert [(k, a) for k, a, _ in entries] == [("credit_note", 5000)]     # the 50.00 paid becomes credit
    for http in (buyer, operator):
        await http.aclose()
