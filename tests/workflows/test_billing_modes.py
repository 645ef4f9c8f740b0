"""Clients billed on account, on the time-skipping server with the real activities: a postpaid client's
address works at once, its invoice is due later and chased (reminders, then the address suspended),
and paying it restores the address and settles the order; an exempt client's address works at once
and no invoice is ever written."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError

from api.services.ordering import WantedAddress, place
from core.money import Money
from store.models import Client, Invoice, Order, Subscription
from tests.support import make_client, make_domain, mails_to, sandbox_state, unique, utcnow
from tests.workflows.test_dunning import until_state
from tests.workflows.test_order_lifecycle import wait_for_status, worker_for
from workflows.address import AddressWorkflow
from workflows.contracts import ManualPayment, address_workflow_id, invoice_workflow_id, order_workflow_id
from workflows.invoice import InvoiceWorkflow
from workflows.order import OrderWorkflow


async def order_on_account(env, settings, sessions, sandboxes, mode: str):
    client = await make_client(sessions)
    domain = await make_domain(sessions, sandboxes)
    async with sessions.begin() as session:
        client = await session.merge(client)
        client.billing_mode = mode
        _, inp = await place(session, settings, client,
                             [WantedAddress(unique("pat"), domain.name, "forwarder", 1, "pat@home.example")],
                             utcnow())
    inp.search_attributes = False
    handle = await env.client.start_workflow(OrderWorkflow.run, inp, id=order_workflow_id(inp.order_id),
                                             task_queue=settings.task_queue)
    return handle, inp


async def forwarder_of(sandboxes, address: str) -> list[str]:
    return [f["destination"] for f in (await sandbox_state(sandboxes.cpanel))["forwarders"] if f["address"] == address]


async def test_postpaid_address_works_at_once_and_its_overdue_invoice_suspends_it_until_paid(ts_env, settings,
                                                                                            sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await order_on_account(ts_env, settings, sessions, sandboxes, "postpaid")
        line = inp.lines[0]
        assert (await handle.result()).status == "invoiced"
        address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
        await wait_for_status(address, AddressWorkflow.state, "active")
        assert await forwarder_of(sandboxes, line.address) == ["pat@home.example"]   # before any payment
        invoice = ts_env.client.get_workflow_handle_for(InvoiceWorkflow.run, invoice_workflow_id(inp.invoice_number))
        state = await until_state(invoice, lambda s: s.status == "unpaid", "issued")
        assert state.due_minor == inp.total_minor
        async with sessions() as session:
            order = await session.get(Order, inp.order_id)
            stored = (await session.execute(select(Invoice).where(Invoice.order_id == inp.order_id))).scalar_one()
            assert (order.billing, order.status, stored.status) == ("postpaid", "invoiced", "unpaid")
            assert (stored.due_at - stored.issued_at).days == settings.postpaid_due_days
        # unpaid past the suspension day (due + 45): the forwarder bounces
        await ts_env.sleep(inp.invoice_due_at + timedelta(days=46) - await ts_env.get_current_time())
        await until_state(invoice, lambda s: s.suspended, "suspension")
        bouncing = await forwarder_of(sandboxes, line.address)
        assert len(bouncing) == 1 and bouncing[0].startswith(":fail:") and "overdue" in bouncing[0]
        async with sessions() as session:
            assert (await session.get(Client, line.client_id)).suspended_at is not None

        cheque = unique("CHQ")
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await invoice.execute_update(InvoiceWorkflow.record_payment, ManualPayment(
                "cheque", 0, "USD", cheque, date.today(), "operator:1"))
        assert err.value.cause.type == "amount_invalid"
        await invoice.execute_update(InvoiceWorkflow.record_payment, ManualPayment(
            "cheque", inp.total_minor, "USD", cheque, date.today(), "operator:1"))
        final = await invoice.result()
    assert (final.status, final.suspended, final.reminders) == ("paid", False, 4)
    assert await forwarder_of(sandboxes, line.address) == ["pat@home.example"]
    async with sessions() as session:
        order = await session.get(Order, inp.order_id)
        stored = await session.get(Invoice, stored.id)
        assert (order.status, stored.status) == ("paid", "paid")
        assert (await session.get(Client, line.client_id)).suspended_at is None
    subjects = [m["subject"] for m in mails_to(sandboxes, line.client_email)]
    total, n = Money(inp.total_minor).display(), inp.invoice_number
    assert subjects[0] == f"Invoice {n}: {total} due" and f"Your address {line.address} is ready" in subjects
    assert subjects.count(f"Reminder 3: invoice {n} is overdue") == 1
    assert subjects[-1] == f"Receipt: {total} for invoice {n}"


async def test_exempt_client_gets_the_address_and_no_invoice(ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await order_on_account(ts_env, settings, sessions, sandboxes, "exempt")
        line = inp.lines[0]
        assert (inp.invoice_id, inp.invoice_number) == (0, "")
        assert (await handle.result()).status == "exempt"
        address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
        await wait_for_status(address, AddressWorkflow.state, "active")
    assert await forwarder_of(sandboxes, line.address) == ["pat@home.example"]
    async with sessions() as session:
        order = await session.get(Order, inp.order_id)
        assert (order.billing, order.status) == ("exempt", "exempt") and order.total_minor > 0
        assert (await session.execute(select(func.count()).select_from(Invoice).where(
            Invoice.client_id == line.client_id))).scalar_one() == 0
        sub = (await session.execute(select(Subscription).where(Subscription.address == line.address))).scalar_one()
        assert sub.status == "active"
    assert [m["subject"] for m in mails_to(sandboxes, line.client_email)] == [
        f"Your address {line.address} is ready"]


async def test_a_postpaid_address_renews_by_itself_and_its_renewal_invoice_is_chased(ts_env, settings, sessions,
                                                                                    sandboxes):
    from tests.workflows.test_renewal_and_expiry import renewed_to, skip_to, subscription

    async with worker_for(ts_env, settings):
        handle, inp = await order_on_account(ts_env, settings, sessions, sandboxes, "postpaid")
        line = inp.lines[0]
        await handle.result()
        address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
        state = await wait_for_status(address, AddressWorkflow.state, "active")
        first_end = state.term_end
        cal = settings.lifecycle().calendar()
        # the renewal point (30 days before the end): renewed on account, no payment asked first
        await skip_to(ts_env, cal, first_end - timedelta(days=settings.renewal_invoice_days - 1))
        await renewed_to(sessions, line.subscription_id, first_end.replace(year=first_end.year + 1))
        async with sessions() as session:
            renewal = (await session.execute(select(Order).where(
                Order.client_id == line.client_id, Order.kind == "renewal"))).scalar_one()
            invoice = (await session.execute(select(Invoice).where(Invoice.order_id == renewal.id))).scalar_one()
        assert (renewal.billing, renewal.status, invoice.status) == ("postpaid", "invoiced", "unpaid")
        chased = ts_env.client.get_workflow_handle_for(InvoiceWorkflow.run, invoice_workflow_id(invoice.number))
        assert (await until_state(chased, lambda s: s.status == "unpaid", "renewal invoice")).due_minor > 0
    assert (await subscription(sessions, line.subscription_id)).status == "active"
    subjects = [m["subject"] for m in mails_to(sandboxes, line.client_email)]
    assert f"Invoice {invoice.number}: {Money(invoice.total_minor).display()} due" in subjects
    assert not any("expire" in s.lower() for s in subjects), subjects     # no reminder digests on account
    assert not any(s.startswith("Renewal of") for s in subjects)          # nor the prepaid renewal code
