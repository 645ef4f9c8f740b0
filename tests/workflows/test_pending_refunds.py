"""A refund PayPal holds PENDING, on the time-skipping server: held against the capture, not money
back, until PayPal decides; one PayPal then fails is released when the run looks again."""
from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from store.models import Invoice, Payment, Refund
from tests.workflows.test_order_lifecycle import pay, start_order, wait_for_status, worker_for
from workflows.address import AddressWorkflow
from workflows.refund import RefundWorkflow
from workflows.contracts import RefundInput, address_workflow_id, refund_workflow_id


async def test_pending_refund_paypal_then_fails_is_released(ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        order, inp = await start_order(ts_env, settings, sessions, sandboxes)
        await pay(order, sandboxes)
        assert (await order.result()).status == "paid"
        address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(inp.lines[0].address))
        await wait_for_status(address, AddressWorkflow.state, "active")   # nothing else in flight
        async with httpx.AsyncClient() as http:
            await http.post(f"{sandboxes.paypal.url}/__sandbox/refund_pending", json={"times": 1})
        refund = await ts_env.client.start_workflow(
            RefundWorkflow.run, RefundInput("pending-1", inp.invoice_number, 500, inp.currency, "goodwill", "operator:1"),
            id=refund_workflow_id(inp.invoice_number, "pending-1"), task_queue=settings.task_queue)
        for _ in range(100):
            first = await refund.query(RefundWorkflow.state)
            if first.status:
                break
            await asyncio.sleep(0.1)
        assert first.status == "pending"
        async with sessions() as session:
            row = (await session.execute(select(Refund).where(Refund.key == "pending-1"))).scalar_one()
        assert row.status == "pending" and row.paypal_refund_id == first.paypal_refund_id

        async with httpx.AsyncClient() as http:   # PayPal gives up on it (no webhook: the run looks again)
            await http.post(f"{sandboxes.paypal.url}/__sandbox/refunds/{first.paypal_refund_id}/settle",
                            json={"outcome": "FAILED"})
        outcome = await refund.result()
        assert outcome.status == "failed" and "FAILED" in outcome.message
    async with sessions() as session:
        row = (await session.execute(select(Refund).where(Refund.key == "pending-1"))).scalar_one()
        invoice = (await session.execute(select(Invoice).where(Invoice.order_id == inp.order_id))).scalar_one()
        methods = (await session.execute(select(Payment.method).where(Payment.invoice_id == invoice.id))).scalars().all()
    assert row.status == "failed" and invoice.status == "paid" and methods == ["paypal"]
