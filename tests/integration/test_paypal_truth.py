"""PayPal's webhooks are hints, on the real stack: a body forged to a signed delivery's CRC32 pays
nothing, reused or stale transmissions are refused, capture events that name their order only in
`links` still reach it, a buyer may approve again after a decline, only COMPLETED captures pay,
pending refunds wait for PayPal, and reversals and disputes reach the invoice and the staff."""
from __future__ import annotations

import asyncio
import base64
import json
import zlib
from datetime import datetime, timedelta, timezone

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import select

from providers.paypal.webhook import signed_message
from store.models import Invoice, Payment, Refund
from tests.integration.test_paypal_webhooks import (delivered, forwarder_line, outcome_of, paid_order, paypal_token,
                                                    seen_events)
from tests.support import (buyer_and_operator, mails_to, make_domain, order_and_approve, refund_answered,
                           sandbox_state, signed_in_http, unique)
from workflows.contracts import invoice_workflow_id


# ---- forging ---------------------------------------------------------------------------------

def forge_to_crc(body: bytes, target: int, marker: bytes = b"@PAD@") -> bytes:
    """`body` with the 64 letters at `marker` chosen so that its CRC32 is `target`. CRC32 is affine
    over GF(2) for messages of one length, so flipping bit 1 of letters (a<->c) is solved for."""
    pad = b"a" * 64
    base = body.replace(marker, pad)
    at = base.index(pad)
    zero = zlib.crc32(bytes(len(base)))
    effects = []
    for i in range(64):
        flip = bytearray(len(base))
        flip[at + i] = 0x02
        effects.append(zlib.crc32(bytes(flip)) ^ zero)
    want = zlib.crc32(base) ^ target
    rows = [(effects[i], 1 << i) for i in range(64)]   # gaussian elimination over GF(2)
    pivots: dict[int, tuple[int, int]] = {}
    for value, combo in rows:
        for bit in reversed(range(32)):
            if not value >> bit & 1:
                continue
            if bit in pivots:
                value, combo = value ^ pivots[bit][0], combo ^ pivots[bit][1]
            else:
                pivots[bit] = (value, combo)
                break
    chosen = 0
    for bit in reversed(range(32)):
        if want >> bit & 1:
            assert bit in pivots, "no solution"
            want, chosen = want ^ pivots[bit][0], chosen ^ pivots[bit][1]
    forged = bytearray(base)
    for i in range(64):
        if chosen >> i & 1:
            forged[at + i] ^= 0x02
    assert zlib.crc32(bytes(forged)) == target
    return bytes(forged)


async def intercepted_delivery(sandboxes, pg_settings) -> dict:
    """A delivery PayPal signed and sent that we never received (someone on the wire kept it): an
    approval of an order made at PayPal by someone else."""
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/intercept", json={"times": 1})
        token = await paypal_token(sandboxes, pg_settings)
        made = (await admin.post(f"{sandboxes.paypal.url}/v2/checkout/orders", headers={"Authorization": f"Bearer {token}"},
                                 json={"intent": "CAPTURE", "purchase_units": [
                                     {"amount": {"currency_code": "USD", "value": "1.00"}}]})).json()
        await admin.post(f"{sandboxes.paypal.url}/checkoutnow/decide", data={"token": made["id"], "decision": "approve"})
    for _ in range(50):
        kept = [d for d in (await sandbox_state(sandboxes.paypal))["intercepted"]
                if made["id"] in d["raw"]]
        if kept:
            return kept[0]
        await asyncio.sleep(0.1)
    raise AssertionError("nothing intercepted")


def forged_capture_body(paypal_order_id: str, value: str, currency: str = "USD") -> bytes:
    return json.dumps({"id": "WH-" + unique("FORGED").upper(), "event_version": "1.0", "resource_version": "2.0",
                       "resource_type": "capture", "event_type": "PAYMENT.CAPTURE.COMPLETED",
                       "resource": {"id": unique("FAKECAP").upper(), "status": "COMPLETED",
                                    "amount": {"currency_code": currency, "value": value},
                                    "supplementary_data": {"related_ids": {"order_id": paypal_order_id}}},
                       "pad": "@PAD@"}).encode()


