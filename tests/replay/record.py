"""Record workflow histories for the replay tests: `python -m tests.replay.record`.

Runs one order through payment and its address through a whole one-year term on the
time-skipping server, against in-thread sandboxes and a scratch SQLite database, and writes
each history to tests/replay/histories/<workflow>-<label>.json. From v3 the address is renewed
once from credit (its first run ends in continue-as-new), then lapses: expiry, grace, removal,
quarantine; the renewal order and the client's reminder digest are recorded too. From v4 the
client has some credit when ordering (applied to the invoice, PayPal takes the rest), and part of
the PayPal capture is refunded (the refund workflow's history). v5 (`v5 on-account`) adds clients
billed on account: a postpaid order and its invoice workflow, and an exempt order. `paypal read-back`
records an order and an invoice told of an approval PayPal has not given. v6 (`v6 paypal-truth`)
records the PAYPAL_TRUTH paths: a capture declined then approved again (a second request id), a
pending capture a webhook hint completes (read back from PayPal; a forged hint first changes
nothing), a pending refund completed, an invoice's capture taken from a hint, and a reversal's
PayPalEventWorkflow. `v6 usage-update` records the retired `mailbox_usage` update, which runs
received until the mailbox page read its read model, so that its handler stays while such runs may
live. v7 (`v7 payment-core`) records PAYMENT_CORE: orders handing their invoice to its own workflow
(paid by PayPal after credit; by cheque in two parts; cancelled by the customer; a renewal paid by
PayPal), each order with its invoice's run, and a postpaid order's chased invoice again. Record anew
only when a deliberate, versioned change (workflow.patched) makes it right to add a history, never
to replace one that running subscriptions still depend on.
"""
from __future__ import annotations

import asyncio
import json
import sys
from contextlib import asynccontextmanager
import tempfile
from datetime import date, timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import httpx
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError

from api.services.ordering import WantedAddress, place
from core.billing import Line
from core.money import Money
from store import credit, destinations, dunning, secrets
from store.secrets import SecretBox
from store.invoicing import InvoiceTerms, Item
from store.models import Order, Subscription
from store.db import make_engine, make_sessionmaker
from store.migrate import upgrade
from tests.support import TEST_SERVER, approve_at_paypal, make_client, make_domain, settings_for, start_sandboxes, utcnow
from worker import WORKFLOWS, build_activities
from workflows.contracts import (CAPTURE_REPORTED, PAYPAL_EVENT_WORKFLOW, REFUND_CHANGED, REFUND_STATE,
                                 CaptureReported, PayPalEvent, RefundOutcome, paypal_event_workflow_id)
from workflows.contracts import MAILBOX_USAGE, MailboxRef, MailboxUsageState
from workflows.contracts import (BEGIN_PAYPAL, DESTINATION_CONFIRMED, DESTINATION_REQUESTED, MAILBOX_PASSWORD,
                                 PAY_INVOICE_WITH_CREDIT, PAYPAL_APPROVED, RECORD_INVOICE_PAYMENT, SET_AUTORESPONDER,
                                 STATE, AddressState, Autoresponder, DestinationConfirmation, DestinationRequest,
                                 MailboxPasswordChanged, BeginPayPal, Dunning, InvoiceInput, ManualPayment, PayPalApproved, PayPalCheckout,
                                 PayWithCredit, RefundInput,
                                 invoice_workflow_id, address_workflow_id, digest_workflow_id, order_workflow_id,
                                 refund_workflow_id)

OUT = Path(__file__).resolve().parent / "histories"


@asynccontextmanager
async def recording():
    """Sandboxes, a scratch SQLite database, a time-skipping server and a worker on them."""
    boxes = start_sandboxes()
    db = Path(tempfile.mkdtemp()) / "record.db"
    upgrade(f"sqlite:///{db}")
    settings = settings_for(boxes, f"sqlite:///{db}")
    engine = make_engine(settings.async_database_url)
    sessions = make_sessionmaker(engine)
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=str(TEST_SERVER),
                                                        data_converter=pydantic_data_converter)
    try:
        async with build_activities(settings, env.client) as activities:
            async with Worker(env.client, task_queue=settings.task_queue, workflows=WORKFLOWS, activities=activities):
                yield boxes, settings, sessions, env
    finally:
        await env.shutdown()
        await engine.dispose()
        boxes.stop()


