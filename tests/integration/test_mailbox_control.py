"""A customer's control of their own mailbox on the real stack: space used, a new password (policy
checked, never in clear anywhere but cPanel), an automatic reply set and cleared; nobody else's."""
from __future__ import annotations

import asyncio
import hashlib

import httpx
from sqlalchemy import select

from store.models import AuditEntry, MailboxSecret, Subscription
from tests.integration.test_destination_change import wait_active
from tests.support import make_domain, order_and_approve, sandbox_state, signed_in_http, unique


async def test_mailbox_password_autoresponder_and_space(live, pg_settings, pg_sessions, sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    owner, h = await signed_in_http(pg_settings.public_base_url)
    other, oh = await signed_in_http(pg_settings.public_base_url)
    order, _ = await order_and_approve(owner, h, sandboxes, {
        "local_part": unique("box"), "domain": domain.name, "kind": "mailbox", "years": 1,
        "password": "Tango-Fjord-7-Quill"})
    await wait_active(owner, order["id"])
    box = order["lines"][0]["address"]
    base = f"/api/v1/addresses/{box}"

    status = (await owner.get(f"{base}/mailbox")).json()
    assert status == {"address": box, "used_mb": 0.0, "quota_mb": pg_settings.mailbox_quota_mb, "autoresponder": None}
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.cpanel.url}/__sandbox/pops/{box}/usage", json={"used_mb": 256})
    assert (await owner.get(f"{base}/mailbox")).json()["used_mb"] == 256.0

    weak = await owner.post(f"{base}/password", headers=h, json={"password": "password123"})
    assert weak.status_code == 422 and weak.json()["code"] == "password_common"
    assert (await owner.post(f"{base}/password", headers=h, json={"password": "Violet-Harbor-42-Kite"})).status_code == 202
    wanted = hashlib.sha256(b"Violet-Harbor-42-Kite").hexdigest()
    for _ in range(100):
        pops = {p["email"]: p for p in (await sandbox_state(sandboxes.cpanel))["pops"]}
        if pops[box]["password_sha256"] == wanted:
            break
        await asyncio.sleep(0.1)
    assert pops[box]["password_sha256"] == wanted
    async with pg_sessions() as session:
        sub = (await session.execute(select(Subscription).where(Subscription.address == box))).scalar_one()
        for _ in range(50):
            left = (await session.execute(select(MailboxSecret).where(MailboxSecret.subscription_id == sub.id))).first()
            if left is None:
                break
            await asyncio.sleep(0.1)
        assert left is None
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.entity_id == box))).scalars().all()
    assert "mailbox.password_changed" in actions

    reply = {"subject": "Away until Monday", "body": "I am away; I will answer on Monday.", "interval_hours": 24,
             "stop": "2030-01-05T09:00"}
    for change, code in [({"subject": " "}, "subject_invalid"), ({"interval_hours": 1000}, "request_invalid"),
                         ({"stop": "soon"}, "date_invalid"), ({"start": "2030-01-06T00:00"}, "period_invalid")]:
        r = await owner.put(f"{base}/autoresponder", headers=h, json={**reply, **change})
        assert 400 <= r.status_code < 500 and r.json()["code"] == code, (change, r.text)
    assert (await owner.put(f"{base}/autoresponder", headers=h, json=reply)).status_code == 200
    responder = (await sandbox_state(sandboxes.cpanel))["responders"][box]
    assert responder["subject"] == "Away until Monday" and responder["interval"] == 24
    assert (await owner.get(f"{base}/mailbox")).json()["autoresponder"] == "Away until Monday"
    assert (await owner.delete(f"{base}/autoresponder", headers=h)).status_code == 200
    assert box not in (await sandbox_state(sandboxes.cpanel))["responders"]

    r = await other.get(f"{base}/mailbox")
    assert r.status_code == 404 and r.json()["code"] == "address_not_found"
    page = await owner.get(f"/addresses/{box}/mailbox")
    assert page.status_code == 200 and "256.0 MB used" in page.text
    for http in (owner, other):
        await http.aclose()
