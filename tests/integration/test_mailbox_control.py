"""A customer's control of their own mailbox on the real stack: space used, a new password (policy
checked, never in clear anywhere but cPanel), an automatic reply set and cleared; nobody else's."""
from __future__ import annotations

import asyncio
import hashlib
import re

import httpx
from sqlalchemy import select

from store.models import AuditEntry, MailboxSecret, Subscription
from tests.integration.test_destination_change import wait_active
from tests.support import (faults, make_domain, order_and_approve, sandbox_state, signed_in_http, uapi_refused,
                           unique)
from workflows.contracts import INVENTORY_WORKFLOW, InventorySyncInput, InventorySyncResult


async def test_mailbox_password_autoresponder_and_space(live, pg_settings, pg_sessions, sandboxes, dev_env):
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
    assert status.pop("read_at")                       # read back when the mailbox was made
    assert status == {"address": box, "used_mb": 0.0, "quota_mb": pg_settings.mailbox_quota_mb, "autoresponder": None,
                      "last_change": None}
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.cpanel.url}/__sandbox/pops/{box}/usage", json={"used_mb": 256})
    await sync_inventory(dev_env, pg_settings)    # the page reads what the sync read
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


async def sync_inventory(dev_env, settings) -> InventorySyncResult:
    """The cPanel inventory sync, now (as its schedule runs it): the mailbox pages read what it read."""
    return await dev_env.client.execute_workflow(
        INVENTORY_WORKFLOW, InventorySyncInput(), id=f"inventory-now-{unique('reads')}",
        task_queue=settings.task_queue, result_type=InventorySyncResult)


async def _active_mailbox(owner, h, sandboxes, domain) -> str:
    order, _ = await order_and_approve(owner, h, sandboxes, {
        "local_part": unique("box"), "domain": domain.name, "kind": "mailbox", "years": 1,
        "password": "Tango-Fjord-7-Quill"})
    await wait_active(owner, order["id"])
    return order["lines"][0]["address"]


async def _owner_of_a_mailbox(pg_settings, pg_sessions, sandboxes) -> tuple[httpx.AsyncClient, dict, str]:
    """A signed-in customer who owns an active mailbox on a domain of their own: (http, headers, address)."""
    domain = await make_domain(pg_sessions, sandboxes)
    owner, h = await signed_in_http(pg_settings.public_base_url)
    return owner, h, await _active_mailbox(owner, h, sandboxes, domain)


async def _password_reaches_cpanel(owner, h, sandboxes, box: str, password: str) -> None:
    assert (await owner.post(f"/api/v1/addresses/{box}/password", headers=h,
                             json={"password": password})).status_code == 202
    wanted = hashlib.sha256(password.encode()).hexdigest()
    for _ in range(100):
        pops = {p["email"]: p for p in (await sandbox_state(sandboxes.cpanel))["pops"]}
        if pops[box]["password_sha256"] == wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the new password of {box} never reached cPanel")


async def test_auto_reply_until_a_past_date_is_refused_at_once_and_holds_nothing_up(live, pg_settings, pg_sessions,
                                                                                    sandboxes):
    owner, h, box = await _owner_of_a_mailbox(pg_settings, pg_sessions, sandboxes)
    reply = {"subject": "Away", "body": "I am away.", "interval_hours": 24, "stop": "2020-01-05T09:00"}

    started = asyncio.get_running_loop().time()
    r = await owner.put(f"/api/v1/addresses/{box}/autoresponder", headers=h, json=reply)
    assert asyncio.get_running_loop().time() - started < 10
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "stop_in_past" and r.json()["field"] == "stop" and "past" in r.json()["message"]
    for change, code in [({"subject": "Away\r\nBcc: x@y.example"}, "subject_invalid"),
                         ({"stop": "2999-01-01T00:00"}, "stop_too_far")]:
        r = await owner.put(f"/api/v1/addresses/{box}/autoresponder", headers=h, json={**reply, **change})
        assert r.status_code == 422 and r.json()["code"] == code, (change, r.text)

    page = await owner.get(f"/addresses/{box}/mailbox")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = await owner.post(f"/addresses/{box}/mailbox", data={"csrf": csrf, "action": "autoresponder", **reply})
    assert r.status_code == 422
    beside = re.search(r'id="stop-error"[^>]*>([^<]+)<', r.text)
    assert beside and "past" in beside.group(1)
    assert 'value="2020-01-05T09:00"' in r.text              # what was typed stays in the form

    calls = (await sandbox_state(sandboxes.cpanel))["calls"]
    assert not any(c.startswith("add_auto_responder") and box.partition("@")[0] in c for c in calls)
    assert box not in (await sandbox_state(sandboxes.cpanel))["responders"]
    await _password_reaches_cpanel(owner, h, sandboxes, box, "Violet-Harbor-42-Kite")
    await owner.aclose()