async def main(label: str) -> None:
    async with recording() as (boxes, settings, sessions, env):
        client = await make_client(sessions)
        domain = await make_domain(sessions, boxes)
        async with sessions.begin() as session:   # applied to the new invoice; PayPal takes the rest
            await credit.adjust(session, client_id=client.id, amount=Money(500, "USD"), reason="record",
                                actor="record", reference=f"record-{label}-first")
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
        refund = await env.client.start_workflow(
            "RefundWorkflow", RefundInput(f"record-{label}", inp.invoice_number, 100, "USD", "record", "record"),
            id=refund_workflow_id(inp.invoice_number, f"record-{label}"), task_queue=settings.task_queue)
        await refund.result()
        invoice_run = await record_custom_invoice(env, settings, sessions, client)
        address = env.client.get_workflow_handle(address_workflow_id(inp.lines[0].address))
        async with sessions.begin() as session:   # enough credit for one renewal
            await credit.adjust(session, client_id=client.id, amount=Money(1200, "USD"), reason="record",
                                actor="record", reference=f"record-{label}")
        async with env.time_skipping_unlocked():
            await address.result()
        histories = {"order": order, "address": address, "refund": refund, "invoice": invoice_run}
        last = await address.fetch_history()
        started = last.events[0].workflow_execution_started_event_attributes
        if started.continued_execution_run_id:
            first = env.client.get_workflow_handle(address.id, run_id=started.continued_execution_run_id)
            histories = {"order": order, "refund": refund, "invoice": invoice_run,
                         "address-term1": first, "address": address,
                         "digest": env.client.get_workflow_handle(digest_workflow_id(client.id))}
            async with sessions() as session:
                renewal = (await session.execute(select(Order.id).where(
                    Order.kind == "renewal", Order.client_id == client.id).order_by(Order.id))).scalars().first()
            histories["order-renewal"] = env.client.get_workflow_handle(order_workflow_id(renewal))
        for name, handle in histories.items():
            kind, _, part = name.partition("-")
            history = await handle.fetch_history()
            (OUT / f"{kind}-{label}{'-' + part if part else ''}.json").write_text(history.to_json())


async def record_custom_invoice(env, settings, sessions, client):
    """An operator's invoice: issued, one reminder before it is due, then paid by cheque in two parts."""
    now = await env.get_current_time()
    async with sessions.begin() as session:
        invoice = await dunning.create_custom_invoice(session, await session.merge(client),
                                                      [Item(Line("Support", 2, Money(4500, "USD")))], now=now,
                                                      due_at=now + timedelta(days=10), terms=InvoiceTerms(),
                                                      actor="record")
    handle = await env.client.start_workflow(
        "InvoiceWorkflow", InvoiceInput(invoice.id, invoice.number, client.id, client.email, client.name,
                                        invoice.total_minor, "USD", invoice.due_at, Dunning(3, [7], 0)),
        id=invoice_workflow_id(invoice.number), task_queue=settings.task_queue)
    await env.sleep(timedelta(days=8))
    for reference, amount in (("REC-1", 4000), ("REC-2", invoice.total_minor - 4000)):
        await handle.execute_update(RECORD_INVOICE_PAYMENT, ManualPayment("cheque", amount, "USD", reference,
                                                                          date.today(), "record"))
    await handle.result()
    return handle


async def on_account(label: str) -> None:
    """v5, clients billed on account: a postpaid order (its addresses start at once) and the invoice
    workflow it hands its invoice to, paid partly from credit, partly by cheque, the rest with PayPal;
    an exempt order (no invoice). `python -m tests.replay.record v5 on-account`."""
    histories = {}
    async with recording() as (boxes, settings, sessions, env):
        domain = await make_domain(sessions, boxes)
        for mode, name in (("postpaid", "paula"), ("exempt", "ezra")):
            client = await make_client(sessions)
            async with sessions.begin() as session:
                client = await session.merge(client)
                client.billing_mode, client.apply_credit = mode, False
                _, inp = await place(session, settings, client, [WantedAddress(
                    name, domain.name, "forwarder", 1, f"{name}@home.example")], utcnow())
            inp.search_attributes = False
            order = await env.client.start_workflow("OrderWorkflow", inp, id=order_workflow_id(inp.order_id),
                                                    task_queue=settings.task_queue)
            await order.result()
            histories[f"order-{label}-{mode}"] = order
            if mode == "postpaid":
                invoice = env.client.get_workflow_handle(invoice_workflow_id(inp.invoice_number))
                async with sessions.begin() as session:
                    await credit.adjust(session, client_id=client.id, amount=Money(300, "USD"),
                                        reason="record", actor="record", reference=f"record-{label}-pp")
                await invoice.execute_update(PAY_INVOICE_WITH_CREDIT, PayWithCredit("record"))
                await invoice.execute_update(RECORD_INVOICE_PAYMENT, ManualPayment(
                    "cheque", 200, "USD", "REC-PP", date.today(), "record"))
                await pay_by_paypal(boxes, invoice)
                await invoice.result()
                histories[f"invoice-{label}-postpaid"] = invoice
        for name, handle in histories.items():
            (OUT / f"{name}.json").write_text((await handle.fetch_history()).to_json())


