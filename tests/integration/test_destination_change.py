"""Changing where a forwarder delivers, on the real stack: only after the new destination follows the
emailed link, the old one working meanwhile; loops across customers, our unused addresses, someone
else's address and stale links refused; every step audited."""
from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy import select

from store.models import AuditEntry, DestinationChange, Subscription
from tests.integration.test_paypal_webhooks import paid_order
from tests.support import make_domain, mails_to, sandbox_state, signed_in_http
from workflows.contracts import DESTINATION_CONFIRMED, DestinationConfirmation, address_workflow_id


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
        # the newest is confirmed and applied; the first link, opened again, says it was replaced
        second = link_in(sandboxes, "second@home.example")
        page = await stale.get(second)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert 'id="confirmed"' in (await stale.post(second, data={"csrf": csrf})).text
        for _ in range(100):
            if await forwarders_of(sandboxes, a) == ["second@home.example"]:
                break
            await asyncio.sleep(0.1)
        for _ in range(100):
            again = await stale.get(link)
            if 'id="replaced"' in again.text:
                break
            await asyncio.sleep(0.1)
        assert 'id="confirmed"' not in again.text and "now goes to <strong>second@home.example</strong>" in again.text
    for http in (alice, bob):
        await http.aclose()


async def _two_forwarders(pg_settings, pg_sessions, sandboxes):
    """Mike's and Mark's forwarders (two customers), each to me@home.example; each asks to forward
    to the other's, and both links are emailed."""
    domain = await make_domain(pg_sessions, sandboxes)
    out = []
    for _ in range(2):
        http, h = await signed_in_http(pg_settings.public_base_url)
        order, _ = await paid_order(http, h, domain, sandboxes)
        await wait_active(http, order["id"])
        out.append((http, h, order["lines"][0]["address"]))
    (mike_http, mh, mike), (mark_http, kh, mark) = out
    for http, h, address, to in ((mike_http, mh, mike, mark), (mark_http, kh, mark, mike)):
        r = await http.post(f"/api/v1/addresses/{address}/destination", headers=h, json={"destination": to})
        assert r.status_code == 202, r.text        # neither change is confirmed yet: no circle so far
    for _ in range(50):
        if mails_to(sandboxes, mike) and mails_to(sandboxes, mark):
            break
        await asyncio.sleep(0.1)
    return out


async def _confirm(link: str) -> httpx.Response:
    async with httpx.AsyncClient() as person:
        page = await person.get(link)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        return await person.post(link, data={"csrf": csrf})


async def _settled(sandboxes, address: str, want: list[str]) -> list[str]:
    for _ in range(100):
        if (got := await forwarders_of(sandboxes, address)) == want:
            return got
        await asyncio.sleep(0.1)
    return got


async def test_two_pending_changes_cannot_close_a_circle_when_confirmed(live, pg_settings, pg_sessions, sandboxes):
    (mike_http, _, mike), (mark_http, _, mark) = await _two_forwarders(pg_settings, pg_sessions, sandboxes)
    assert (await _confirm(link_in(sandboxes, mark))).status_code == 200         # mike -> mark
    assert await _settled(sandboxes, mike, [mark]) == [mark]

    refused = await _confirm(link_in(sandboxes, mike))                           # mark -> mike: a circle
    assert refused.status_code == 409
    assert 'id="confirmed"' not in refused.text
    assert f"{mark} → {mike} → {mark}" in re.search(r'id="refused"[^>]*>(.+?)</p>', refused.text, re.S).group(1)
    await asyncio.sleep(1)
    assert await forwarders_of(sandboxes, mark) == ["me@home.example"]            # the old destination stays
    assert await forwarders_of(sandboxes, mike) == [mark]
    async with httpx.AsyncClient() as person:                                    # the link says so from now on
        again = await person.get(link_in(sandboxes, mike))
    assert 'id="refused"' in again.text and 'id="confirm-destination"' not in again.text
    async with pg_sessions() as session:
        sub = (await session.execute(select(Subscription).where(Subscription.address == mark))).scalar_one()
        trail = (await session.execute(select(AuditEntry.action).where(
            AuditEntry.entity_id == mark, AuditEntry.action.like("destination.%")).order_by(AuditEntry.id))).scalars().all()
    assert sub.destination == "me@home.example"
    assert trail == ["destination.requested", "destination.refused"]
    mine = await mark_http.get("/addresses")                                     # and so does Mark's own list
    told = re.search(r'class="error refused-change">([^<]+)<', mine.text)
    assert told and f"{mark} → {mike} → {mark}" in told.group(1)
    for http in (mike_http, mark_http):
        await http.aclose()


async def test_a_circle_is_refused_when_applied_even_if_both_changes_passed_confirmation(
        live, pg_settings, pg_sessions, sandboxes, dev_env):
    (mike_http, _, mike), (mark_http, _, mark) = await _two_forwarders(pg_settings, pg_sessions, sandboxes)
    changes = {}
    for address, link in ((mike, link_in(sandboxes, mark)), (mark, link_in(sandboxes, mike))):
        changes[address] = int(re.search(r"/destination/confirm/(\d+)/", link).group(1))
    # Both confirmations passed the check at the same moment (neither applied yet): the workflows
    # hear of both together, and each applies its switch at once.
    await asyncio.gather(*(dev_env.client.get_workflow_handle(address_workflow_id(address)).signal(
        DESTINATION_CONFIRMED, DestinationConfirmation(change_id)) for address, change_id in changes.items()))

    for _ in range(100):
        async with pg_sessions() as session:
            statuses = {a: (await session.get(DestinationChange, c)).status for a, c in changes.items()}
        if sorted(statuses.values()) == ["applied", "refused"]:
            break
        await asyncio.sleep(0.1)
    assert sorted(statuses.values()) == ["applied", "refused"], statuses
    won = next(a for a, s in statuses.items() if s == "applied")
    lost = next(a for a, s in statuses.items() if s == "refused")
    assert await forwarders_of(sandboxes, won) == [lost]
    assert await forwarders_of(sandboxes, lost) == ["me@home.example"]          # no circle at cPanel
    async with httpx.AsyncClient() as person:   # the person who confirmed is told why on the link's page
        page = await person.get(link_in(sandboxes, won))
    told = re.search(r'id="refused"[^>]*>(.+?)</p>', page.text, re.S)
    assert told and f"{lost} → {won} → {lost}" in told.group(1), page.text
    async with pg_sessions() as session:
        sub = (await session.execute(select(Subscription).where(Subscription.address == lost))).scalar_one()
    assert sub.destination == "me@home.example"
    for http in (mike_http, mark_http):
        await http.aclose()
