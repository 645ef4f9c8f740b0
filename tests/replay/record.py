"""Record workflow histories for the replay tests: `python -m tests.replay.record`.

Runs one order through payment and its address through a whole one-year term on the
time-skipping server, against in-thread sandboxes and a scratch SQLite database, and writes
each history to tests/replay/histories/<workflow>-<label>.json. Record anew only when a
deliberate, versioned change (workflow.patched) makes it right to add a history, never to
replace one that running subscriptions still depend on.
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.services.ordering import WantedAddress, place
from store.db import make_engine, make_sessionmaker
from store.migrate import upgrade
from tests.support import TEST_SERVER, approve_at_paypal, make_client, make_domain, settings_for, start_sandboxes, utcnow
from worker import WORKFLOWS, build_activities
from workflows.contracts import BEGIN_PAYPAL, PAYPAL_APPROVED, BeginPayPal, PayPalApproved, PayPalCheckout, address_workflow_id, order_workflow_id

OUT = Path(__file__).resolve().parent / "histories"


async def main(label: str) -> None:
    boxes = start_sandboxes()
    db = Path(tempfile.mkdtemp()) / "record.db"
    upgrade(f"sqlite:///{db}")
    settings = settings_for(boxes, f"sqlite:///{db}")
    engine = make_engine(settings.async_database_url)
    sessions = make_sessionmaker(engine)
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(TEST_SERVER),
                                                        data_converter=pydantic_data_converter)
    try:
        async with build_activities(settings) as activities:
            async with Worker(env.client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities):
                client = await make_client(sessions)
                domain = await make_domain(sessions, boxes)
                async with sessions.begin() as session:
                    client = await session.merge(client)
                    _, inp = await place(session, settings, client,
                                         [WantedAddress("mark", domain.name, "forwarder", 1, "mark@home.example")], utcnow())
                inp.search_attributes = False
                order = await env.client.start_workflow("OrderWorkflow", inp, id=order_workflow_id(inp.order_id),
                                                        task_queue=settings.task_queue)
                checkout = await order.execute_update(BEGIN_PAYPAL, BeginPayPal("http://r/ok", "http://r/no"),
                                                      result_type=PayPalCheckout)
                await approve_at_paypal(boxes, checkout.approve_url)
                await order.signal(PAYPAL_APPROVED, PayPalApproved(checkout.paypal_order_id))
                await order.result()
                address = env.client.get_workflow_handle(address_workflow_id(inp.lines[0].address))
                async with env.time_skipping_unlocked():
                    await address.result()
                for name, handle in (("order", order), ("address", address)):
                    history = await handle.fetch_history()
                    (OUT / f"{name}-{label}.json").write_text(history.to_json())
    finally:
        await env.shutdown()
        await engine.dispose()
        boxes.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "v1"))
