"""An operator's own invoice on the time-skipping server: issued and emailed, a reminder before it is
due, three overdue reminders, the client's forwarder suspended (bouncing) after the configured days,
and restored the moment the last of a partial payment arrives; receipts for each payment."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError

from core.billing import Line
from core.money import Money
from providers.cpanel.client import CpanelClient
from store import dunning
from store.invoicing import InvoiceTerms, Item
from store.models import Client, Invoice, Payment, Subscription
from tests.support import approve_at_paypal, make_client, make_domain, mails_to, sandbox_state, unique
from tests.workflows.test_order_lifecycle import worker_for
from workflows.contracts import (BeginPayPal, CancelRequest, Dunning, InvoiceInput, InvoiceState, ManualPayment,
                                 PayPalApproved, invoice_workflow_id)
from workflows.invoice import InvoiceWorkflow


async def until_state(handle, check, what: str) -> InvoiceState:
    for _ in range(200):
        state = await handle.query(InvoiceWorkflow.state)
        if check(state):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: still {state}")


async def test_an_overdue_invoice_is_chased_suspends_and_payment_lifts_it(ts_env, settings, sessions, sandboxes):
    client = await make_client(sessions)
    domain = await make_domain(sessions, sandboxes)
    address = f"{unique('debt')}@{domain.name}"
    cpanel = CpanelClient(sandboxes.cpanel.url, settings.cpanel_user, settings.cpanel_token.get_secret_value())
    await cpanel.add_forwarder(address, "me@home.example")
    await cpanel.aclose()
    now = await ts_env.get_current_time()
    async with sessions.begin() as session:
        session.add(Subscription(address=address, local_part=address.split("@")[0], domain_id=domain.id,
                                 kind="forwarder", client_id=client.id, term_years=1, status="active",
                                 destination="me@home.example", workflow_id=f"address:{address}",
                                 term_start=now.date(), term_end=now.date() + timedelta(days=365)))
        invoice = await dunning.create_custom_invoice(
            session, await session.merge(client),
            [Item(Line("Support, November", 3, Money(4500))), Item(Line("Mailbox migration", 1, Money(2000)))],
            now=now, due_at=now + timedelta(days=10), terms=InvoiceTerms(), actor="operator:1")
    assert invoice.total_minor == 15500
    inp = InvoiceInput(invoice.id, invoice.number, client.id, client.email, client.name, invoice.total_minor, "USD",
                       invoice.due_at, Dunning(before_days=3, overdue_days=[7, 14, 30], suspend_after_days=45))
    async with worker_for(ts_env, settings):
        handle = await ts_env.client.start_workflow(InvoiceWorkflow.run, inp, id=invoice_workflow_id(invoice.number),
                                                    task_queue=settings.task_queue)
        await until_state(handle, lambda s: s.status == "unpaid", "issued")
        for days, reminders in [(8, 1), (18, 2), (25, 3), (41, 4)]:
            await ts_env.sleep(inp.due_at - timedelta(days=10) + timedelta(days=days) - await ts_env.get_current_time())
            await until_state(handle, lambda s: s.reminders == reminders, f"day {days}")
        assert not (await handle.query(InvoiceWorkflow.state)).suspended
        await ts_env.sleep(timedelta(days=15))              # 46 days overdue: suspended
        await until_state(handle, lambda s: s.suspended, "suspension")
        lines = [f["destination"] for f in (await sandbox_state(sandboxes.cpanel))["forwarders"]
                 if f["address"] == address]
        assert len(lines) == 1 and lines[0].startswith(":fail:") and "overdue" in lines[0]

        def cheque(reference: str, amount: int) -> ManualPayment:
            return ManualPayment("cheque", amount, "USD", reference, date.today(), "operator:1")

        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(InvoiceWorkflow.record_payment, cheque("C-1", 0))
        assert err.value.cause.type == "amount_invalid"
        part = await handle.execute_update(InvoiceWorkflow.record_payment, cheque("C-1", 5500))
        assert (part.status, part.due_minor, part.suspended) == ("unpaid", 10000, True)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(InvoiceWorkflow.record_payment, cheque("C-1", 10000))
        assert err.value.cause.type == "payment_reference_used"
        await handle.execute_update(InvoiceWorkflow.record_payment, cheque("C-2", 10000))
        final = await handle.result()
    assert (final.status, final.suspended, final.reminders) == ("paid", False, 4)
    assert [f["destination"] for f in (await sandbox_state(sandboxes.cpanel))["forwarders"]
            if f["address"] == address] == ["me@home.example"]
    async with sessions() as session:
        stored = (await session.execute(select(Invoice).where(Invoice.id == invoice.id))).scalar_one()
        assert (stored.status, stored.reminders_sent) == ("paid", 4)
        assert (await session.get(Client, client.id)).suspended_at is None
    subjects = [m["subject"] for m in mails_to(sandboxes, client.email)]
    n = invoice.number
    assert subjects == [f"Invoice {n}: $155.00 due", f"Invoice {n} is due on {invoice.due_at.date()}",
                        f"Reminder 1: invoice {n} is overdue", f"Reminder 2: invoice {n} is overdue",
                        f"Reminder 3: invoice {n} is overdue",
                        f"Receipt: $55.00 for invoice {n}", f"Receipt: $100.00 for invoice {n}"]
    third = mails_to(sandboxes, client.email)[4]["text"]
    assert "will be suspended" in third and (invoice.due_at + timedelta(days=45)).date().isoformat() in third


async def setup_invoice(ts_env, sessions):
    """A client and an operator's invoice of $99.00 for them, due in 14 days, with its workflow input."""
    client = await make_client(sessions)
    now = await ts_env.get_current_time()
    async with sessions.begin() as session:
        invoice = await dunning.create_custom_invoice(session, await session.merge(client),
                                                      [Item(Line("Setup", 1, Money(9900)))], now=now,
                                                      due_at=now + timedelta(days=14), terms=InvoiceTerms(),
                                                      actor="operator:1")
    return client, invoice, InvoiceInput(invoice.id, invoice.number, client.id, client.email, client.name, 9900,
                                         "USD", invoice.due_at)


