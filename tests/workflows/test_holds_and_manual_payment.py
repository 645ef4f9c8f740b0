"""Holds and manual payment on the time-skipping server: the 30-minute hold while the customer picks
how to pay, the 14 days a cheque or wire gets, the operator's record, refusals, and cancellation.

Each test has a server of its own: waiting on these orders lets the server skip to whatever timer
comes next, and on the shared server that can be another test's address sleeping for years, after
which the registry sandbox (which counts from the real today) refuses every extension."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.service import RPCError

from core.money import Money
from store import credit
from store.models import Invoice, Payment, Subscription
from tests.support import mails_to
from tests.workflows.test_order_lifecycle import payment_of, start_order, wait_for_status, worker_for
from workflows.address import AddressWorkflow
from workflows.contracts import CancelRequest, ChooseManual, ManualPayment, address_workflow_id, invoice_workflow_id
from workflows.invoice import InvoiceWorkflow
from workflows.order import OrderWorkflow


def cheque(inp, reference: str = "CHQ-100200", amount: int | None = None) -> ManualPayment:
    return ManualPayment("cheque", inp.total_minor if amount is None else amount, inp.currency, reference,
                         date.today(), "operator:1")


async def test_hold_lapses_after_thirty_minutes_without_a_payment_method(ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes)
        state = await handle.query(OrderWorkflow.state)
        started = (await handle.describe()).start_time
        assert timedelta(minutes=29) < state.deadline - started <= timedelta(minutes=31)
        result = await handle.result()
    assert result.status == "cancelled" and result.message == "payment_deadline_passed"
    async with sessions() as session:
        sub = (await session.execute(select(Subscription).where(Subscription.address == inp.lines[0].address))).scalar_one()
    assert sub.status == "cancelled"


async def test_cheque_holds_for_fourteen_days_and_partial_cheques_add_up_with_the_excess_as_credit(
        ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes)
        line = inp.lines[0]
        how = await (await payment_of(handle)).execute_update(InvoiceWorkflow.choose_manual, ChooseManual("cheque"))
        assert how.reference == inp.invoice_number and how.amount_minor == inp.total_minor
        started = (await handle.describe()).start_time
        assert timedelta(days=13, hours=23) < how.deadline - started <= timedelta(days=14, minutes=1)
        await ts_env.sleep(timedelta(hours=2))         # well past the 30-minute hold: still held
        assert (await handle.query(OrderWorkflow.state)).status == "awaiting_payment"

        for bad, code in [(cheque(inp, amount=0), "amount_invalid"),
                          (ManualPayment("cheque", inp.total_minor, "EUR", "C-1", date.today(), "op"),
                           "amount_mismatch"),
                          (cheque(inp, reference="  "), "reference_missing"),
                          (ManualPayment("bitcoin", inp.total_minor, inp.currency, "x", date.today(), "op"),
                           "method_invalid")]:
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await (await payment_of(handle)).execute_update(InvoiceWorkflow.record_manual, bad)
            assert err.value.cause.type == code
        # part of it: the order waits for the rest
        state = await (await payment_of(handle)).execute_update(InvoiceWorkflow.record_manual, cheque(inp, "CHQ-1", inp.total_minor - 500))
        assert (state.status, state.due_minor) == ("awaiting_payment", 500) and "still due" in state.message
        with pytest.raises(WorkflowUpdateFailedError) as err:     # the same cheque entered twice
            await (await payment_of(handle)).execute_update(InvoiceWorkflow.record_manual, cheque(inp, "CHQ-1", 500))
        assert err.value.cause.type == "payment_reference_used"
        # the rest and 5.00 more: paid, and the 5.00 is credit
        await (await payment_of(handle)).execute_update(InvoiceWorkflow.record_manual, cheque(inp, "CHQ-2", 1000))
        # nothing is due any more: the invoice refuses it while its order tells the addresses; once it has
        # closed, the update cannot land at all (the API's gateway answers that as the same refusal)
        invoice = await payment_of(handle)
        try:
            await invoice.execute_update(InvoiceWorkflow.record_manual, cheque(inp, "CHQ-3", 100))
            raise AssertionError("a cheque was taken on a paid invoice")
        except WorkflowUpdateFailedError as err:
            assert err.cause.type == "order_not_payable"
        except RPCError:
            assert (await invoice.describe()).status == WorkflowExecutionStatus.COMPLETED
        assert (await handle.result()).status == "paid"
        address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
        await wait_for_status(address, AddressWorkflow.state, "active")
    async with sessions() as session:
        invoice = (await session.execute(select(Invoice).where(Invoice.order_id == inp.order_id))).scalar_one()
        paid = (await session.execute(select(Payment).where(Payment.invoice_id == invoice.id)
                                      .order_by(Payment.id))).scalars().all()
        balance = await credit.balance(session, line.client_id, inp.currency)
    assert invoice.status == "paid"
    assert [(p.method, p.reference, p.amount_minor, p.applied_minor, p.received_at.date()) for p in paid] == [
        ("cheque", "CHQ-1", inp.total_minor - 500, inp.total_minor - 500, date.today()),
        ("cheque", "CHQ-2", 1000, 500, date.today())]
    assert balance.minor == 500
    mails = mails_to(sandboxes, line.client_email)
    assert [m["subject"] for m in mails] == [
        f"Invoice {inp.invoice_number}: {Money(inp.total_minor).display()} due",
        f"Receipt: {Money(inp.total_minor - 500).display()} for invoice {inp.invoice_number}",
        f"Receipt: $10.00 for invoice {inp.invoice_number}",
        f"Your address {line.address} is ready"]
    assert "$5.00 of invoice" in mails[1]["text"] and "is now in your credit balance" in mails[2]["text"]
    assert all(m["attachments"] == [f"invoice-{inp.invoice_number}.pdf"] for m in mails[:3])


async def test_wire_never_arriving_cancels_after_fourteen_days(ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes)
        await (await payment_of(handle)).execute_update(InvoiceWorkflow.choose_manual, ChooseManual("wire"))
        result = await handle.result()
    assert result.status == "cancelled" and result.method == "wire"
    assert [m["subject"] for m in mails_to(sandboxes, inp.client_email)] == [
        f"Invoice {inp.invoice_number}: {Money(inp.total_minor).display()} due", f"Order {inp.order_id} was cancelled"]


async def test_customer_cancels_and_the_address_is_free_at_once(ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes)
        await handle.signal(OrderWorkflow.cancel, CancelRequest("cancelled at the customer's request", "client:7"))
        result = await handle.result()
        # (no update on the closed run here: the test server skips a decade waiting for its answer)
    assert result.status == "cancelled"
    async with sessions() as session:
        sub = (await session.execute(select(Subscription).where(Subscription.address == inp.lines[0].address))).scalar_one()
    assert sub.status == "cancelled"


async def test_pending_capture_holds_until_paypal_decides_and_a_denial_lets_the_buyer_pay_again(
        ts_env, settings, sessions, sandboxes):
    import httpx

    from tests.support import approve_at_paypal, sandbox_state
    from tests.workflows.test_order_lifecycle import pay
    from workflows.contracts import BeginPayPal, CaptureDenied, CaptureReported, PayPalApproved

    async with httpx.AsyncClient() as http:
        await http.post(f"{sandboxes.paypal.url}/__sandbox/pend", json={"times": 1})
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes)
        first = await pay(handle, sandboxes)
        for _ in range(100):
            state = await (await payment_of(handle)).query(InvoiceWorkflow.order_state)
            if state.status == "payment_pending":
                break
            await asyncio.sleep(0.1)
        assert state.status == "payment_pending" and state.deadline is None
        with pytest.raises(WorkflowUpdateFailedError):       # no cheque over money in flight
            await (await payment_of(handle)).execute_update(InvoiceWorkflow.record_manual, cheque(inp))
        capture_id = next(c["id"] for c in (await sandbox_state(sandboxes.paypal))["captures"]
                          if c["order_id"] == first)
        async with httpx.AsyncClient() as http:   # PayPal denies it (the webhook is only a hint to look)
            await http.post(f"{sandboxes.paypal.url}/__sandbox/captures/{capture_id}/settle", json={"outcome": "DENIED"})
        await (await payment_of(handle)).signal(InvoiceWorkflow.capture_denied, CaptureDenied(first, capture_id))
        for _ in range(100):
            state = await (await payment_of(handle)).query(InvoiceWorkflow.order_state)
            if state.status == "declined":
                break
            await asyncio.sleep(0.1)
        assert state.status == "declined" and "pay again" in state.message

        again = await (await payment_of(handle)).execute_update(InvoiceWorkflow.begin_paypal,
                                            BeginPayPal("http://shop.test/return", "http://shop.test/cancel"))
        assert again.paypal_order_id != first                # a new PayPal order, not the denied one
        await approve_at_paypal(sandboxes, again.approve_url)
        await (await payment_of(handle)).signal(InvoiceWorkflow.paypal_approved, PayPalApproved(again.paypal_order_id))
        # a late COMPLETED for the denied order's capture is not taken for this one
        await (await payment_of(handle)).signal(InvoiceWorkflow.capture_reported, CaptureReported(first, capture_id, inp.total_minor,
                                                                            inp.currency))
        assert (await handle.result()).status == "paid"
    async with sessions() as session:
        invoice = (await session.execute(select(Invoice).where(Invoice.order_id == inp.order_id))).scalar_one()
        paid = (await session.execute(select(Payment).where(Payment.invoice_id == invoice.id))).scalars().all()
    assert len(paid) == 1 and paid[0].reference != capture_id


async def test_an_order_hands_its_invoice_to_the_invoice_workflow_and_hands_on_a_cancellation(
        ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes)
        invoice = await payment_of(handle)
        assert invoice.id == invoice_workflow_id(inp.invoice_number)
        with pytest.raises(WorkflowUpdateFailedError) as err:     # the order itself takes no money now
            await handle.execute_update(OrderWorkflow.choose_manual, ChooseManual("cheque"))
        assert err.value.cause.type == "order_not_payable" and invoice.id in err.value.cause.message
        await handle.signal(OrderWorkflow.cancel, CancelRequest("cancelled at the customer's request", "client:7"))
        result = await handle.result()
        assert (result.status, result.message) == ("cancelled", "cancelled at the customer's request")
        assert (await invoice.query(InvoiceWorkflow.state)).status == "cancelled"
    async with sessions() as session:
        row = (await session.execute(select(Invoice).where(Invoice.order_id == inp.order_id))).scalar_one()
    assert row.status == "cancelled"