async def post_webhook(pg_settings, raw: bytes, headers: dict) -> httpx.Response:
    async with httpx.AsyncClient() as paypal:
        return await paypal.post(f"{pg_settings.public_base_url}/webhooks/paypal", content=raw, headers=headers)


async def confirmed_once(dev_env, workflow_id: str) -> bool:
    """Whether the workflow has read a capture back from PayPal (a completed confirm activity)."""
    history = await dev_env.client.get_workflow_handle(workflow_id).fetch_history()
    scheduled = {e.event_id for e in history.events
                 if e.activity_task_scheduled_event_attributes.activity_type.name == "confirm_paypal_capture"}
    return any(e.activity_task_completed_event_attributes.scheduled_event_id in scheduled for e in history.events
               if e.HasField("activity_task_completed_event_attributes"))


async def order_payment_rows(pg_sessions, order_id: int) -> list[Payment]:
    async with pg_sessions() as session:
        invoice = (await session.execute(select(Invoice).where(Invoice.order_id == order_id))).scalar_one()
        return list((await session.execute(select(Payment).where(Payment.invoice_id == invoice.id)
                                           .order_by(Payment.id))).scalars())


async def until_order(http, order_id: int, done, tries: int = 150) -> dict:
    for _ in range(tries):
        got = (await http.get(f"/api/v1/orders/{order_id}")).json()
        if done(got):
            return got
        await asyncio.sleep(0.2)
    raise AssertionError(got)


# ---- item 1: forgery, replays, stale transmissions --------------------------------------------

async def test_body_forged_to_a_signed_deliverys_crc_pays_nothing(live, pg_settings, pg_sessions, sandboxes, dev_env):
    domain = await make_domain(pg_sessions, sandboxes)
    http, h = await signed_in_http(pg_settings.public_base_url)
    order = (await http.post("/api/v1/orders", headers=h, json={"lines": [forwarder_line(domain, "f")]})).json()
    pay = (await http.post(f"/api/v1/orders/{order['id']}/paypal", headers=h)).json()   # the buyer never approves
    genuine = await intercepted_delivery(sandboxes, pg_settings)
    forged = forge_to_crc(forged_capture_body(pay["paypal_order_id"], order["total"].lstrip("$")),
                          zlib.crc32(genuine["raw"].encode()))

    r = await post_webhook(pg_settings, forged, genuine["headers"])   # PayPal's signature holds for it
    assert r.status_code == 200 and r.json()["outcome"] == f"relayed to order {order['id']}", r.text
    for _ in range(100):
        got = (await http.get(f"/api/v1/orders/{order['id']}")).json()
        assert got["invoice_status"] != "paid", "a forged webhook paid the order"
        if await confirmed_once(dev_env, invoice_workflow_id(order["invoice_number"])):   # it takes the payment
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the reported capture was never read back from PayPal")
    got = (await http.get(f"/api/v1/orders/{order['id']}")).json()
    assert (got["invoice_status"], got["payment_status"]) == ("unpaid", "awaiting_payment")
    assert await order_payment_rows(pg_sessions, order["id"]) == []

    # the real payment still goes through
    async with httpx.AsyncClient() as buyer:
        await buyer.post(f"{sandboxes.paypal.url}/checkoutnow/decide",
                         data={"token": pay["paypal_order_id"], "decision": "approve"})
    await until_order(http, order["id"], lambda o: o["invoice_status"] == "paid")
    assert [p.method for p in await order_payment_rows(pg_sessions, order["id"])] == ["paypal"]
    await http.aclose()