async def _until(handle, done, tries: int = 300) -> AddressState:
    for _ in range(tries):
        state = await handle.query(STATE, result_type=AddressState)
        if done(state):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(state)


async def _active_on_account(env, settings, sessions, client, wanted: list[WantedAddress]):
    """The addresses ordered by an exempt client, once each is active; the client, merged."""
    async with sessions.begin() as session:
        client = await session.merge(client)
        client.billing_mode = "exempt"
        _, inp = await place(session, settings, client, wanted, utcnow())
    inp.search_attributes = False
    order = await env.client.start_workflow("OrderWorkflow", inp, id=order_workflow_id(inp.order_id),
                                            task_queue=settings.task_queue)
    await order.result()
    for line in inp.lines:
        await _until(env.client.get_workflow_handle(address_workflow_id(line.address)), lambda s: s.status == "active")
    return client


async def changes(label: str) -> None:
    """v6, changes at cPanel that fail for good (patch change-outcomes-v1): a mailbox whose automatic
    reply cPanel refuses, then a new password that goes through; a forwarder whose confirmed change
    of destination is refused when applied, as it would close a circle with a forwarder pointing at
    it. Both runs are recorded while still active. `python -m tests.replay.record v6 changes`."""
    async with recording() as (boxes, settings, sessions, env):
        domain = await make_domain(sessions, boxes)
        client = await make_client(sessions)
        d = domain.name
        for wanted in ([WantedAddress("mona", d, "mailbox", 1, "", "Tango-Fjord-7-Quill"),
                        WantedAddress("fred", d, "forwarder", 1, "fred@home.example")],
                       [WantedAddress("gina", d, "forwarder", 1, f"fred@{d}")]):   # once fred is in use
            client = await _active_on_account(env, settings, sessions, client, wanted)
        mona, fred = (env.client.get_workflow_handle(address_workflow_id(f"{n}@{d}")) for n in ("mona", "fred"))

        refusal = {"status": 0, "errors": ["You do not have the feature \u201cautoresponders\u201d."], "data": None}
        async with httpx.AsyncClient() as admin:
            await admin.post(f"{boxes.cpanel.url}/__sandbox/faults", json=[{
                "match": "add_auto_responder", "times": 1, "status": 200, "body": json.dumps(refusal)}])
        try:
            await mona.execute_update(SET_AUTORESPONDER, Autoresponder(True, "Away", "I am away.", 24,
                                                                       actor="record"), result_type=Autoresponder)
            raise AssertionError("cPanel's refusal did not reach the update")
        except WorkflowUpdateFailedError:
            pass
        async with sessions.begin() as session:
            sub = (await session.execute(select(Subscription).where(Subscription.address == f"mona@{d}"))).scalar_one()
            await secrets.keep_mailbox_password(session, SecretBox(settings.secrets_key.get_secret_value()), sub.id,
                                                "Violet-Harbor-42-Kite")
        await mona.signal(MAILBOX_PASSWORD, MailboxPasswordChanged("record"))
        await _until(mona, lambda s: s.last_change is not None and s.last_change.what == "password")

        async with sessions.begin() as session:
            sub = (await session.execute(select(Subscription).where(Subscription.address == f"fred@{d}"))).scalar_one()
            change = await destinations.request_change(session, sub, f"gina@{d}", now=utcnow(),
                                                       ttl=timedelta(hours=48), actor="record")
        await fred.signal(DESTINATION_REQUESTED, DestinationRequest(change.id, f"gina@{d}"))
        await fred.signal(DESTINATION_CONFIRMED, DestinationConfirmation(change.id))
        state = await _until(fred, lambda s: s.last_change is not None)
        assert not state.last_change.ok and state.destination == "fred@home.example", state
        for name, handle in (("mailbox-refused", mona), ("destination-refused", fred)):
            (OUT / f"address-{label}-{name}.json").write_text((await handle.fetch_history()).to_json())


