"""Sync what exists on the cPanel account into the inventory table and each mailbox's space and reply
into the `mailbox_usage` read model, domain chunk by chunk, so neither availability checks nor the
mailbox page ever call cPanel. Run by the schedule `cpanel-inventory-sync` (and on demand)."""
from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.policies import INVENTORY_STEP
    from workflows.contracts import (
        INVENTORY_WORKFLOW,
        InventoryChunk,
        InventorySyncInput,
        InventorySyncResult,
    )

STEP = INVENTORY_STEP


@workflow.defn(name=INVENTORY_WORKFLOW)
class CpanelInventorySyncWorkflow:
    @workflow.run
    async def run(self, inp: InventorySyncInput) -> InventorySyncResult:
        domains: list[str] = await workflow.execute_activity(
            "portfolio_domains", start_to_close_timeout=timedelta(seconds=60), result_type=list[str])
        total = InventorySyncResult()
        for start in range(0, len(domains), inp.chunk_size):
            part: InventorySyncResult = await workflow.execute_activity(
                "sync_cpanel_inventory", InventoryChunk(domains[start:start + inp.chunk_size]),
                result_type=InventorySyncResult, **STEP)
            total.domains += part.domains
            total.forwarders += part.forwarders
            total.mailboxes += part.mailboxes
        return total
