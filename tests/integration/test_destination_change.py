"""Changing where a forwarder delivers, on the real stack: only after the new destination follows the
emailed link, the old one working meanwhile; loops across customers, our unused addresses, someone
else's address and stale links refused; every step audited."""
from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy import select

from store.models import AuditEntry, Subscription
from tests.integration.test_paypal_webhooks import paid_order
from tests.support import make_domain, mails_to, sandbox_state, signed_in_http


async def forwarders_of(sandboxes, address: str) -> list[str]:
    return [f["destination"] for f in (await sandbox_state(sandboxes.cpanel))["forwarders"] if f["address"] == address]


async def wait_active(http, order_id: int) -> None:
    for _ in range(150):
        got = (await http.get(f"/api/v1/orders/{order_id}")).json()
        if got["lines"][0]["status"] == "active":
            return
        await asyncio.sleep(0.2)
    raise AssertionError(got)


def link_in(sandboxes, recipient: str) -> str:
    mail = mails_to(sandboxes, recipient)[-1]
    return re.search(r"https?://\S+/destination/confirm/\d+/\w+", mail["text"]).group(0)


async def test_destination_changes_only_when_the_new_destination_confirms(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    alice, ah = await signed_in_http(pg_settings.public_base_url)
    bob, bh = await signed_in_http(pg_settings.public_base_url)
    a_order, _ = await paid_order(alice, ah, domain, sandboxes)
    await wait_active(alice, a_order["id"])
    a = a_order["lines"][0]["address"]

    change = f"/api/v1/addresses/{a}/destination"
    r = await alice.post(change, headers=ah, json={"destination": "Alice.New@Home.example"})
    assert r.status_code == 202, r.text
    assert await forwarders_of(sandboxes, a) == ["me@home.example"]      # nothing switched yet
    for _ in range(50):
        if mails_to(sandboxes, "alice.new@home.example"):
            break
        await asyncio.sleep(0.1)
    link = link_in(sandboxes, "alice.new@home.example")

    async with httpx.AsyncClient() as stranger:
        assert (await stranger.get(link[:-3] + "abc")).status_code == 404   # a forged token
        page = await stranger.get(link)                                     # opening the link changes nothing
        assert page.status_code == 200 and 'id="confirm-destination"' in page.text
        assert await forwarders_of(sandboxes, a) == ["me@home.example"]
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        done = await stranger.post(link, data={"csrf": csrf})
        assert done.status_code == 200 and 'id="confirmed"' in done.text
    for _ in range(100):
        if await forwarders_of(sandboxes, a) == ["alice.new@home.example"]:
            break
        await asyncio.sleep(0.1)
    assert await forwarders_of(sandboxes, a) == ["alice.new@home.example"]
    for _ in range(100):   # the same step records the change just after cPanel has it
        async with pg_sessions() as session:
            sub = (await session.execute(select(Subscription).where(Subscription.address == a))).scalar_one()
            trail = (await session.execute(select(AuditEntry.action).where(
                AuditEntry.entity_id == a, AuditEntry.action.like("destination.%")).order_by(AuditEntry.id))
            ).scalars().all()
        if sub.destination == "alice.new@home.example":
            break
        await asyncio.sleep(0.1)
    assert sub.destination == "alice.new@home.example"
    assert trail == ["destination.requested", "destination.changed"]

    # Bob forwards his address to Alice's; Alice may then not forward hers to Bob's: a loop.
    b_line = {"local_part": "bob", "domain": domain.name, "years": 1, "destination": a}
    b_order = (await bob.post("/api/v1/orders", headers=bh, json={"lines": [b_line]})).json()
    assert b_order["lines"][0]["destination"] == a
    b = b_order["lines"][0]["address"]
    for destination, code in [(a, "destination_loop"), (b, "destination_loop"),
                              (f"nobody@{domain.name}", "destination_not_in_use"), ("not-an-address",
                                                                                      "destination_invalid"),
                              ("alice.new@home.example", "destination_unchanged")]:
        r = await alice.post(change, headers=ah, json={"destination": destination})
        assert 400 <= r.status_code < 500 and r.json()["code"] == code, (destination, r.text)
        if destination == b:  # the message shows the circle: a → b → a
            assert f"{a} → {b} → {a}" in r.json()["message"]
    r = await bob.post(change, headers=bh, json={"destination": "x@y.example"})
    assert r.status_code == 404 and r.json()["code"] == "address_not_found"

    # A newer request supersedes the older link.
    for newer in ("first@home.example", "second@home.example"):
        r = await alice.post(change, headers=ah, json={"destination": newer})
        assert r.status_code == 202, r.text
    for _ in range(50):
        if mails_to(sandboxes, "first@home.example") and mails_to(sandboxes, "second@home.example"):
            break
        await asyncio.sleep(0.1)
    async with httpx.AsyncClient() as stale:
        assert (await stale.get(link_in(sandboxes, "first@home.example"))).status_code == 410
    for http in (alice, bob):
        await http.aclose()