async def test_a_cancelled_custom_invoice_gets_a_credit_note_and_nothing_more(ts_env, settings, sessions, sandboxes):
    client, invoice, inp = await setup_invoice(ts_env, sessions)
    async with worker_for(ts_env, settings):
        handle = await ts_env.client.start_workflow(InvoiceWorkflow.run, inp, id=invoice_workflow_id(invoice.number),
                                                    task_queue=settings.task_queue)
        await until_state(handle, lambda s: s.status == "unpaid", "issued")
        await handle.signal(InvoiceWorkflow.cancel, CancelRequest("entered twice", "operator:1"))
        final = await handle.result()
    assert final.status == "cancelled" and final.reminders == 0
    async with sessions() as session:
        stored = await session.get(Invoice, invoice.id)
        assert stored.status == "cancelled"
    assert [m["subject"] for m in mails_to(sandboxes, client.email)] == [f"Invoice {invoice.number}: $99.00 due"]


async def test_a_custom_invoice_is_paid_by_cheque_then_paypal_for_the_rest(ts_env, settings, sessions, sandboxes):
    client, invoice, inp = await setup_invoice(ts_env, sessions)
    begin = BeginPayPal("http://shop.test/return", "http://shop.test/invoices")
    async with worker_for(ts_env, settings):
        handle = await ts_env.client.start_workflow(InvoiceWorkflow.run, inp, id=invoice_workflow_id(invoice.number),
                                                    task_queue=settings.task_queue)
        first = await handle.execute_update(InvoiceWorkflow.begin_paypal, begin)
        assert (await handle.execute_update(InvoiceWorkflow.begin_paypal, begin)) == first    # the same checkout
        await handle.execute_update(InvoiceWorkflow.record_payment, ManualPayment(
            "cheque", 2900, "USD", unique("CHQ"), date.today(), "operator:1"))
        checkout = await handle.execute_update(InvoiceWorkflow.begin_paypal, begin)
        assert checkout.paypal_order_id != first.paypal_order_id         # for the 70.00 now due, not 99.00
        await approve_at_paypal(sandboxes, first.approve_url)
        await handle.signal(InvoiceWorkflow.paypal_approved, PayPalApproved(first.paypal_order_id))   # stale: ignored
        await approve_at_paypal(sandboxes, checkout.approve_url)
        await handle.signal(InvoiceWorkflow.paypal_approved, PayPalApproved(checkout.paypal_order_id))
        await handle.signal(InvoiceWorkflow.paypal_approved, PayPalApproved(checkout.paypal_order_id))  # twice
        final = await handle.result()
    assert (final.status, final.due_minor) == ("paid", 0)
    async with sessions() as session:
        paypal = (await session.execute(select(Payment).where(Payment.invoice_id == invoice.id,
                                                              Payment.method == "paypal"))).scalars().all()
        assert [(p.amount_minor, p.applied_minor) for p in paypal] == [(7000, 7000)]
        assert (await session.get(Invoice, invoice.id)).status == "paid"
        assert (await session.execute(select(func.count()).select_from(Payment).where(
            Payment.invoice_id == invoice.id))).scalar_one() == 2
    captures = (await sandbox_state(sandboxes.paypal))["captures"]
    assert [c["amount"]["value"] for c in captures if c["order_id"] == checkout.paypal_order_id] == ["70.00"]
    assert not [c for c in captures if c["order_id"] == first.paypal_order_id]   # the stale one never captured
    subjects = [m["subject"] for m in mails_to(sandboxes, client.email)]
    assert subjects[-2:] == [f"Receipt: $29.00 for invoice {invoice.number}",
                             f"Receipt: $70.00 for invoice {invoice.number}"]
