"""A forwarder's whole life on the time-skipping server, with the real activities against the
sandboxes: five two-year terms over ten years, every reminder date, renewal from the credit balance,
by PayPal before the term ends, by the renewal code during grace, cancellation, expiry, removal,
quarantine and resale; and a worker killed in the middle of an expiry."""
from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.service import RPCError
from temporalio.worker import Worker

from api.services.ordering import WantedAddress, place
from api.services.renewals import Renewals
from core.errors import BusinessError
from core.lifecycle import parse_ladder, ladder
from core.money import Money
from core.terms import add_years
from store import credit
from store.models import OutboundEmail, Reminder, Subscription
from tests.support import (approve_at_paypal, faults, mail_arrives, make_client, make_domain, mails_to, sandbox_state,
                           unique)
from tests.workflows.test_order_lifecycle import pay, payment_of, wait_for_status, worker_for
from worker import WORKFLOWS, build_activities
from workflows.address import AddressWorkflow
from workflows.contracts import (
    AddressState,
    BeginPayPal,
    CancelAtTermEnd,
    PayPalApproved,
    address_workflow_id,
    order_workflow_id,
)
from workflows.invoice import InvoiceWorkflow
from workflows.order import OrderWorkflow

HOUR = 9.0    # reminders go out at 09:00 UTC


async def skip_to(env, cal, day: date, hour: float = 12.0, registry=None) -> None:
    """Let the server's clock run (firing every timer on the way) to `hour` o'clock of `day`; the
    registry's calendar moves along, so its 10-year limit counts from the same day."""
    now = await env.get_current_time()
    target = cal.at(day, hour)
    assert target > now, f"already past {day} {hour}h"
    if registry is not None:
        async with httpx.AsyncClient() as http:
            (await http.post(f"{registry.url}/__sandbox/clock", json={"today": day.isoformat()})).raise_for_status()
    request = SleepRequest()
    request.duration.FromTimedelta(target - now)
    try:   # env.sleep, with a deadline long enough for two years of steps on a busy machine
        await env.client.test_service.unlock_time_skipping_with_sleep(request, timeout=timedelta(seconds=60))
    except RPCError:
        raise AssertionError(f"the test server's clock is stuck at {await env.get_current_time()}") from None


async def digest_steps(sessions, sub_id: int, term_end: date) -> dict[str, str]:
    """threshold -> the digest key (which carries the day it went out) for one term's reminders."""
    async with sessions() as session:
        rows = (await session.execute(select(Reminder).where(
            Reminder.subscription_id == sub_id, Reminder.term_end == term_end))).scalars()
        return {r.threshold: r.digest_key for r in rows if r.digest_key and r.digest_key != "skipped"}


def expected(client_id: int, term_end: date, labels: list[str]) -> dict[str, str]:
    steps = {t.label: d for d, t in ladder(term_end, parse_ladder(labels))}
    return {label: f"digest:{client_id}:{steps[label].isoformat()}" for label in labels}


async def pay_renewal_by_paypal(env, sandboxes, order_id: int) -> None:
    handle = env.client.get_workflow_handle_for(OrderWorkflow.run, order_workflow_id(order_id))
    checkout = await (await payment_of(handle)).execute_update(InvoiceWorkflow.begin_paypal,
                                           BeginPayPal("http://shop.test/return", "http://shop.test/cancel"))
    await approve_at_paypal(sandboxes, checkout.approve_url)
    await (await payment_of(handle)).signal(InvoiceWorkflow.paypal_approved, PayPalApproved(checkout.paypal_order_id))
    assert (await wait_for_status(handle, OrderWorkflow.state, "paid")).method == "paypal"
    # wait for the order's run to close too: a long skip begun while it is closing can leave the
    # test server's time skipping locked
    assert (await handle.result()).status == "paid"


async def renewed_to(sessions, sub_id: int, end: date) -> None:
    """Wait (in the database) for the renewal to land. The address's workflow is left alone meanwhile:
    a query racing its continue-as-new can leave the test server's time skipping locked for good."""
    for _ in range(300):
        sub = await subscription(sessions, sub_id)
        if sub.term_end == end and sub.status == "active":
            await asyncio.sleep(0.5)   # the run closes and continues as new right after this write
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never renewed to {end}")


async def subscription(sessions, sub_id: int) -> Subscription:
    async with sessions() as session:
        return await session.get(Subscription, sub_id)


