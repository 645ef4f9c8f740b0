"""The cart: picks from the grid with a kind each, kept in the session across sign-in, checked out
as one order; a mailbox's password is checked, never echoed, and never stored in clear."""
from __future__ import annotations

import re

from sqlalchemy import select

from store.models import MailboxSecret, Subscription
from tests.support import make_domain, sign_up_and_in, signed_in_http, unique


async def test_cart_to_order_with_a_forwarder_and_a_mailbox(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    http, h = await signed_in_http(pg_settings.public_base_url)
    fwd, box = f"{unique('fw')}@{domain.name}", f"{unique('mb')}@{domain.name}"
    r = await http.post("/api/v1/cart", headers=h, json={"picks": [{"address": fwd.upper()},
                                                                   {"address": box, "kind": "mailbox"}]})
    assert r.status_code == 200, r.text
    assert r.json()["lines"] == [{"address": fwd, "kind": "forwarder", "status": "available"},
                                 {"address": box, "kind": "mailbox", "status": "available"}]
    again = await http.post("/api/v1/cart", headers=h, json={"picks": [{"address": fwd, "kind": "mailbox"}]})
    assert [l["kind"] for l in again.json()["lines"]] == ["mailbox", "mailbox"]  # re-picked: the new kind wins

    for picks, code in [([{"address": "no-at-sign"}], "address_invalid"),
                        ([{"address": fwd, "kind": "pigeon"}], "kind_invalid"),
                        ([{"address": f"n{i}@{domain.name}"} for i in range(19)], "cart_full")]:
        r = await http.post("/api/v1/cart", headers=h, json={"picks": picks})
        assert r.status_code == 422 and r.json()["code"] == code, r.text
    assert len((await http.get("/api/v1/cart")).json()["lines"]) == 2  # refusals changed nothing

    page = await http.get("/cart")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    form = {"csrf": csrf, "kind_0": "forwarder", "years_0": "2", "destination_0": "me@home.example",
            "kind_1": "mailbox", "years_1": "1", "password_1": "password123"}
    weak = await http.post("/cart/checkout", data=form)
    assert weak.status_code == 422 and "too easy to guess" in weak.text and "password123" not in weak.text
    async with pg_sessions() as session:
        held = (await session.execute(select(Subscription).where(Subscription.address.in_([fwd, box])))).all()
    assert held == []  # nothing was written for the refused checkout

    placed = await http.post("/cart/checkout", data={**form, "password_1": "Tango-Fjord-7-Quill"})
    assert placed.status_code == 303 and placed.headers["location"].startswith("/orders/")
    order = (await http.get(f"/api/v1{placed.headers['location']}")).json()
    assert sorted((l["address"], l["kind"]) for l in order["lines"]) == [(fwd, "forwarder"), (box, "mailbox")]
    assert (await http.get("/api/v1/cart")).json()["lines"] == []
    async with pg_sessions() as session:
        mailbox = (await session.execute(select(Subscription).where(Subscription.address == box))).scalar_one()
        sealed = (await session.execute(select(MailboxSecret).where(
            MailboxSecret.subscription_id == mailbox.id))).scalar_one()
    assert "Tango" not in sealed.ciphertext
    await http.aclose()


async def test_cart_filled_before_sign_in_survives_it(live, pg_settings, pg_sessions, sandboxes):
    import httpx

    domain = await make_domain(pg_sessions, sandboxes)
    async with httpx.AsyncClient(base_url=pg_settings.public_base_url) as http:
        csrf = (await http.get("/api/v1/auth/session")).json()["csrf_token"]
        wanted = f"{unique('x')}@{domain.name}"
        assert (await http.post("/api/v1/cart", headers={"X-CSRF-Token": csrf},
                                json={"picks": [{"address": wanted}]})).status_code == 200
        assert "Sign in to place the order" in (await http.get("/cart")).text
        await sign_up_and_in(http, f"{unique('c')}@example.net", name="Late Signer")
        assert [l["address"] for l in (await http.get("/api/v1/cart")).json()["lines"]] == [wanted]