async def usage_update(label: str) -> None:
    """The retired `mailbox_usage` update, as runs received it on each view of the mailbox page until
    the page read the `mailbox_usage` read model instead: the handler stays while this history (and
    runs like it) may need it. Recorded while active. `python -m tests.replay.record v6 usage-update`."""
    async with recording() as (boxes, settings, sessions, env):
        domain = await make_domain(sessions, boxes)
        await _active_on_account(env, settings, sessions, await make_client(sessions),
                                 [WantedAddress("nora", domain.name, "mailbox", 1, "", "Tango-Fjord-7-Quill")])
        nora = env.client.get_workflow_handle(address_workflow_id(f"nora@{domain.name}"))
        for _ in range(2):
            usage = await nora.execute_update(MAILBOX_USAGE, MailboxRef(f"nora@{domain.name}"),
                                              result_type=MailboxUsageState)
            assert usage.quota_mb == settings.mailbox_quota_mb, usage
        (OUT / f"address-{label}-usage-update.json").write_text((await nora.fetch_history()).to_json())


async def account_email(label: str) -> None:
    """v6, the account email workflow (the sign-up link). `python -m tests.replay.record v6 account-email`."""
    from workflows.contracts import ACCOUNT_EMAIL_WORKFLOW, SendNotification, account_email_workflow_id

    async with recording() as (boxes, settings, sessions, env):
        client = await make_client(sessions)
        note = SendNotification(key=f"signup:{client.id}", template="account_confirm", to=client.email,
                                client_id=client.id, context={"name": client.name, "email": client.email,
                                                              "link": "http://r/signup/confirm/x",
                                                              "login_url": "http://r/login"})
        handle = await env.client.start_workflow(ACCOUNT_EMAIL_WORKFLOW, note,
                                                 id=account_email_workflow_id(note.key), task_queue=settings.task_queue)
        await handle.result()
        (OUT / f"account-{label}.json").write_text((await handle.fetch_history()).to_json())


async def read_back(label: str) -> None:
    """`paypal-approval-read-back`: an order and an operator's invoice each told of an approval the
    payer has not given (PayPal is asked, nothing changes), then approved and paid.
    `python -m tests.replay.record paypal read-back` writes order-/invoice-paypal-read-back.json."""
    histories = {}
    async with recording() as (boxes, settings, sessions, env):
        client = await make_client(sessions)
        domain = await make_domain(sessions, boxes)
        async with sessions.begin() as session:
            client = await session.merge(client)
            _, inp = await place(session, settings, client,
                                 [WantedAddress("rita", domain.name, "forwarder", 1, "rita@home.example")], utcnow())
        inp.search_attributes = False
        order = await env.client.start_workflow("OrderWorkflow", inp, id=order_workflow_id(inp.order_id),
                                                task_queue=settings.task_queue)
        now = await env.get_current_time()
        async with sessions.begin() as session:
            invoice = await dunning.create_custom_invoice(session, await session.merge(client),
                                                          [Item(Line("Support", 1, Money(4500, "USD")))], now=now,
                                                          due_at=now + timedelta(days=10), terms=InvoiceTerms(),
                                                          actor="record")
        invoice_run = await env.client.start_workflow(
            "InvoiceWorkflow", InvoiceInput(invoice.id, invoice.number, client.id, client.email, client.name,
                                            invoice.total_minor, "USD", invoice.due_at, Dunning(0, [], 0)),
            id=invoice_workflow_id(invoice.number), task_queue=settings.task_queue)
        for handle in (order, invoice_run):
            checkout = await handle.execute_update(BEGIN_PAYPAL, BeginPayPal("http://r/ok", "http://r/no"),
                                                   result_type=PayPalCheckout)
            await handle.signal(PAYPAL_APPROVED, PayPalApproved(checkout.paypal_order_id))   # not approved yet
            await asyncio.sleep(2)
            await approve_at_paypal(boxes, checkout.approve_url)
            await handle.signal(PAYPAL_APPROVED, PayPalApproved(checkout.paypal_order_id))
            await handle.result()
        histories = {f"order-{label}": order, f"invoice-{label}": invoice_run}
        for name, handle in histories.items():
            (OUT / f"{name}.json").write_text((await handle.fetch_history()).to_json())