@pytest.mark.timeout(600)
async def test_ten_years_of_one_address(ts_env, settings, sessions, sandboxes):
    env = ts_env
    settings = settings.model_copy(update={"renewal_invoice_days": 20})
    cal = settings.calendar()
    full = list(settings.reminder_ladder)
    client = await make_client(sessions)
    domain = await make_domain(sessions, sandboxes, expiry=date.today() + timedelta(days=400))
    name = unique("life")
    async with sessions.begin() as session:
        client = await session.merge(client)
        _, inp = await place(session, settings, client, [WantedAddress(name, domain.name, "forwarder", 2,
                                                                         "mark@home.example")],
                             await env.get_current_time())
    inp.search_attributes = False
    line = inp.lines[0]
    sub_id = line.subscription_id

    async with worker_for(env, settings):
        order = await env.client.start_workflow(OrderWorkflow.run, inp, id=order_workflow_id(inp.order_id),
                                                task_queue=settings.task_queue)
        await pay(order, sandboxes)
        address = env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
        state: AddressState = await wait_for_status(address, AddressWorkflow.state, "active")
        end1 = state.term_end
        assert end1 == add_years(state.term_start, 2)

        # Term 1: credit covers the renewal, so the invoice 20 days out is paid from the balance and
        # the reminders stop (3m, 2m and 1m went out; 15d and later never do).
        async with sessions.begin() as session:
            await credit.adjust(session, client_id=client.id, amount=Money(2400, "USD"), reason="prepaid",
                                actor="operator:test", reference=unique("adj"))
        await skip_to(env, cal, end1 - timedelta(days=19), registry=sandboxes.enom)
        state = await wait_for_status(address, AddressWorkflow.state, "active")
        end2 = add_years(end1, 2)
        assert (state.term_start, state.term_end) == (end1, end2)
        assert await digest_steps(sessions, sub_id, end1) == expected(client.id, end1, ["3m", "2m", "1m"])
        async with sessions() as session:
            assert (await credit.balance(session, client.id, "USD")).minor == 0

        # Term 2: no credit left. The renewal invoice waits; the ladder runs on to 4 days before the
        # end, when the client pays by PayPal.
        await skip_to(env, cal, end2 - timedelta(days=4), registry=sandboxes.enom)
        term2_order = (await address.query(AddressWorkflow.state)).renewal_order_id
        assert term2_order is not None
        await pay_renewal_by_paypal(env, sandboxes, term2_order)
        end3 = add_years(end2, 2)
        await renewed_to(sessions, sub_id, end3)
        assert await digest_steps(sessions, sub_id, end2) == expected(
            client.id, end2, ["3m", "2m", "1m", "15d", "5d", "4d"])

        # Term 3: nobody pays. Every step of the ladder goes out, the expiry day included; the next
        # day the forwarder bounces and the client is told; ten days into grace they confirm with
        # the code from the renewal invoice (staff are told) and pay after all.
        await skip_to(env, cal, end3 + timedelta(days=1), 1.0, registry=sandboxes.enom)
        state = await wait_for_status(address, AddressWorkflow.state, "expired")
        assert (state.term_start, state.term_end) == (end2, end3)
        assert state.grace_until == end3 + timedelta(days=settings.grace_days)
        assert await digest_steps(sessions, sub_id, end3) == expected(client.id, end3, full)
        lines = [f for f in (await sandbox_state(sandboxes.cpanel))["forwarders"] if f["address"] == line.address]
        assert len(lines) == 1 and lines[0]["destination"].startswith(":fail:")
        assert (await subscription(sessions, sub_id)).status == "expired"
        await skip_to(env, cal, end3 + timedelta(days=10), registry=sandboxes.enom)
        invoice_mail = [m for m in mails_to(sandboxes, client.email) if m["subject"].startswith("Renewal of")][-1]
        code = re.search(r"renewal code is (\S+)\.", invoice_mail["text"]).group(1)
        answer = await Renewals(settings, sessions, env.client).by_code(code, "203.0.113.9", "confirmed")
        assert (answer.decision, answer.order_id) == ("confirmed", state.renewal_order_id)
        # the address's workflow tells staff
        await mail_arrives(sandboxes, "operator@mailmarket.test", f"Renewal confirmed: {line.address}",
                           "staff were not told of the confirmation", tries=100, pause=0.1)
        await pay_renewal_by_paypal(env, sandboxes, state.renewal_order_id)
        end4 = add_years(end3, 2)   # counted from the old end, not from the day of payment
        await renewed_to(sessions, sub_id, end4)
        lines = [f for f in (await sandbox_state(sandboxes.cpanel))["forwarders"] if f["address"] == line.address]
        assert lines == [{"address": line.address, "destination": "mark@home.example"}]

        # Term 4: renewed from credit once more; then the client cancels term 5 at once.
        async with sessions.begin() as session:
            await credit.adjust(session, client_id=client.id, amount=Money(2400, "USD"), reason="prepaid again",
                                actor="operator:test", reference=unique("adj"))
        await skip_to(env, cal, end4 - timedelta(days=19), registry=sandboxes.enom)
        end5 = add_years(end4, 2)
        state = await wait_for_status(address, AddressWorkflow.state, "active")
        assert state.term_end == end5
        state = await address.execute_update(AddressWorkflow.cancel_at_term_end, CancelAtTermEnd("client:test"))
        assert state.cancel_at_term_end
        assert (await subscription(sessions, sub_id)).cancel_at_term_end

        # Term 5 runs to its end with no reminder and no renewal invoice, expires, and at the end of
        # grace is removed from cPanel and quarantined; nobody can buy it until the quarantine ends.
        grace_end = end5 + timedelta(days=settings.grace_days)
        await skip_to(env, cal, grace_end + timedelta(days=2), registry=sandboxes.enom)
        state = await wait_for_status(address, AddressWorkflow.state, "quarantined")
        assert state.quarantine_until == grace_end + timedelta(days=settings.quarantine_days)
        assert await digest_steps(sessions, sub_id, end5) == {}
        assert not [f for f in (await sandbox_state(sandboxes.cpanel))["forwarders"] if f["address"] == line.address]
        other = await make_client(sessions)
        with pytest.raises(BusinessError) as refused:
            async with sessions.begin() as session:
                await place(session, settings, await session.merge(other),
                            [WantedAddress(line.local_part, line.domain, "forwarder", 1, "x@y.example")],
                            await env.get_current_time())
        assert refused.value.code == "address_taken"

        async with env.time_skipping_unlocked():
            final: AddressState = await address.result()
    assert final.status == "released"
    assert (await subscription(sessions, sub_id)).status == "released"
    async with httpx.AsyncClient() as http:
        await http.post(f"{sandboxes.enom.url}/__sandbox/clock", json={"today": None})
    async with sessions.begin() as session:   # resold
        await place(session, settings, await session.merge(other),
                    [WantedAddress(line.local_part, line.domain, "forwarder", 1, "x@y.example")],
                    await env.get_current_time())

    subjects = [m["subject"] for m in mails_to(sandboxes, client.email)]
    renewed = [s for s in subjects if s.startswith(f"{line.address} is renewed")]
    assert len(renewed) == 4
    assert subjects.count(f"{line.address} has expired") == 2
    assert subjects.count(f"{line.address} has been removed") == 1
    assert subjects.count(f"{line.address} is cancelled") == 1
    assert len([s for s in subjects if "will expire soon" in s]) == 3 + 6 + 10 + 3
    async with sessions() as session:   # one digest a day at most, never the same key twice
        keys = [k for (k,) in (await session.execute(select(OutboundEmail.key).where(
            OutboundEmail.client_id == client.id, OutboundEmail.key.like("digest:%"))))]
        assert len(keys) == len(set(keys)) == 22


