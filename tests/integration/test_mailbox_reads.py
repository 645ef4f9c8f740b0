"""Reads stay reads: the mailbox page and its JSON read the `mailbox_usage` read model (read back
when the mailbox is made or changed, and by the cPanel inventory sync), never the address workflow:
looking, however often, adds no event to the workflow's history and asks cPanel nothing."""
from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime

import httpx

from providers.cpanel.client import CpanelClient
from providers.cpanel.protocol import AutoResponder
from tests.integration.test_mailbox_control import _active_mailbox, sync_inventory
from tests.support import faults, make_domain, sandbox_state, signed_in_http, uapi_refused
from workflows.contracts import address_workflow_id

VIEWS = 6


async def _settled_history(handle) -> int:
    """How many events the run has once it waits on its term's timers (no step in flight)."""
    seen = -1
    for _ in range(60):
        count = len((await handle.fetch_history()).events)
        if count == seen:
            return count
        seen = count
        await asyncio.sleep(0.5)
    raise AssertionError(f"the history of {handle.id} kept growing")


async def test_viewing_a_mailbox_writes_no_history_and_shows_what_the_sync_read(live, pg_settings, pg_sessions,
                                                                              sandboxes, dev_env):
    domain = await make_domain(pg_sessions, sandboxes)
    owner, h = await signed_in_http(pg_settings.public_base_url)
    box = await _active_mailbox(owner, h, sandboxes, domain)
    handle = dev_env.client.get_workflow_handle(address_workflow_id(box))
    events = await _settled_history(handle)

    async with httpx.AsyncClient() as admin:   # mail arrives; nobody has looked at cPanel since
        await admin.post(f"{sandboxes.cpanel.url}/__sandbox/pops/{box}/usage", json={"used_mb": 300})
    asked = sum(c.startswith("list_pops_with_disk") for c in (await sandbox_state(sandboxes.cpanel))["calls"])
    for _ in range(VIEWS):
        page = await owner.get(f"/addresses/{box}/mailbox")
        assert page.status_code == 200 and "0.0 MB used" in page.text, page.text
        assert re.search(r'id="usage-read-at">as of \d{4}-\d\d-\d\d \d\d:\d\d UTC<', page.text)
        status = (await owner.get(f"/api/v1/addresses/{box}/mailbox")).json()
        assert status["used_mb"] == 0.0 and status["read_at"]
    made_at = status["read_at"]
    assert len((await handle.fetch_history()).events) == events
    assert sum(c.startswith("list_pops_with_disk") for c in (await sandbox_state(sandboxes.cpanel))["calls"]) == asked

    # the sync reads cPanel (space, and a reply set there, e.g. in webmail) into the read model
    cpanel = CpanelClient(sandboxes.cpanel.url, "mailmkt", "SANDBOXCPANELTOKEN")
    now = int(time.time())
    await cpanel.add_auto_responder(box, "Box", AutoResponder("Back on Monday", "Away.", 24, now, now + 86400))
    await cpanel.aclose()
    result = await sync_inventory(dev_env, pg_settings)
    assert result.mailboxes >= 1
    for _ in range(VIEWS):
        page = await owner.get(f"/addresses/{box}/mailbox")
        assert "300.0 MB used" in page.text and "On: “Back on Monday”" in page.text
        status = (await owner.get(f"/api/v1/addresses/{box}/mailbox")).json()
        assert status["used_mb"] == 300.0 and status["autoresponder"] == "Back on Monday"
    assert datetime.fromisoformat(status["read_at"]) > datetime.fromisoformat(made_at)
    assert len((await handle.fetch_history()).events) == events

    # cPanel will not list the domain's replies (the feature off): the sync still reads the space and
    # the inventory, and the reply on file stays
    refusal = uapi_refused("You do not have the feature “autoresponders”.")
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.cpanel.url}/__sandbox/pops/{box}/usage", json={"used_mb": 310})
    async with faults(sandboxes.cpanel, [{"match": f"list_auto_responders?domain={domain.name}", "times": -1,
                                          "status": 200, "body": refusal}]):
        assert (await sync_inventory(dev_env, pg_settings)).mailboxes >= 1
    status = (await owner.get(f"/api/v1/addresses/{box}/mailbox")).json()
    assert status["used_mb"] == 310.0 and status["autoresponder"] == "Back on Monday"
    await owner.aclose()
