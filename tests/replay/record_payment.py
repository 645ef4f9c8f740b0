"""v7 (`python -m tests.replay.record v7 payment-core`): PAYMENT_CORE histories, see record.py's
docstring. Orders hand their invoice to its own workflow; each order is recorded with its invoice's run."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy import select

from api.services.ordering import WantedAddress, place
from core.money import Money
from store import credit
from store.models import Order
from tests.replay.record import OUT, pay_by_paypal, recording, start_order
from tests.support import make_client, make_domain, utcnow
from workflows.contracts import (CANCEL_ORDER, CHOOSE_MANUAL, ORDER_PAYMENT_STATE, RECORD_INVOICE_PAYMENT,
                                 RECORD_MANUAL, STATE, CancelRequest, ChooseManual, ManualInstructions,
                                 ManualPayment, OrderState, invoice_workflow_id, order_workflow_id)


async def paid_through(order) -> object:
    """The invoice workflow an order (PAYMENT_CORE) handed its invoice to, once it answers."""
    for _ in range(300):
        through = (await order.query(STATE, result_type=OrderState)).paid_through
        if through:
            invoice = order._client.get_workflow_handle(through)
            try:
                await invoice.query(ORDER_PAYMENT_STATE, result_type=OrderState)
                return invoice
            except Exception:   # noqa: BLE001 - not started yet
                pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{order.id} never handed its invoice over")


async def payment_core(label: str) -> None:
    """v7, PAYMENT_CORE: see the module docstring. `python -m tests.replay.record v7 payment-core`."""
    histories = {}
    async with recording() as (boxes, settings, sessions, env):
        domain = await make_domain(sessions, boxes)
        client = await make_client(sessions)
        async with sessions.begin() as session:   # applied to the first invoice; PayPal takes the rest
            await credit.adjust(session, client_id=client.id, amount=Money(500, "USD"), reason="record",
                                actor="record", reference=f"record-{label}-credit")
        runs = {}
        for kind, name in (("paypal", "paco"), ("manual", "manu"), ("cancelled", "cleo")):
            inp, order = await start_order(env, settings, sessions, client, domain, name)
            runs[kind] = (inp, order, await paid_through(order))

        inp, order, invoice = runs["paypal"]
        await pay_by_paypal(boxes, invoice)
        await order.result()

        inp, order, invoice = runs["manual"]
        await invoice.execute_update(CHOOSE_MANUAL, ChooseManual("cheque"), result_type=ManualInstructions)
        for reference, amount in (("REC-7A", 400), ("REC-7B", inp.total_minor - 400)):
            await invoice.execute_update(RECORD_MANUAL, ManualPayment("cheque", amount, "USD", reference,
                                                                      date.today(), "record"), result_type=OrderState)
        await order.result()

        inp, order, invoice = runs["cancelled"]
        await order.signal(CANCEL_ORDER, CancelRequest("cancelled at the customer's request", "record"))
        await order.result()
        for kind, (inp, order, invoice) in runs.items():
            histories[f"order-{label}-{kind}"] = order
            histories[f"invoice-{label}-{kind}"] = invoice

        # a renewal: the address reaches its renewal invoice with no credit left, paid by PayPal
        renewal = None
        for _ in range(40):
            await env.sleep(timedelta(days=15))
            async with sessions() as session:
                renewal = (await session.execute(select(Order.id).where(
                    Order.kind == "renewal", Order.client_id == client.id).order_by(Order.id))).scalars().first()
            if renewal is not None:
                break
        assert renewal is not None, "no renewal order opened"
        order = env.client.get_workflow_handle(order_workflow_id(renewal))
        invoice = await paid_through(order)
        await pay_by_paypal(boxes, invoice)
        await order.result()
        histories[f"order-{label}-renewal"] = order
        histories[f"invoice-{label}-renewal"] = invoice

        # a postpaid order's invoice, chased by its own workflow as before, paid by cheque
        postpaid = await make_client(sessions)
        async with sessions.begin() as session:
            postpaid = await session.merge(postpaid)
            postpaid.billing_mode, postpaid.apply_credit = "postpaid", False
            _, inp = await place(session, settings, postpaid, [WantedAddress(
                "pia", domain.name, "forwarder", 1, "pia@home.example")], utcnow())
        inp.search_attributes = False
        order = await env.client.start_workflow("OrderWorkflow", inp, id=order_workflow_id(inp.order_id),
                                                task_queue=settings.task_queue)
        await order.result()
        invoice = env.client.get_workflow_handle(invoice_workflow_id(inp.invoice_number))
        await invoice.execute_update(RECORD_INVOICE_PAYMENT, ManualPayment(
            "cheque", inp.total_minor, "USD", "REC-7P", date.today(), "record"))
        await invoice.result()
        histories[f"order-{label}-postpaid"] = order
        histories[f"invoice-{label}-postpaid"] = invoice
        for name, handle in histories.items():
            (OUT / f"{name}.json").write_text((await handle.fetch_history()).to_json())
