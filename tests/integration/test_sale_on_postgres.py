"""The sale on the real stack: PostgreSQL, the Temporal dev server, the API over HTTP, a worker,
PayPal's signed webhook, and the race for one address decided by the database."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from store.models import Invoice, Subscription
from tests.support import make_client, make_domain, order_and_approve, signed_in_http, unique
from workflows.contracts import ADDRESS_WORKFLOW, address_workflow_id


async def test_paid_by_webhook_alone_and_found_in_temporal(live, pg_settings, pg_sessions, sandboxes, dev_env):
    domain = await make_domain(pg_sessions, sandboxes, expiry=date.today() + timedelta(days=90))
    http, h = await signed_in_http(pg_settings.public_base_url, f"{unique('pg')}@example.net")
    # The buyer approves at PayPal and closes the tab: only PayPal's signed webhooks tell us.
    order, _ = await order_and_approve(http, h, sandboxes, {
        "local_part": "Mark", "domain": domain.name, "years": 1, "destination": "mark@home.example"})
    for _ in range(200):
        got = (await http.get(f"/api/v1/orders/{order['id']}")).json()
        if got["lines"][0]["status"] == "active":
            break
        await asyncio.sleep(0.2)
    assert got["lines"][0]["status"] == "active" and got["invoice_status"] == "paid"
    address = f"mark@{domain.name}"
    # Operators find it in Temporal by our search attributes.
    found = [w async for w in dev_env.client.list_workflows(
        f'MailmarketDomain = "{domain.name}" AND MailmarketStatus = "active"')]
    for _ in range(50):
        if found:
            break
        await asyncio.sleep(0.2)
        found = [w async for w in dev_env.client.list_workflows(
            f'MailmarketDomain = "{domain.name}" AND MailmarketStatus = "active"')]
    assert [(w.id, w.workflow_type) for w in found] == [(address_workflow_id(address), ADDRESS_WORKFLOW)]
    async with pg_sessions() as session:
        invoice = (await session.execute(select(Invoice).where(Invoice.order_id == order["id"]))).scalar_one()
        assert invoice.status == "paid" and invoice.number.startswith(f"{date.today().year}-")
    await http.aclose()


async def test_two_clients_racing_for_one_address_get_one_order(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    a, ha = await signed_in_http(pg_settings.public_base_url, f"{unique('a')}@example.net")
    b, hb = await signed_in_http(pg_settings.public_base_url, f"{unique('b')}@example.net")
    line = {"local_part": "carol", "domain": domain.name, "years": 2, "destination": "c@home.example"}
    results = await asyncio.gather(*[c.post("/api/v1/orders", headers=h, json={"lines": [line]})
                                     for c, h in [(a, ha), (b, hb)] * 3])
    codes = sorted(r.status_code for r in results)
    winners = {r.json()["id"] for r in results if r.status_code == 201}
    assert len(winners) == 1, codes  # the winner's repeats return its own order
    assert all(r.json()["code"] == "address_taken" for r in results if r.status_code == 409)
    async with pg_sessions() as session:
        live_rows = (await session.execute(select(func.count()).select_from(Subscription).where(
            Subscription.address == f"carol@{domain.name}", Subscription.status == "pending_payment"))).scalar_one()
    assert live_rows == 1
    await a.aclose(); await b.aclose()


async def test_database_refuses_a_second_live_holder(pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    one, two = await make_client(pg_sessions), await make_client(pg_sessions)
    async with pg_sessions.begin() as session:
        session.add(Subscription(address=f"x@{domain.name}", local_part="x", domain_id=domain.id, kind="forwarder",
                                 client_id=one.id, term_years=1, status="active", workflow_id="w"))
    try:
        async with pg_sessions.begin() as session:
            session.add(Subscription(address=f"x@{domain.name}", local_part="x", domain_id=domain.id,
                                     kind="forwarder", client_id=two.id, term_years=1, status="pending_payment",
                                     workflow_id="w"))
        raise AssertionError("a second live holder was accepted")
    except IntegrityError:
        pass
    async with pg_sessions.begin() as session:  # a released address can be sold again
        session.add(Subscription(address=f"y@{domain.name}", local_part="y", domain_id=domain.id, kind="forwarder",
                                 client_id=one.id, term_years=1, status="released", workflow_id="w"))
        session.add(Subscription(address=f"y@{domain.name}", local_part="y", domain_id=domain.id, kind="forwarder",
                                 client_id=two.id, term_years=1, status="active", workflow_id="w"))
