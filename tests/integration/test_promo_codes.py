"""Promo codes over HTTP on PostgreSQL: the operator's code, applied at checkout (the invoice shows the
discount and PayPal would take the discounted total), its limits holding under concurrent checkouts,
each refusal saying why with nothing ordered, and a cancelled order giving its use back."""
from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

from core.money import Money
from tests.integration.test_manual_payment_api import until
from tests.support import make_domain, signed_in_http, signed_in_operator, unique


def line(domain, kind="forwarder") -> dict:
    body = {"local_part": unique("p"), "domain": domain.name, "years": 1, "kind": kind}
    if kind == "mailbox":
        body["password"] = "Tango-Fjord-7-Quill"
    else:
        body["destination"] = "me@home.example"
    return body


async def test_promo_codes_discount_checkouts_within_their_limits(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    other_domain = await make_domain(pg_sessions, sandboxes)
    operator, oh = await signed_in_operator(pg_settings.public_base_url, pg_sessions)
    buyer, bh = await signed_in_http(pg_settings.public_base_url)
    rival, rh = await signed_in_http(pg_settings.public_base_url)
    prefix = unique("P").upper()[:20]
    now = datetime.now(timezone.utc)

    async def create(**body):
        r = await operator.post("/api/v1/operator/promo-codes", headers=oh, json=body)
        return r

    assert (await create(code=f"{prefix}-BAD", percent="10", amount="5.00")).json()["code"] == "promo_value_invalid"
    assert (await create(code=f"{prefix}-BAD", percent="150")).json()["code"] == "percent_invalid"
    assert (await create(code="no spaces allowed", percent="10")).json()["code"] == "promo_code_invalid"
    assert (await buyer.post("/api/v1/operator/promo-codes", headers=bh,
                             json={"code": f"{prefix}-X", "percent": "10"})).status_code == 403
    ten = await create(code=f"{prefix}-ten", percent="10", max_uses_per_client=1)
    assert ten.status_code == 201 and ten.json()["code"] == f"{prefix}-TEN" and ten.json()["value"] == "10% off"
    assert (await create(code=f"{prefix}-TEN", percent="5")).json()["code"] == "promo_code_exists"
    await create(code=f"{prefix}-ONE", amount="3.00", max_uses=1)
    await create(code=f"{prefix}-BOX", percent="50", kinds=["mailbox"])
    await create(code=f"{prefix}-HERE", percent="50", domains=[other_domain.name])
    await create(code=f"{prefix}-OLD", percent="50", ends_at=(now - timedelta(days=1)).isoformat())
    await create(code=f"{prefix}-SOON", percent="50", starts_at=(now + timedelta(days=2)).isoformat())

    async def order(http, h, code, kind="forwarder", where=domain):
        return await http.post("/api/v1/orders", headers=h, json={"lines": [line(where, kind)], "promo_code": code})

    placed = await order(buyer, bh, f"{prefix.lower()}-ten")
    assert placed.status_code == 201, placed.text
    price = Money.parse(pg_settings.forwarder_price_per_year)
    expected = price - Money(round(price.minor / 10))
    assert placed.json()["total"] == expected.display()
    invoice = {i["number"]: i for i in (await buyer.get("/api/v1/invoices")).json()["invoices"]}[
        placed.json()["invoice_number"]]
    assert invoice["discount"] == Money(round(price.minor / 10)).amount()

    for code, kind, where, refusal in [
            (f"{prefix}-TEN", "forwarder", domain, "promo_used_by_you"),
            (f"{prefix}-BOX", "forwarder", domain, "promo_not_applicable"),
            (f"{prefix}-HERE", "forwarder", domain, "promo_not_applicable"),
            (f"{prefix}-OLD", "forwarder", domain, "promo_expired"),
            (f"{prefix}-SOON", "forwarder", domain, "promo_not_started"),
            (f"{prefix}-NOPE", "forwarder", domain, "promo_unknown")]:
        wanted = line(where, kind)
        r = await buyer.post("/api/v1/orders", headers=bh, json={"lines": [wanted], "promo_code": code})
        assert r.status_code in (404, 409) and r.json()["code"] == refusal, (code, r.text)
        assert r.json()["field"] == "promo_code" and r.json()["message"]
        # nothing was ordered: the address is still free to order without the code
        free = await buyer.post("/api/v1/orders", headers=bh, json={"lines": [wanted]})
        assert free.status_code == 201, free.text
        await buyer.post(f"/api/v1/orders/{free.json()['id']}/cancel", headers=bh)
    assert (await order(buyer, bh, f"{prefix}-BOX", "mailbox")).status_code == 201
    assert (await order(buyer, bh, f"{prefix}-HERE", where=other_domain)).status_code == 201

    # one use left of ONE, two checkouts at once: exactly one gets it
    first, second = await asyncio.gather(order(buyer, bh, f"{prefix}-ONE"), order(rival, rh, f"{prefix}-ONE"))
    assert sorted([first.status_code, second.status_code]) == [201, 409], (first.text, second.text)
    won, lost = (first, second) if first.status_code == 201 else (second, first)
    assert lost.json()["code"] == "promo_used_up"
    listed = {p["code"]: p for p in (await operator.get("/api/v1/operator/promo-codes")).json()["promo_codes"]}
    assert listed[f"{prefix}-ONE"]["uses"] == 1 and listed[f"{prefix}-TEN"]["uses"] == 1
    # the winner cancels: the use comes back
    winner = buyer if won is first else rival
    wh = bh if won is first else rh
    await winner.post(f"/api/v1/orders/{won.json()['id']}/cancel", headers=wh)
    await until(winner, won.json()["id"], lambda o: o["status"] == "cancelled")
    listed = {p["code"]: p for p in (await operator.get("/api/v1/operator/promo-codes")).json()["promo_codes"]}
    assert listed[f"{prefix}-ONE"]["uses"] == 0
    off = await operator.post(f"/api/v1/operator/promo-codes/{prefix}-ONE/active", headers=oh, json={"active": False})
    assert off.json()["active"] is False
    assert (await order(rival, rh, f"{prefix}-ONE")).json()["code"] == "promo_inactive"

    # the cart page shows the reason beside the promo field, and keeps the cart
    wanted = line(domain)
    address = f"{wanted['local_part']}@{domain.name}"
    assert (await buyer.post("/api/v1/cart", headers=bh, json={"picks": [{"address": address}]})).status_code == 200
    page = await buyer.get("/cart")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    refused = await buyer.post("/cart/checkout", data={"csrf": csrf, "kind_0": "forwarder", "years_0": "1",
                                                      "destination_0": "me@home.example",
                                                      "promo_code": f"{prefix}-OLD"})
    assert refused.status_code == 409 and 'id="promo-error"' in refused.text and "expired" in refused.text
    assert f'value="{prefix}-OLD"' in refused.text and address in refused.text
    for http in (operator, buyer, rival):
        await http.aclose()