async def test_worker_killed_while_suspending_an_expired_forwarder_resumes_without_duplicates(
        ts_env, settings, sessions, sandboxes):
    env = ts_env
    cal = settings.calendar()
    client = await make_client(sessions)
    domain = await make_domain(sessions, sandboxes)
    async with sessions.begin() as session:
        _, inp = await place(session, settings, await session.merge(client),
                             [WantedAddress(unique("kill"), domain.name, "forwarder", 1, "mark@home.example")],
                             await env.get_current_time())
    inp.search_attributes = False
    line = inp.lines[0]
    # cPanel is slow to delete the forwarder at expiry, once
    async with faults(sandboxes.cpanel, [{"match": "delete_forwarder", "times": 1, "latency_ms": 3000}]):
        async with build_activities(settings, env.client) as activities:
            first = Worker(env.client, task_queue=settings.task_queue, workflows=WORKFLOWS,
                           activities=activities, max_cached_workflows=0)
            run = asyncio.create_task(first.run())
            order = await env.client.start_workflow(OrderWorkflow.run, inp, id=order_workflow_id(inp.order_id),
                                                    task_queue=settings.task_queue)
            await pay(order, sandboxes)
            address = env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
            state = await wait_for_status(address, AddressWorkflow.state, "active")
            skipping = asyncio.create_task(skip_to(env, cal, state.term_end + timedelta(days=2)))
            async with httpx.AsyncClient() as http:   # the slow delete has reached cPanel: kill the worker
                for _ in range(600):
                    rules = (await http.get(f"{sandboxes.cpanel.url}/__sandbox/faults")).json()
                    if rules and rules[0]["times"] == 0:
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("the expiry never reached cPanel")
            await first.shutdown()
            await run
        async with worker_for(env, settings):
            await skipping
            state = await wait_for_status(address, AddressWorkflow.state, "expired", timeout=120)
    lines = [f["destination"] for f in (await sandbox_state(sandboxes.cpanel))["forwarders"]
             if f["address"] == line.address]
    assert len(lines) == 1 and lines[0].startswith(":fail:")
    subjects = [m["subject"] for m in mails_to(sandboxes, client.email)]
    assert subjects.count(f"{line.address} has expired") == 1
    assert sum(1 for s in subjects if s.startswith(f"Renewal of {line.address}: invoice")) == 1
    calls = (await sandbox_state(sandboxes.cpanel))["calls"]
    assert calls.count(f"add_forwarder {line.domain}") == 2        # provisioned once, bounce added once
    async with sessions() as session:
        keys = [k for (k,) in (await session.execute(select(OutboundEmail.key).where(
            OutboundEmail.client_id == client.id)))]
    assert len(keys) == len(set(keys))
