"""An order's life on the time-skipping server, with the real activities against the sandboxes."""
from __future__ import annotations

import asyncio
import hashlib
from contextlib import asynccontextmanager
from datetime import date, timedelta

import httpx
from sqlalchemy import select
from temporalio.client import WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError
from temporalio.worker import Worker

from api.services.ordering import WantedAddress, place
from core.money import Money
from core.terms import add_years
from store.models import CreditNote, Invoice, MailboxSecret, Payment, Subscription
from tests.support import approve_at_paypal, faults, make_client, make_domain, mails_to, sandbox_state, unique, utcnow
from worker import WORKFLOWS, build_activities
from workflows.address import AddressWorkflow
from workflows.contracts import (
    AddressState,
    BeginPayPal,
    OrderState,
    PayPalApproved,
    address_workflow_id,
    order_workflow_id,
)
from workflows.invoice import InvoiceWorkflow
from workflows.order import OrderWorkflow


@asynccontextmanager
async def worker_for(env, settings):
    async with build_activities(settings, env.client) as activities:
        async with Worker(env.client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities):
            yield


async def start_order(env, settings, sessions, sandboxes, *, years=2, expiry=None, kind="forwarder", password=""):
    client = await make_client(sessions)
    domain = await make_domain(sessions, sandboxes, expiry=expiry)
    name = unique("mark")
    async with sessions.begin() as session:
        client = await session.merge(client)
        _, inp = await place(session, settings, client,
                             [WantedAddress(name, domain.name, kind, years, "mark@home.example", password)], utcnow())
    inp.search_attributes = False  # the time-skipping server has no custom search attributes
    handle = await env.client.start_workflow(OrderWorkflow.run, inp, id=order_workflow_id(inp.order_id),
                                             task_queue=settings.task_queue)
    return handle, inp


async def payment_of(order: WorkflowHandle) -> WorkflowHandle:
    """The workflow taking an order's payment: its invoice's (PAYMENT_CORE), once the order has
    handed it over and it answers."""
    for _ in range(300):
        paid_through = (await order.query(OrderWorkflow.state)).paid_through
        if paid_through:
            invoice = order._client.get_workflow_handle_for(InvoiceWorkflow.run, paid_through)
            try:
                await invoice.query(InvoiceWorkflow.order_state, rpc_timeout=timedelta(seconds=5))
                return invoice
            except (RPCError, WorkflowQueryFailedError):
                pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{order.id} never handed its invoice over")


async def pay(handle: WorkflowHandle, sandboxes) -> str:
    checkout = await (await payment_of(handle)).execute_update(InvoiceWorkflow.begin_paypal,
                                           BeginPayPal("http://shop.test/return", "http://shop.test/cancel"))
    await approve_at_paypal(sandboxes, checkout.approve_url)
    await (await payment_of(handle)).signal(InvoiceWorkflow.paypal_approved, PayPalApproved(checkout.paypal_order_id))
    return checkout.paypal_order_id


async def wait_for_status(handle: WorkflowHandle, query, status: str, timeout: float = 30.0):
    """Poll a typed query; after a worker dies its sticky queue answers late, so retry timeouts."""
    deadline = asyncio.get_running_loop().time() + timeout
    state = None
    while True:
        try:
            state = await handle.query(query, rpc_timeout=timedelta(seconds=5))
        except RPCError:
            state = None
        if state is not None and state.status == status:
            return state
        if asyncio.get_running_loop().time() > deadline:
            seen = f"{state.status!r} ({state.message})" if state else "no answer"
            raise AssertionError(f"still {seen}, wanted {status!r}")
        await asyncio.sleep(0.1)