async def paypal_truth(label: str) -> None:
    """v6, PayPal webhooks read back: see the module docstring. `python -m tests.replay.record v6 paypal-truth`."""
    histories = {}
    async with recording() as (boxes, settings, sessions, env):
        admin = httpx.AsyncClient(base_url=boxes.paypal.url)
        domain = await make_domain(sessions, boxes)
        client = await make_client(sessions)
        orders = []
        for name in ("dora", "pete"):
            inp, handle = await start_order(env, settings, sessions, client, domain, name)
            checkout = await handle.execute_update(BEGIN_PAYPAL, BeginPayPal("http://r/ok", "http://r/no"),
                                                   result_type=PayPalCheckout)
            orders.append((inp, handle, checkout))

        inp, declined, checkout = orders[0]          # declined, then approved again with another card
        await admin.post("/__sandbox/decline", json={"times": 1})
        await approve_at_paypal(boxes, checkout.approve_url)
        await declined.signal(PAYPAL_APPROVED, PayPalApproved(checkout.paypal_order_id))
        await until_state(declined, lambda s: s.status == "declined")
        await approve_at_paypal(boxes, checkout.approve_url)
        await declined.signal(PAYPAL_APPROVED, PayPalApproved(checkout.paypal_order_id))
        await declined.result()
        histories[f"order-{label}-declined"] = declined

        inp, pending, checkout = orders[1]           # pending; a forged hint, then PayPal completes it
        await admin.post("/__sandbox/pend", json={"times": 1})
        await approve_at_paypal(boxes, checkout.approve_url)
        await pending.signal(PAYPAL_APPROVED, PayPalApproved(checkout.paypal_order_id))
        await until_state(pending, lambda s: s.status == "payment_pending")
        await pending.signal(CAPTURE_REPORTED, CaptureReported(checkout.paypal_order_id, "FORGED0001", 1200, "USD"))
        capture = next(c for c in (await admin.get("/__sandbox/state")).json()["captures"]
                       if c["order_id"] == checkout.paypal_order_id)
        await until_history(pending, "confirm_paypal_capture")
        await admin.post(f"/__sandbox/captures/{capture['id']}/settle", json={"outcome": "COMPLETED"})
        await pending.signal(CAPTURE_REPORTED, CaptureReported(checkout.paypal_order_id, capture["id"], 0, ""))
        await pending.result()
        histories[f"order-{label}-pending"] = pending

        await admin.post("/__sandbox/refund_pending", json={"times": 1})
        refund = await env.client.start_workflow(
            "RefundWorkflow", RefundInput(f"record-{label}", inp.invoice_number, 100, "USD", "record", "record"),
            id=refund_workflow_id(inp.invoice_number, f"record-{label}"), task_queue=settings.task_queue,
            result_type=RefundOutcome)
        for _ in range(100):
            first = await refund.query(REFUND_STATE, result_type=RefundOutcome)
            if first.status:
                break
            await asyncio.sleep(0.1)
        assert first.status == "pending", first
        await admin.post(f"/__sandbox/refunds/{first.paypal_refund_id}/settle", json={"outcome": "COMPLETED"})
        await refund.signal(REFUND_CHANGED)
        assert (await refund.result()).status == "completed"
        histories[f"refund-{label}-pending"] = refund

        now = await env.get_current_time()
        async with sessions.begin() as session:   # an operator's invoice paid by PayPal, told by webhook
            invoice = await dunning.create_custom_invoice(session, await session.merge(client),
                                                          [Item(Line("Support", 1, Money(4500, "USD")))], now=now,
                                                          due_at=now + timedelta(days=10), terms=InvoiceTerms(),
                                                          actor="record")
        chased = await env.client.start_workflow(
            "InvoiceWorkflow", InvoiceInput(invoice.id, invoice.number, client.id, client.email, client.name,
                                            invoice.total_minor, "USD", invoice.due_at, Dunning(0, [], 0)),
            id=invoice_workflow_id(invoice.number), task_queue=settings.task_queue)
        checkout = await chased.execute_update(BEGIN_PAYPAL, BeginPayPal("http://r/ok", "http://r/no"),
                                               result_type=PayPalCheckout)
        await admin.post("/__sandbox/pend", json={"times": 1})
        await approve_at_paypal(boxes, checkout.approve_url)
        await chased.signal(PAYPAL_APPROVED, PayPalApproved(checkout.paypal_order_id))
        await until_history(chased, "capture_paypal_order")
        capture = next(c for c in (await admin.get("/__sandbox/state")).json()["captures"]
                       if c["order_id"] == checkout.paypal_order_id)
        await admin.post(f"/__sandbox/captures/{capture['id']}/settle", json={"outcome": "COMPLETED"})
        await chased.signal(CAPTURE_REPORTED, CaptureReported(checkout.paypal_order_id, capture["id"], 0, ""))
        await chased.result()
        histories[f"invoice-{label}-hint"] = chased

        paid = next(c for c in (await admin.get("/__sandbox/state")).json()["captures"]
                    if c["order_id"] == orders[0][2].paypal_order_id)
        reversal = (await admin.post(f"/__sandbox/captures/{paid['id']}/reverse")).json()
        event = await env.client.start_workflow(
            PAYPAL_EVENT_WORKFLOW, PayPalEvent(f"WH-RECORD-{label}", "PAYMENT.CAPTURE.REVERSED", reversal["id"]),
            id=paypal_event_workflow_id(f"WH-RECORD-{label}"), task_queue=settings.task_queue)
        await event.result()
        histories[f"paypalevent-{label}-reversal"] = event
        await admin.aclose()
        for name, handle in histories.items():
            (OUT / f"{name}.json").write_text((await handle.fetch_history()).to_json())