async def test_a_reply_cpanel_refuses_shows_as_failed_and_the_next_password_still_reaches_cpanel(
        live, pg_settings, pg_sessions, sandboxes):
    owner, h, box = await _owner_of_a_mailbox(pg_settings, pg_sessions, sandboxes)
    local = box.partition("@")[0]
    refusal = uapi_refused("You do not have the feature “autoresponders”.")
    async with faults(sandboxes.cpanel, [{   # cPanel says no (HTTP 200, UAPI status 0), every time
            "match": f"add_auto_responder?email={local}", "times": -1, "status": 200, "body": refusal}]):
        started = asyncio.get_running_loop().time()
        r = await owner.put(f"/api/v1/addresses/{box}/autoresponder", headers=h, json={
            "subject": "Away", "body": "I am away.", "interval_hours": 24, "stop": "2030-01-05T09:00"})
        assert asyncio.get_running_loop().time() - started < 15
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "provider_refused" and "autoresponders" in r.json()["message"]

    page = await owner.get(f"/addresses/{box}/mailbox")
    failed = re.search(r'id="last-change"[^>]*>(.+?)</p>', page.text, re.S)
    assert failed and "automatic reply" in failed.group(1) and "autoresponders" in failed.group(1), page.text
    async with pg_sessions() as session:
        refused = (await session.execute(select(AuditEntry).where(
            AuditEntry.entity_id == box, AuditEntry.action == "mailbox.autoresponder_refused"))).scalars().all()
    assert len(refused) == 1 and "autoresponders" in refused[0].after["message"]
    last = (await owner.get(f"/api/v1/addresses/{box}/mailbox")).json()["last_change"]
    assert last["what"] == "autoresponder" and not last["ok"] and last["code"] == "provider_refused"

    await _password_reaches_cpanel(owner, h, sandboxes, box, "Violet-Harbor-42-Kite")
    page = await owner.get(f"/addresses/{box}/mailbox")
    assert 'id="last-change"' not in page.text                  # the password change went through since
    assert (await owner.get(f"/api/v1/addresses/{box}/mailbox")).json()["last_change"]["ok"] is True
    await owner.aclose()


async def test_cpanel_down_or_refusing_a_password_gives_up_in_time_and_the_mailbox_carries_on(
        live, pg_settings, pg_sessions, sandboxes):
    owner, h, box = await _owner_of_a_mailbox(pg_settings, pg_sessions, sandboxes)
    local = box.partition("@")[0]
    refusal = uapi_refused("The password is too weak.")
    async with faults(sandboxes.cpanel, [
            {"match": f"add_auto_responder?email={local}", "times": -1, "status": 503},
            {"match": f"passwd_pop?email={local}", "times": 1, "status": 200, "body": refusal}]):
        r = await owner.put(f"/api/v1/addresses/{box}/autoresponder", headers=h, json={
            "subject": "Away", "body": "I am away.", "interval_hours": 24})
        assert r.status_code == 409 and r.json()["code"] == "provider_unavailable", r.text   # tried, then given up
        assert (await owner.post(f"/api/v1/addresses/{box}/password", headers=h,
                                 json={"password": "Amber-Comet-19-Lynx"})).status_code == 202
        for _ in range(100):
            last = (await owner.get(f"/api/v1/addresses/{box}/mailbox")).json()["last_change"]
            if last and last["what"] == "password":
                break
            await asyncio.sleep(0.1)
        assert last["ok"] is False and "too weak" in last["message"]
    page = await owner.get(f"/addresses/{box}/mailbox")
    assert "new password" in re.search(r'id="last-change"[^>]*>(.+?)</p>', page.text, re.S).group(1)
    async with pg_sessions() as session:
        actions = set((await session.execute(select(AuditEntry.action).where(AuditEntry.entity_id == box))).scalars())
    assert {"mailbox.autoresponder_failed", "mailbox.password_refused"} <= actions
    await _password_reaches_cpanel(owner, h, sandboxes, box, "Violet-Harbor-42-Kite")   # the run lives on
    await owner.aclose()