async def test_paid_order_provisions_forwarder_extends_domain_and_welcomes(ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes, years=2,
                                        expiry=date.today() + timedelta(days=200))
        line = inp.lines[0]
        await pay(handle, sandboxes)
        result: OrderState = await handle.result()
        assert result.status == "paid"

        address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
        state: AddressState = await wait_for_status(address, AddressWorkflow.state, "active")

    forwarders = (await sandbox_state(sandboxes.cpanel))["forwarders"]
    assert {"address": line.address, "destination": "mark@home.example"} in forwarders
    expiry = date.fromisoformat((await sandbox_state(sandboxes.enom))["domains"][line.domain])
    assert expiry >= state.term_end + timedelta(days=30)
    assert state.term_end == add_years(state.term_start, 2)
    async with sessions() as session:
        invoice = (await session.execute(select(Invoice).where(Invoice.order_id == inp.order_id))).scalar_one()
        assert invoice.status == "paid"
        sub = (await session.execute(select(Subscription).where(Subscription.address == line.address))).scalar_one()
        assert (sub.status, sub.term_end) == ("active", state.term_end)
    mails = mails_to(sandboxes, line.client_email)
    total = Money(inp.total_minor).display()
    assert [m["subject"] for m in mails] == [f"Invoice {inp.invoice_number}: {total} due",
                                             f"Receipt: {total} for invoice {inp.invoice_number}",
                                             f"Your address {line.address} is ready"]
    assert "PayPal" in mails[1]["text"] and "paid in full" in mails[1]["text"]
    welcome = mails[2]
    assert "mark@home.example" in welcome["text"] and "mark@home.example" in welcome["html"]


async def test_whole_term_ends_with_forwarder_removed_and_address_free(ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes, years=1)
        line = inp.lines[0]
        await pay(handle, sandboxes)
        await handle.result()
        address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
        await wait_for_status(address, AddressWorkflow.state, "active")
        async with ts_env.time_skipping_unlocked():  # only handles we started skip time on their own
            final: AddressState = await address.result()
    assert final.status == "released"
    assert all(f["address"] != line.address for f in (await sandbox_state(sandboxes.cpanel))["forwarders"])
    subjects = [m["subject"] for m in mails_to(sandboxes, line.client_email)]
    # unrenewed: reminders and a renewal invoice, then expiry, and removal after the grace period
    assert subjects[:3] == [f"Invoice {inp.invoice_number}: {Money(inp.total_minor).display()} due",
                            f"Receipt: {Money(inp.total_minor).display()} for invoice {inp.invoice_number}",
                            f"Your address {line.address} is ready"]
    assert subjects[-2:] == [f"{line.address} has expired", f"{line.address} has been removed"]
    assert sum(1 for s in subjects if s.startswith(f"Renewal of {line.address}: invoice")) == 1
    assert sum(1 for s in subjects if s.endswith("will expire soon")) == 10
    async with sessions() as session:
        sub = (await session.execute(select(Subscription).where(Subscription.address == line.address))).scalar_one()
        assert sub.status == "released"


async def test_mailbox_created_with_its_password_kept_out_of_history_then_removed_at_term_end(
        ts_env, settings, sessions, sandboxes):
    password = "Tango-Fjord-7-Quill"
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes, years=1, kind="mailbox",
                                        password=password)
        line = inp.lines[0]
        await pay(handle, sandboxes)
        await handle.result()
        address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
        await wait_for_status(address, AddressWorkflow.state, "active")

        pops = {p["email"]: p for p in (await sandbox_state(sandboxes.cpanel))["pops"]}
        assert pops[line.address]["quota"] == settings.mailbox_quota_mb
        assert pops[line.address]["password_sha256"] == hashlib.sha256(password.encode()).hexdigest()
        async with sessions() as session:  # the sealed copy is gone once cPanel has it
            left = await session.execute(select(MailboxSecret).where(
                MailboxSecret.subscription_id == line.subscription_id))
            assert left.first() is None
        welcome = [m for m in mails_to(sandboxes, line.client_email) if m["subject"].endswith("is ready")]
        assert [m["subject"] for m in welcome] == [f"Your mailbox {line.address} is ready"]
        assert "IMAP" in welcome[0]["text"] and settings.mail_server_host in welcome[0]["text"]
        for wf in (handle, address):  # neither history holds the password
            history = (await wf.fetch_history()).to_json()
            assert password not in history

        async with ts_env.time_skipping_unlocked():
            final: AddressState = await address.result()
    assert final.status == "released"
    assert line.address not in {p["email"] for p in (await sandbox_state(sandboxes.cpanel))["pops"]}


