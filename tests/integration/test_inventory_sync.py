"""The cPanel inventory sync, run by its schedule on the dev server: what exists on cPanel (and
was not sold by us) shows as `exists` in the grid without the grid calling cPanel."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from api.services.availability import check_grid
from core.availability import Cell
from providers.cpanel.client import CpanelClient
from tests.support import make_domain
from worker import ensure_schedules
from workflows.contracts import INVENTORY_SCHEDULE_ID, INVENTORY_WORKFLOW, InventorySyncInput, InventorySyncResult


async def test_schedule_syncs_cpanel_into_the_grid(live, pg_settings, pg_sessions, sandboxes, dev_env):
    domain = await make_domain(pg_sessions, sandboxes)
    cpanel = CpanelClient(sandboxes.cpanel.url, "mailmkt", "SANDBOXCPANELTOKEN")
    await cpanel.add_forwarder(f"legacy@{domain.name}", "someone@else.example")
    await cpanel.add_pop("office", domain.name, "a strong password", 500)
    await cpanel.aclose()

    await ensure_schedules(dev_env.client, pg_settings)
    await ensure_schedules(dev_env.client, pg_settings)  # idempotent at every worker start
    handle = dev_env.client.get_schedule_handle(INVENTORY_SCHEDULE_ID)
    described = await handle.describe()
    assert described.schedule.spec.intervals[0].every == timedelta(minutes=pg_settings.inventory_sync_minutes)

    async def statuses():
        async with pg_sessions() as session:
            cells = await check_grid(session, ["legacy", "office", "fresh"], [domain.name], max_names=10,
                                     max_domains=20, suggest=False)
        return [c.status for c in cells]

    for _ in range(100):  # the schedule triggered once at creation
        if await statuses() == [Cell.EXISTS, Cell.EXISTS, Cell.AVAILABLE]:
            break
        await asyncio.sleep(0.2)
    assert await statuses() == [Cell.EXISTS, Cell.EXISTS, Cell.AVAILABLE]

    # on demand, and removal on cPanel is seen by the next sync
    cpanel = CpanelClient(sandboxes.cpanel.url, "mailmkt", "SANDBOXCPANELTOKEN")
    await cpanel.delete_forwarder(f"legacy@{domain.name}", "someone@else.example")
    await cpanel.aclose()
    result: InventorySyncResult = await dev_env.client.execute_workflow(
        INVENTORY_WORKFLOW, InventorySyncInput(chunk_size=3), id=f"inventory-now-{domain.name}",
        task_queue=pg_settings.task_queue, result_type=InventorySyncResult)
    assert result.domains >= 1 and result.mailboxes >= 1
    assert await statuses() == [Cell.AVAILABLE, Cell.EXISTS, Cell.AVAILABLE]
    await handle.delete()