async def test_reused_transmission_and_stale_transmission_time_are_refused(live, pg_settings, sandboxes):
    genuine = await intercepted_delivery(sandboxes, pg_settings)
    raw = genuine["raw"].encode()
    first = await post_webhook(pg_settings, raw, genuine["headers"])
    assert first.status_code == 200, first.text
    again = await post_webhook(pg_settings, raw, genuine["headers"])       # the same delivery once more
    assert again.status_code == 200 and again.json() == {"outcome": "duplicate"}

    other = forge_to_crc(forged_capture_body("NOSUCHORDER1", "1.00"), zlib.crc32(raw))
    replayed = await post_webhook(pg_settings, other, genuine["headers"])
    assert replayed.status_code == 400, replayed.text
    assert replayed.json()["code"] == "webhook_replayed" and replayed.json()["field"] == "PAYPAL-TRANSMISSION-ID"
    assert "another body" in replayed.json()["message"]

    # a delivery PayPal really signed, twenty minutes ago
    key = sandboxes.paypal.server.config.app.state.sandbox.key
    old = (datetime.now(timezone.utc) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    tid = unique("tid")
    sig = key.sign(signed_message(tid, old, pg_settings.paypal_webhook_id, raw), padding.PKCS1v15(), hashes.SHA256())
    stale = await post_webhook(pg_settings, raw, {**genuine["headers"], "PAYPAL-TRANSMISSION-ID": tid,
                                                  "PAYPAL-TRANSMISSION-TIME": old,
                                                  "PAYPAL-TRANSMISSION-SIG": base64.b64encode(sig).decode()})
    assert stale.status_code == 400, stale.text
    assert stale.json()["code"] == "webhook_stale" and stale.json()["field"] == "PAYPAL-TRANSMISSION-TIME"


async def test_forged_reversal_of_a_paid_invoice_takes_nothing_back(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    http, h = await signed_in_http(pg_settings.public_base_url)
    order, paypal_id = await paid_order(http, h, domain, sandboxes)
    capture = next(c for c in (await sandbox_state(sandboxes.paypal))["captures"] if c["order_id"] == paypal_id)
    genuine = await intercepted_delivery(sandboxes, pg_settings)
    event_id = "WH-" + unique("FORGEDREV").upper()
    body = json.dumps({"id": event_id, "event_type": "PAYMENT.CAPTURE.REVERSED", "resource_type": "refund",
                       "resource": {"id": unique("NOREFUND").upper(), "status": "COMPLETED",
                                    "amount": {"currency_code": "USD", "value": order["total"].lstrip("$")},
                                    "links": [{"rel": "up", "href": f"https://api.paypal.com/v2/payments/captures/"
                                                                    f"{capture['id']}"}]},
                       "pad": "@PAD@"}).encode()
    r = await post_webhook(pg_settings, forge_to_crc(body, zlib.crc32(genuine["raw"].encode())), genuine["headers"])
    assert r.status_code == 200, r.text
    assert await outcome_of(pg_sessions, event_id, "not_at_paypal") == "not_at_paypal"
    listed = (await http.get("/api/v1/invoices")).json()["invoices"][0]
    assert (listed["status"], listed["paid"]) == ("paid", order["total"].lstrip("$"))
    assert [p.method for p in await order_payment_rows(pg_sessions, order["id"])] == ["paypal"]
    await http.aclose()


# ---- item 2: capture events that name their order only in links -------------------------------

async def test_pending_capture_completed_by_an_event_without_supplementary_data_pays_the_order(
        live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    http, h = await signed_in_http(pg_settings.public_base_url)
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/pend", json={"times": 1})
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/config", json={"links_only": True})
    try:
        order, paypal_id = await order_and_approve(http, h, sandboxes, forwarder_line(domain, "l"))
        await until_order(http, order["id"], lambda o: o["payment_status"] == "payment_pending")
        capture = next(c for c in (await sandbox_state(sandboxes.paypal))["captures"] if c["order_id"] == paypal_id)
        before = await seen_events(sandboxes)
        async with httpx.AsyncClient() as admin:
            await admin.post(f"{sandboxes.paypal.url}/__sandbox/captures/{capture['id']}/settle",
                             json={"outcome": "COMPLETED"})
        event = await delivered(sandboxes, "PAYMENT.CAPTURE.COMPLETED", before)
        assert await outcome_of(pg_sessions, event) == f"relayed to order {order['id']}"
        got = await until_order(http, order["id"], lambda o: o["payment_status"] == "paid")
        assert got["invoice_status"] == "paid"
        assert [(p.method, p.reference) for p in await order_payment_rows(pg_sessions, order["id"])] == [
            ("paypal", capture["id"])]
    finally:
        async with httpx.AsyncClient() as admin:
            await admin.post(f"{sandboxes.paypal.url}/__sandbox/config", json={"links_only": False})
    await http.aclose()


# ---- item 3: captures, refunds, reversals, disputes ---------------------------------------------

async def test_buyer_who_approves_again_after_a_decline_pays(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    http, h = await signed_in_http(pg_settings.public_base_url)
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/decline", json={"times": 1})
    order, paypal_id = await order_and_approve(http, h, sandboxes, forwarder_line(domain, "d"))
    await until_order(http, order["id"], lambda o: o["payment_status"] == "declined")
    async with httpx.AsyncClient() as buyer:   # another card, the same PayPal order
        await buyer.post(f"{sandboxes.paypal.url}/checkoutnow/decide", data={"token": paypal_id, "decision": "approve"})
    # the invoice is paid a moment before the order's own status says so
    got = await until_order(http, order["id"], lambda o: o["payment_status"] == "paid")
    assert got["invoice_status"] == "paid"
    await http.aclose()


async def test_capture_paypal_answers_failed_is_not_paid(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    http, h = await signed_in_http(pg_settings.public_base_url)
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/capture_status", json={"status": "FAILED", "times": 1})
    order, paypal_id = await order_and_approve(http, h, sandboxes, forwarder_line(domain, "x"))
    got = await until_order(http, order["id"], lambda o: o["payment_status"] in ("declined", "paid"))
    assert (got["payment_status"], got["invoice_status"]) == ("declined", "unpaid")
    assert await order_payment_rows(pg_sessions, order["id"]) == []
    again = (await http.post(f"/api/v1/orders/{order['id']}/paypal", headers=h)).json()   # pays afresh
    assert again["paypal_order_id"] != paypal_id
    async with httpx.AsyncClient() as buyer:
        await buyer.post(f"{sandboxes.paypal.url}/checkoutnow/decide",
                         data={"token": again["paypal_order_id"], "decision": "approve"})
    await until_order(http, order["id"], lambda o: o["invoice_status"] == "paid")
    await http.aclose()


async def test_pending_refund_is_held_until_paypal_completes_it(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    http, h, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    order, paypal_id = await paid_order(http, h, domain, sandboxes)
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/refund_pending", json={"times": 1})
    r = await operator.post(f"/api/v1/operator/invoices/{order['invoice_number']}/refunds",
                            headers={**oh, "Idempotency-Key": unique("pending")},
                            json={"amount": order["total"].lstrip("$"), "reason": "changed their mind"})
    answered = await refund_answered(operator, r)
    assert answered["status"] == "pending", r.text
    async with pg_sessions() as session:
        refund = (await session.execute(select(Refund).where(Refund.paypal_refund_id == answered["paypal_refund_id"])
                                        )).scalar_one()
    assert refund.status == "pending"
    listed = (await http.get("/api/v1/invoices")).json()["invoices"][0]
    assert listed["status"] == "paid"                                   # not money back yet
    assert [p.method for p in await order_payment_rows(pg_sessions, order["id"])] == ["paypal"]

    before = await seen_events(sandboxes)
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/refunds/{refund.paypal_refund_id}/settle",
                         json={"outcome": "COMPLETED"})
    event = await delivered(sandboxes, "PAYMENT.CAPTURE.REFUNDED", before)
    assert (await outcome_of(pg_sessions, event, "refund_recorded")).startswith("refund_recorded")
    for _ in range(50):
        async with pg_sessions() as session:
            refund = await session.get(Refund, refund.id)
        if refund.status == "completed":
            break
        await asyncio.sleep(0.1)
    assert refund.status == "completed"
    listed = (await http.get("/api/v1/invoices")).json()["invoices"][0]
    assert (listed["status"], listed["paid"]) == ("refunded", "0.00")
    assert [p.method for p in await order_payment_rows(pg_sessions, order["id"])] == ["paypal", "paypal_refund"]
    await http.aclose()
    await operator.aclose()


async def staff_mail(sandboxes, pg_settings, subject_part: str, nth: int = 1) -> dict:
    for _ in range(100):
        found = [m for m in mails_to(sandboxes, pg_settings.operator_emails[0]) if subject_part in m["subject"]]
        if len(found) >= nth:
            return found[nth - 1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no staff email about {subject_part}")


async def test_reversal_is_recorded_on_the_invoice_and_staff_are_told(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    http, h, operator, _ = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    order, paypal_id = await paid_order(http, h, domain, sandboxes)
    capture = next(c for c in (await sandbox_state(sandboxes.paypal))["captures"] if c["order_id"] == paypal_id)
    before = await seen_events(sandboxes)
    async with httpx.AsyncClient() as admin:   # a chargeback: PayPal takes the money back
        reversal = (await admin.post(f"{sandboxes.paypal.url}/__sandbox/captures/{capture['id']}/reverse")).json()
    event = await delivered(sandboxes, "PAYMENT.CAPTURE.REVERSED", before)
    number = order["invoice_number"]
    assert await outcome_of(pg_sessions, event, "reversal") == f"reversal_recorded invoice {number}"

    mail = await staff_mail(sandboxes, pg_settings, f"on invoice {number}")
    assert "reversed" in mail["subject"] and capture["id"] in mail["text"]
    listed = (await http.get("/api/v1/invoices")).json()["invoices"][0]
    assert (listed["status"], listed["paid"]) == ("refunded", "0.00")
    page = await http.get("/invoices")
    assert "reversed by PayPal" in page.text
    billing_page = await operator.get("/operator/billing?status=refunded")
    assert number in billing_page.text and reversal["id"] in billing_page.text
    rows = await order_payment_rows(pg_sessions, order["id"])
    assert [(p.method, p.amount_minor) for p in rows] == [("paypal", rows[0].amount_minor),
                                                          ("paypal_reversal", -rows[0].amount_minor)]
    await http.aclose()
    await operator.aclose()


async def test_dispute_is_shown_open_then_resolved_and_staff_are_told(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    http, h, operator, _ = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    order, paypal_id = await paid_order(http, h, domain, sandboxes)
    capture = next(c for c in (await sandbox_state(sandboxes.paypal))["captures"] if c["order_id"] == paypal_id)
    number = order["invoice_number"]
    before = await seen_events(sandboxes)
    async with httpx.AsyncClient() as admin:
        dispute = (await admin.post(f"{sandboxes.paypal.url}/__sandbox/captures/{capture['id']}/dispute",
                                    json={"reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED"})).json()
    event = await delivered(sandboxes, "CUSTOMER.DISPUTE.CREATED", before)
    assert await outcome_of(pg_sessions, event, "dispute") == f"dispute_open invoice {number}"
    await staff_mail(sandboxes, pg_settings, f"{dispute['dispute_id']} open")
    page = (await operator.get("/operator/billing?status=paid")).text
    assert f"dispute {dispute['dispute_id']} open: open" in page

    before = await seen_events(sandboxes)
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/disputes/{dispute['dispute_id']}/update",
                         json={"status": "UNDER_REVIEW", "stage": "CHARGEBACK"})
    event = await delivered(sandboxes, "CUSTOMER.DISPUTE.UPDATED", before)
    assert await outcome_of(pg_sessions, event, "dispute") == f"dispute_open invoice {number}"
    mail = await staff_mail(sandboxes, pg_settings, f"{dispute['dispute_id']} open", nth=2)   # told again
    assert "UNDER_REVIEW" in mail["text"] and "CHARGEBACK" in mail["text"]
    page = (await operator.get("/operator/billing?status=paid")).text
    assert f"dispute {dispute['dispute_id']} open: under review" in page

    before = await seen_events(sandboxes)
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/disputes/{dispute['dispute_id']}/resolve",
                         json={"outcome_code": "RESOLVED_SELLER_FAVOUR"})
    event = await delivered(sandboxes, "CUSTOMER.DISPUTE.RESOLVED", before)
    assert await outcome_of(pg_sessions, event, "dispute") == f"dispute_resolved invoice {number}"
    mail = await staff_mail(sandboxes, pg_settings, f"{dispute['dispute_id']} resolved")
    assert "RESOLVED_SELLER_FAVOUR" in mail["text"]
    page = (await operator.get("/operator/billing?status=paid")).text
    assert f"dispute {dispute['dispute_id']} resolved" in page and "resolved seller favour" in page
    listed = (await http.get("/api/v1/invoices")).json()["invoices"][0]
    assert listed["status"] == "paid"                                   # a dispute alone moves no money
    await http.aclose()
    await operator.aclose()