async def test_mailbox_found_on_cpanel_that_we_did_not_create_waits_for_an_operator(ts_env, settings, sessions,
                                                                                    sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes, kind="mailbox",
                                        password="Tango-Fjord-7-Quill")
        line = inp.lines[0]
        local, _, domain = line.address.partition("@")
        async with httpx.AsyncClient() as http:  # someone made it by hand in cPanel meanwhile
            r = await http.get(f"{sandboxes.cpanel.url}/execute/Email/add_pop",
                               params={"email": local, "domain": domain, "password": "their-own-pass"},
                               headers={"Authorization": f"cpanel {settings.cpanel_user}:"
                                                         f"{settings.cpanel_token.get_secret_value()}"})
            assert r.json()["status"] == 1, r.text
        await pay(handle, sandboxes)
        await handle.result()
        address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
        state = await wait_for_status(address, AddressWorkflow.state, "attention")
    assert "not created by us" in state.message
    pops = {p["email"]: p for p in (await sandbox_state(sandboxes.cpanel))["pops"]}
    assert pops[line.address]["password_sha256"] == hashlib.sha256(b"their-own-pass").hexdigest()  # untouched


async def test_declined_payment_can_be_approved_again(ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes)
        async with httpx.AsyncClient() as http:
            await http.post(f"{sandboxes.paypal.url}/__sandbox/decline", json={"times": 1})
        paypal_id = await pay(handle, sandboxes)
        state = await wait_for_status(await payment_of(handle), InvoiceWorkflow.order_state, "declined")
        assert "approve it again" in state.message
        # the buyer approves again with another funding source
        await approve_at_paypal(sandboxes, f"{sandboxes.paypal.url}/checkoutnow?token={paypal_id}")
        await (await payment_of(handle)).signal(InvoiceWorkflow.paypal_approved, PayPalApproved(paypal_id))
        assert (await handle.result()).status == "paid"
        address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(inp.lines[0].address))
        await wait_for_status(address, AddressWorkflow.state, "active")  # leave no activity in flight
    captures = [c for c in (await sandbox_state(sandboxes.paypal))["captures"] if c["order_id"] == paypal_id]
    assert len(captures) == 1


async def _read_back_done(handle: WorkflowHandle, times: int) -> None:
    """Until the workflow has asked PayPal about an approval `times` times (a sync point, not an outcome)."""
    for _ in range(200):
        events = [e async for e in handle.fetch_history_events()]
        names = {e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
                 for e in events if e.HasField("activity_task_scheduled_event_attributes")}
        if sum(names.get(e.activity_task_completed_event_attributes.scheduled_event_id) == "paypal_order_status"
               for e in events if e.HasField("activity_task_completed_event_attributes")) >= times:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the workflow never asked PayPal")


async def test_an_approval_paypal_has_not_given_changes_nothing(ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes)
        checkout = await (await payment_of(handle)).execute_update(InvoiceWorkflow.begin_paypal,
                                               BeginPayPal("http://shop.test/return", "http://shop.test/cancel"))
        # told of an approval the buyer has not given (a return typed by someone, a return too early)
        await (await payment_of(handle)).signal(InvoiceWorkflow.paypal_approved, PayPalApproved(checkout.paypal_order_id))
        await _read_back_done(await payment_of(handle), 1)
        state = await (await payment_of(handle)).query(InvoiceWorkflow.order_state)
        assert (state.status, state.message, state.paypal_order_id) == ("awaiting_payment", "",
                                                                         checkout.paypal_order_id)
        assert not [c for c in (await sandbox_state(sandboxes.paypal))["captures"]
                    if c["order_id"] == checkout.paypal_order_id]
        await approve_at_paypal(sandboxes, checkout.approve_url)      # the same checkout still pays
        await (await payment_of(handle)).signal(InvoiceWorkflow.paypal_approved, PayPalApproved(checkout.paypal_order_id))
        assert (await handle.result()).status == "paid"
        address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(inp.lines[0].address))
        await wait_for_status(address, AddressWorkflow.state, "active")  # leave no activity in flight


