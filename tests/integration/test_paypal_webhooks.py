"""PayPal's signed webhooks on the real stack: each event handled once however often it comes,
refunds recorded on the invoice, a denied pending capture, and events for orders we do not know
kept for operators."""
from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from store.models import Invoice, Payment, WebhookEvent
from tests.support import make_domain, order_and_approve, sandbox_state, signed_in_http, unique


async def outcome_of(pg_sessions, event_id: str, wanted: str | None = None) -> str:
    for _ in range(100):
        async with pg_sessions() as session:
            row = (await session.execute(select(WebhookEvent).where(WebhookEvent.event_id == event_id))).scalar_one_or_none()
        if row is not None and row.outcome != "received" and (wanted is None or row.outcome.startswith(wanted)):
            return row.outcome
        await asyncio.sleep(0.1)
    raise AssertionError(f"event {event_id}: {row.outcome if row else 'never received'}")


async def delivered(sandboxes, event_type: str, before: set[str]) -> str:
    for _ in range(100):
        for d in (await sandbox_state(sandboxes.paypal))["deliveries"]:
            if d["event_type"] == event_type and d["event_id"] not in before and d["status"] == 200:
                return d["event_id"]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {event_type} delivered")


async def seen_events(sandboxes) -> set[str]:
    return {d["event_id"] for d in (await sandbox_state(sandboxes.paypal))["deliveries"]}


def forwarder_line(domain, prefix: str = "r") -> dict:
    return {"local_part": unique(prefix), "domain": domain.name, "years": 1, "destination": "me@home.example"}


async def paid_order(http, h, domain, sandboxes) -> tuple[dict, str]:
    order, paypal_id = await order_and_approve(http, h, sandboxes, forwarder_line(domain))
    for _ in range(150):
        got = (await http.get(f"/api/v1/orders/{order['id']}")).json()
        if got["invoice_status"] == "paid":
            return got, paypal_id
        await asyncio.sleep(0.2)
    raise AssertionError(got)


async def paypal_token(sandboxes, settings) -> str:
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{sandboxes.paypal.url}/v1/oauth2/token", data={"grant_type": "client_credentials"},
                            auth=(settings.paypal_client_id, settings.paypal_secret.get_secret_value()))
        return r.json()["access_token"]


async def test_refund_made_at_paypal_is_recorded_once(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    http, h = await signed_in_http(pg_settings.public_base_url)
    order, paypal_id = await paid_order(http, h, domain, sandboxes)
    capture = next(c for c in (await sandbox_state(sandboxes.paypal))["captures"] if c["order_id"] == paypal_id)
    before = await seen_events(sandboxes)
    token = await paypal_token(sandboxes, pg_settings)
    async with httpx.AsyncClient() as dashboard:  # the operator refunds in PayPal's own dashboard
        r = await dashboard.post(f"{sandboxes.paypal.url}/v2/payments/captures/{capture['id']}/refund",
                                 headers={"Authorization": f"Bearer {token}"}, json={})
        assert r.status_code == 201, r.text
    event = await delivered(sandboxes, "PAYMENT.CAPTURE.REFUNDED", before)
    assert (await outcome_of(pg_sessions, event, "refund_recorded")).startswith("refund_recorded")
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/events/{event}/redeliver")
    async with pg_sessions() as session:
        invoice = (await session.execute(select(Invoice).where(Invoice.order_id == order["id"]))).scalar_one()
        rows = (await session.execute(select(Payment).where(Payment.invoice_id == invoice.id)
                                      .order_by(Payment.id))).scalars().all()
    assert invoice.status == "refunded"
    assert [(p.method, p.amount_minor) for p in rows] == [("paypal", rows[0].amount_minor),
                                                          ("paypal_refund", -rows[0].amount_minor)]
    await http.aclose()


async def test_denied_pending_capture_reaches_the_order_and_the_buyer_pays_again(live, pg_settings, pg_sessions,
                                                                                 sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    http, h = await signed_in_http(pg_settings.public_base_url)
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/pend", json={"times": 1})
    order, paypal_id = await order_and_approve(http, h, sandboxes, forwarder_line(domain, "p"))
    for _ in range(150):
        got = (await http.get(f"/api/v1/orders/{order['id']}")).json()
        if got["payment_status"] == "payment_pending":
            break
        await asyncio.sleep(0.2)
    assert got["payment_status"] == "payment_pending"
    capture = next(c for c in (await sandbox_state(sandboxes.paypal))["captures"]
                   if c["order_id"] == paypal_id)
    before = await seen_events(sandboxes)
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/captures/{capture['id']}/settle", json={"outcome": "DENIED"})
    event = await delivered(sandboxes, "PAYMENT.CAPTURE.DENIED", before)
    assert (await outcome_of(pg_sessions, event)).startswith("relayed")
    for _ in range(100):
        got = (await http.get(f"/api/v1/orders/{order['id']}")).json()
        if got["payment_status"] == "declined":
            break
        await asyncio.sleep(0.1)
    assert got["payment_status"] == "declined" and got["invoice_status"] == "unpaid"
    again = (await http.post(f"/api/v1/orders/{order['id']}/paypal", headers=h)).json()
    assert again["paypal_order_id"] != paypal_id
    await http.aclose()


async def test_event_for_an_order_we_do_not_know_is_kept_for_operators(live, pg_settings, pg_sessions, sandboxes):
    token = await paypal_token(sandboxes, pg_settings)
    async with httpx.AsyncClient() as stranger:  # an order made at PayPal by something other than us
        created = (await stranger.post(f"{sandboxes.paypal.url}/v2/checkout/orders",
                                       headers={"Authorization": f"Bearer {token}"},
                                       json={"intent": "CAPTURE", "purchase_units": [
                                           {"amount": {"currency_code": "USD", "value": "5.00"}}],
                                           "application_context": {"return_url": "http://x.test/r",
                                                                   "cancel_url": "http://x.test/c"}})).json()
        before = await seen_events(sandboxes)
        await stranger.post(f"{sandboxes.paypal.url}/checkoutnow/decide",
                            data={"token": created["id"], "decision": "approve"})
    event = await delivered(sandboxes, "CHECKOUT.ORDER.APPROVED", before)
    assert await outcome_of(pg_sessions, event) == "unknown_order"
    operator, _ = await signed_in_http(pg_settings.public_base_url)
    me = (await operator.get("/api/v1/auth/session")).json()["client"]["id"]
    from sqlalchemy import update

    from store.models import Client
    async with pg_sessions.begin() as session:
        await session.execute(update(Client).where(Client.id == me).values(is_operator=True))
    page = await operator.get("/operator/payments")
    assert event in page.text and "unknown order" in page.text
    await operator.aclose()
