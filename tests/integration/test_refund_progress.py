"""A refund request answers at once and the operators' billing page follows it: requested, then
PayPal's answer (completed, or pending and later failed with PayPal's reason), from the refunds table."""
from __future__ import annotations

import asyncio
import re

import httpx

from tests.integration.test_paypal_webhooks import paid_order
from tests.support import buyer_and_operator, make_domain, refund_answered, unique
from workflows.contracts import REFUND_CHANGED, refund_workflow_id


async def progress(operator: httpx.AsyncClient, number: str, wanted: str, tries: int = 150) -> str:
    """The refund lines beside invoice `number` on the billing page, once one of them says `wanted`."""
    for _ in range(tries):
        page = await operator.get("/operator/billing?status=")
        row = re.search(rf'<tr data-invoice="{re.escape(number)}">.*?</tr>', page.text, re.S)
        lines = re.findall(r'<small class="refund [a-z]+"[^>]*>([^<]*)</small>', row.group(0)) if row else []
        if any(wanted in line for line in lines):
            return " | ".join(lines)
        await asyncio.sleep(0.2)
    raise AssertionError(f"invoice {number} never showed a refund {wanted!r}")


async def test_the_billing_page_requests_a_refund_at_once_and_shows_it_completed(live, pg_settings, pg_sessions,
                                                                                 sandboxes):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh, operator, _ = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    order, _ = await paid_order(buyer, bh, domain, sandboxes)
    number = order["invoice_number"]
    page = await operator.get("/operator/billing")
    form = re.search(rf'action="/operator/billing/invoices/{re.escape(number)}" class="inline">'
                     r'<input type="hidden" name="csrf" value="([^"]+)"><input type="hidden" name="action" '
                     r'value="refund">\s*<input type="hidden" name="key" value="([^"]+)">', page.text)
    assert form, "no refund form beside the paid invoice"
    r = await operator.post(f"/operator/billing/invoices/{number}", data={
        "csrf": form.group(1), "action": "refund", "key": form.group(2), "amount": "1.00", "reason": "goodwill"})
    assert r.status_code == 303, r.text
    shown = await operator.get(r.headers["location"])
    assert f"Invoice {number}: refund of 1.00 requested" in shown.text
    assert "completed" in await progress(operator, number, "refund $1.00 completed")
    for http in (buyer, operator):
        await http.aclose()


async def test_a_refund_paypal_fails_shows_failed_with_paypals_reason(live, pg_settings, pg_sessions, sandboxes,
                                                                      dev_env):
    domain = await make_domain(pg_sessions, sandboxes)
    buyer, bh, operator, oh = await buyer_and_operator(pg_settings.public_base_url, pg_sessions)
    order, _ = await paid_order(buyer, bh, domain, sandboxes)
    number, key = order["invoice_number"], unique("refund")
    async with httpx.AsyncClient() as admin:
        await admin.post(f"{sandboxes.paypal.url}/__sandbox/refund_pending", json={"times": 1})
    r = await operator.post(f"/api/v1/operator/invoices/{number}/refunds", headers={**oh, "Idempotency-Key": key},
                            json={"amount": "1.00", "reason": "goodwill"})
    assert r.status_code == 202 and r.json()["status"] == "requested" and r.json()["id"] > 0, r.text
    pending = await refund_answered(operator, r)
    assert pending["status"] == "pending"
    await progress(operator, number, "refund $1.00 pending (PayPal is still processing it)")

    async with httpx.AsyncClient() as admin:
        settled = await admin.post(f"{sandboxes.paypal.url}/__sandbox/refunds/{pending['paypal_refund_id']}/settle",
                                   json={"outcome": "FAILED"})
        assert settled.status_code == 200, settled.text
    # PayPal sends no webhook for a failed refund; the workflow would look again within hours
    await dev_env.client.get_workflow_handle(refund_workflow_id(number, key)).signal(REFUND_CHANGED)
    assert "PayPal answered FAILED" in await progress(operator, number, "refund $1.00 failed: ")
    listed = (await operator.get(f"/api/v1/operator/invoices/{number}/refunds")).json()["refunds"]
    assert [(x["id"], x["status"]) for x in listed] == [(pending["id"], "failed")]
    for http in (buyer, operator):
        await http.aclose()