async def test_unpaid_order_is_cancelled_at_deadline_and_address_freed(ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes)
        line = inp.lines[0]
        result = await handle.result()  # the test server skips the three hours
        assert result.status == "cancelled" and result.message == "payment_deadline_passed"
        async with ts_env.time_skipping_unlocked():
            address_state = await ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address)).result()
        assert address_state.status == "cancelled"
    async with sessions() as session:
        invoice = (await session.execute(select(Invoice).where(Invoice.order_id == inp.order_id))).scalar_one()
        assert invoice.status == "cancelled"
        note = (await session.execute(select(CreditNote).where(CreditNote.invoice_id == invoice.id))).scalar_one()
        assert (note.amount_minor, note.credited_minor) == (invoice.total_minor, 0)
        assert note.number.startswith("CN-") and "not paid by the deadline" in note.reason
        sub = (await session.execute(select(Subscription).where(Subscription.address == line.address))).scalar_one()
        assert sub.status == "cancelled"
        assert (await session.execute(select(Payment).where(Payment.invoice_id == invoice.id))).first() is None
    assert [m["subject"] for m in mails_to(sandboxes, line.client_email)] == [
        f"Invoice {inp.invoice_number}: {Money(inp.total_minor).display()} due", f"Order {inp.order_id} was cancelled"]
    # the address can be ordered again at once
    other = await make_client(sessions)
    async with sessions.begin() as session:
        other = await session.merge(other)
        await place(session, settings, other,
                    [WantedAddress(line.local_part, line.domain, "forwarder", 1, "x@y.example")], utcnow())


async def test_worker_killed_mid_provisioning_ends_with_one_forwarder_and_one_capture(
        ts_env, settings, sessions, sandboxes):
    # add_forwarder answers slowly: the first worker dies while cPanel is still working on it.
    async with faults(sandboxes.cpanel, [{"match": "add_forwarder", "times": 1, "latency_ms": 1500}]):
        async with build_activities(settings, ts_env.client) as activities:
            # no workflow cache, so no sticky queue: the test server never expires a dead worker's
            first = Worker(ts_env.client, task_queue=settings.task_queue, workflows=WORKFLOWS,
                           activities=activities, max_cached_workflows=0)
            run = asyncio.create_task(first.run())
            handle, inp = await start_order(ts_env, settings, sessions, sandboxes)
            line = inp.lines[0]
            paypal_id = await pay(handle, sandboxes)
            # wait until the slow add_forwarder request has reached cPanel, then kill the worker
            await wait_for_status(ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address)),
                                  AddressWorkflow.state, "provisioning")
            await asyncio.sleep(0.8)
            await first.shutdown()
            await run
        async with worker_for(ts_env, settings):
            address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
            await wait_for_status(address, AddressWorkflow.state, "active", timeout=120)
    cpanel = await sandbox_state(sandboxes.cpanel)
    forwarders = [f for f in cpanel["forwarders"] if f["address"] == line.address]
    assert forwarders == [{"address": line.address, "destination": "mark@home.example"}]
    # the step really ran twice: the retry looked again and found the first attempt's forwarder
    assert cpanel["calls"].count(f"list_forwarders {line.domain}") >= 2
    assert cpanel["calls"].count(f"add_forwarder {line.domain}") == 1
    captures = [c for c in (await sandbox_state(sandboxes.paypal))["captures"] if c["order_id"] == paypal_id]
    assert len(captures) == 1
    # one invoice, one receipt, one welcome: nothing twice
    assert len(mails_to(sandboxes, line.client_email)) == 3
