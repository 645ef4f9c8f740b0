"""Provider failures as a customer and an operator notice them, on the time-skipping server with the
real activities against the sandboxes: Enom account trouble is retried (staff told) until it is
fixed; a notification the mail server refuses is recorded and the address goes on regardless."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
from sqlalchemy import select

from store.models import OutboundEmail
from tests.support import mails_to, set_faults, sandbox_state, unique
from tests.workflows.test_order_lifecycle import pay, start_order, wait_for_status, worker_for
from workflows.address import AddressWorkflow
from workflows.contracts import address_workflow_id


async def enom_account(sandboxes, **account) -> None:
    async with httpx.AsyncClient() as http:
        (await http.post(f"{sandboxes.enom.url}/__sandbox/account", json=account)).raise_for_status()


async def pending_attempt(handle) -> int:
    """The attempt number of the run's pending activity (0 when none is pending)."""
    pending = (await handle.describe()).raw_description.pending_activities
    return pending[0].attempt if pending else 0


async def eventually(check, what: str, timeout: float = 60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await check()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.2)
    return result


async def outbox_row(sessions, key: str) -> OutboundEmail | None:
    async with sessions() as session:
        return (await session.execute(select(OutboundEmail).where(OutboundEmail.key == key))).scalar_one_or_none()


async def test_address_gets_its_coverage_once_enom_credentials_are_fixed(ts_env, settings, sessions, sandboxes):
    """The API token is revoked at Enom (304156 on HTTP 200): the address waits in provisioning,
    not in attention, staff get one email about it, and once the token is right again the address
    becomes active with its domain covered — nobody signals anything."""
    staff = f"{unique('ops')}@mailmarket.test"
    settings = settings.model_copy(update={"operator_emails": [staff]})
    await enom_account(sandboxes, pw="revoked-token")
    try:
        async with worker_for(ts_env, settings):
            handle, inp = await start_order(ts_env, settings, sessions, sandboxes, years=2,
                                            expiry=date.today() + timedelta(days=200))
            line = inp.lines[0]
            await pay(handle, sandboxes)
            await handle.result()
            address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
            await eventually(lambda: _at_least(pending_attempt(address), 3), "three refused attempts")
            state = await address.query(AddressWorkflow.state)
            assert state.status == "provisioning"      # waiting, not parked for an operator
            alerts = mails_to(sandboxes, staff)
            assert [m["subject"] for m in alerts] == ["Enom needs attention: the API login or token is refused"]
            assert "304156" in alerts[0]["text"]
            await enom_account(sandboxes, pw="sandbox-enom-token")   # staff fix the token
            state = await wait_for_status(address, AddressWorkflow.state, "active", timeout=60)
    finally:
        await enom_account(sandboxes, pw="sandbox-enom-token")
    expiry = date.fromisoformat((await sandbox_state(sandboxes.enom))["domains"][line.domain])
    assert expiry >= state.term_end + timedelta(days=30)
    assert len(mails_to(sandboxes, staff)) == 1                 # one alert an hour, however many retries
    assert any(m["subject"] == f"Your address {line.address} is ready" for m in mails_to(sandboxes, line.client_email))


async def _at_least(value, n: int) -> bool:
    return (await value) >= n


async def test_welcome_refused_at_rcpt_is_recorded_failed_and_the_address_is_active(
        ts_env, settings, sessions, sandboxes):
    """The customer's mail server answers 550 to RCPT TO for the welcome: the address becomes
    active all the same, the welcome is on record as failed with the reply, and it was tried once."""
    # cPanel slow enough that the welcome comes after the fault is set
    await set_faults(sandboxes.cpanel, [{"match": "add_forwarder", "times": 1, "latency_ms": 2500}])
    try:
        async with worker_for(ts_env, settings):
            handle, inp = await start_order(ts_env, settings, sessions, sandboxes, years=1)
            line = inp.lines[0]
            await pay(handle, sandboxes)
            await handle.result()
            sandboxes.mail.inject("rcpt", 550, "5.1.1 mailbox unavailable", match=line.client_email, times=-1)
            address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
            state = await wait_for_status(address, AddressWorkflow.state, "active", timeout=60)
    finally:
        sandboxes.mail.store.set_faults([])
    welcome = await outbox_row(sessions, f"{address_workflow_id(line.address)}:{state.term_start.isoformat()}:welcome")
    assert welcome is not None
    assert (welcome.state, welcome.reply_code, welcome.attempts, welcome.sent_at) == ("failed", 550, 0, None)
    assert welcome.reply_text == "RCPT TO: 550 5.1.1 mailbox unavailable"
    assert [r for r in sandboxes.mail.store.refused if r["subject"] == line.client_email] == [
        {"stage": "rcpt", "code": 550, "subject": line.client_email}]           # tried once, never again
    assert not any("is ready" in m["subject"] for m in mails_to(sandboxes, line.client_email))


async def test_welcome_deferred_at_data_is_retried_and_arrives_once(ts_env, settings, sessions, sandboxes):
    async with worker_for(ts_env, settings):
        handle, inp = await start_order(ts_env, settings, sessions, sandboxes, years=1)
        line = inp.lines[0]
        sandboxes.mail.inject("data", 451, "4.3.0 try again later", match=f"{line.address} is ready", times=2)
        try:
            await pay(handle, sandboxes)
            address = ts_env.client.get_workflow_handle_for(AddressWorkflow.run, address_workflow_id(line.address))
            state = await wait_for_status(address, AddressWorkflow.state, "active", timeout=60)
        finally:
            sandboxes.mail.store.set_faults([])
    welcomes = [m for m in mails_to(sandboxes, line.client_email) if m["subject"].endswith("is ready")]
    row = await outbox_row(sessions, f"{address_workflow_id(line.address)}:{state.term_start.isoformat()}:welcome")
    assert [m["message_id"] for m in welcomes] == [row.message_id]
    assert (row.state, row.attempts) == ("sent", 3)