async def pay_by_paypal(boxes, handle) -> None:
    """A checkout begun on the workflow taking the payment, approved at PayPal, and it told so."""
    checkout = await handle.execute_update(BEGIN_PAYPAL, BeginPayPal("http://r/ok", "http://r/no"),
                                           result_type=PayPalCheckout)
    await approve_at_paypal(boxes, checkout.approve_url)
    await handle.signal(PAYPAL_APPROVED, PayPalApproved(checkout.paypal_order_id))


async def start_order(env, settings, sessions, client, domain, name: str):
    """One forwarder `name@domain` ordered for a year by `client`, and its order's run."""
    async with sessions.begin() as session:
        _, inp = await place(session, settings, await session.merge(client), [WantedAddress(
            name, domain.name, "forwarder", 1, f"{name}@home.example")], utcnow())
    inp.search_attributes = False
    return inp, await env.client.start_workflow("OrderWorkflow", inp, id=order_workflow_id(inp.order_id),
                                                task_queue=settings.task_queue)


async def until_state(handle, done) -> None:
    from workflows.contracts import STATE, OrderState
    for _ in range(100):
        if done(await handle.query(STATE, result_type=OrderState)):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("workflow never got there")


async def until_history(handle, activity_type: str) -> None:
    """Until an activity of that type has completed in the run."""
    for _ in range(100):
        events = (await handle.fetch_history()).events
        scheduled = {e.event_id for e in events
                     if e.activity_task_scheduled_event_attributes.activity_type.name == activity_type}
        if any(e.activity_task_completed_event_attributes.scheduled_event_id in scheduled for e in events
               if e.HasField("activity_task_completed_event_attributes")):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {activity_type} completed")


if __name__ == "__main__":
    if sys.argv[2:] == ["on-account"]:
        asyncio.run(on_account(sys.argv[1]))
    elif sys.argv[2:] == ["changes"]:
        asyncio.run(changes(sys.argv[1]))
    elif sys.argv[2:] == ["usage-update"]:
        asyncio.run(usage_update(sys.argv[1]))
    elif sys.argv[2:] == ["account-email"]:
        asyncio.run(account_email(sys.argv[1]))
    elif sys.argv[2:] == ["paypal-truth"]:
        asyncio.run(paypal_truth(sys.argv[1]))
    elif sys.argv[2:] == ["payment-core"]:
        from tests.replay.record_payment import payment_core
        asyncio.run(payment_core(sys.argv[1]))
    elif sys.argv[2:] == ["read-back"]:
        asyncio.run(read_back(f"{sys.argv[1]}-read-back"))
    else:
        asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "v1"))
