"""A customer clicks through the sale in Debian's Chromium (Playwright), as a person would."""
from __future__ import annotations

import subprocess
import sys
import time

import re

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support import ROOT

pytestmark = pytest.mark.e2e


def sign_up(page, stack, name: str, email: str) -> None:
    """Sign up as a person does: the form says to check the email, whose link confirms and signs in."""
    page.goto(f"{stack.site}/signup")
    page.fill("input[name=name]", name)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "a long passphrase")
    page.click("#signup")
    expect(page.locator("#check-email")).to_contain_text(email)
    deadline = time.monotonic() + 60
    while not (mails := [m for m in httpx.get(f"{stack.mail}/api/messages", params={"to": email}).json()
                         if m["subject"].startswith("Confirm your email")]):
        assert time.monotonic() < deadline, "the sign-up email never came"
        time.sleep(0.3)
    page.goto(re.search(r"https?://\S+/signup/confirm/\S+", mails[0]["text"]).group(0))
    page.click("#confirm-signup")
    expect(page.locator("#sign-out")).to_contain_text(name)


def test_customer_buys_forwarder_in_browser(stack, chromium_path, tmp_path):
    name = f"carol{time.time_ns() % 100000}"
    email = f"carol{time.time_ns()}@buyer.example"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        page = browser.new_page()
        blocked: list[str] = []   # anything the Content-Security-Policy stopped would show here
        page.on("console", lambda msg: "Content Security Policy" in msg.text and blocked.append(msg.text))
        sign_up(page, stack, "Carol Garcia", email)

        page.goto(stack.site + "/")
        page.fill("#q", name)
        page.check("input[value='garciafamily.com']")
        page.click("text=Check availability")
        cell = page.locator(f"#results td[data-address='{name}@garciafamily.com']")
        expect(cell.locator(".status")).to_have_text("available")
        cell.locator("input[name=pick]").check()
        page.click("#add-to-cart-button")

        line = page.locator(f"#cart tr[data-address='{name}@garciafamily.com']")
        expect(line).to_contain_text("available")
        page.select_option("select[name=years_0]", "2")
        page.fill("input[name=destination_0]", "carol@home.example")
        page.click("#place-order")
        expect(page.locator("#invoice-status")).to_have_text("unpaid")
        page.click("#pay-paypal")

        expect(page.locator("h1")).to_have_text("PayPal Sandbox")  # PayPal's approval page
        page.click("#approve")

        expect(page.locator("#paid")).to_contain_text("Your addresses are ready", timeout=60_000)
        expect(page.locator("#invoice-status")).to_have_text("paid")
        page.screenshot(path=str(tmp_path / "order-paid.png"))
        page.click("text=My addresses")
        expect(page.locator("#addresses")).to_contain_text(f"{name}@garciafamily.com")
        expect(page.locator("#addresses")).to_contain_text("active")
        assert blocked == []
        browser.close()

    forwarders = httpx.get(f"{stack.cpanel}/__sandbox/state").json()["forwarders"]
    assert {"address": f"{name}@garciafamily.com", "destination": "carol@home.example"} in forwarders
    assert httpx.get(f"{stack.mail}/api/messages", params={"to": email}).json()


def test_operator_drafts_issues_and_records_an_invoice_in_browser(stack, chromium_path, tmp_path):
    stamp = time.time_ns()
    customer, operator = f"dana{stamp}@buyer.example", f"olga{stamp}@staff.example"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        pages = {}
        for email, name in ((customer, "Dana Ito"), (operator, "Olga Staff")):
            page = browser.new_context().new_page()
            sign_up(page, stack, name, email)
            pages[email] = page
        made = subprocess.run([sys.executable, "-m", "cli", "make-operator", operator], cwd=ROOT, env=stack.env,
                              capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        page = pages[operator]
        page.goto(f"{stack.site}/operator/billing")
        page.fill("#new-invoice input[name=client_email]", customer)
        page.fill("input[name=description_0]", "Setup work")
        page.fill("input[name=unit_price_0]", "sixty")
        page.click("#save-draft")
        expect(page.locator("#error")).to_contain_text("sixty")               # refused beside what was typed
        expect(page.locator("input[name=description_0]")).to_have_value("Setup work")
        page.fill("input[name=unit_price_0]", "60.00")
        page.click("#save-draft")
        expect(page.locator("#done")).to_contain_text("Draft DRAFT-")
        draft = page.locator("#operator-invoices tr", has_text=customer).first
        expect(draft.locator(".badge")).to_have_text("draft")
        draft.locator("button[value=issue]").click()
        expect(page.locator("#done")).to_contain_text("issued and emailed")
        number = page.locator("#done").inner_text().split()[1]
        row = page.locator(f"#operator-invoices tr[data-invoice='{number}']")
        row.locator("summary").click()
        row.locator("input[name=reference]").fill("CHQ-9")
        row.get_by_role("button", name="Record").click()
        expect(page.locator("#done")).to_contain_text("0.00 still due")
        expect(page.locator(f"#operator-invoices tr[data-invoice='{number}'] .badge")).to_have_text("paid")
        # a cheque cannot go back through PayPal: refused beside the list, nothing changed
        paid_row = page.locator(f"#operator-invoices tr[data-invoice='{number}']")
        paid_row.locator("summary").click()
        paid_row.locator("input[name=reason]").fill("overcharged")
        paid_row.get_by_role("button", name="Refund through PayPal").click()
        expect(page.locator("#error")).to_contain_text("not paid through PayPal")
        page.fill("#credit-adjust input[name=client_email]", customer)
        page.fill("#credit-adjust input[name=amount]", "5.00")
        page.fill("#credit-adjust input[name=reason]", "sorry for the wait")
        page.click("#credit-adjust button")
        expect(page.locator("#done")).to_contain_text("credit balance is now $5.00")
        code = f"DANA{stamp % 100000}"
        page.fill("#new-promo input[name=code]", code)
        page.fill("#new-promo input[name=percent]", "150")
        page.click("#new-promo button")
        expect(page.locator("#error")).to_contain_text("100")
        expect(page.locator("#new-promo input[name=code]")).to_have_value(code)
        page.fill("#new-promo input[name=percent]", "10")
        page.check("#new-promo input[value=mailbox]")
        page.click("#new-promo button")
        expect(page.locator("#done")).to_contain_text(f"Promo code {code} created")
        promo = page.locator(f"#promo-codes tr[data-code='{code}']")
        expect(promo).to_contain_text("10% off")
        promo.get_by_role("button", name="Withdraw").click()
        expect(page.locator(f"#promo-codes tr[data-code='{code}']")).to_contain_text("withdrawn")
        page.fill("#billing-mode input[name=client_email]", customer)
        page.select_option("#billing-mode select[name=mode]", "postpaid")
        page.click("#billing-mode button")
        expect(page.locator("#done")).to_contain_text("billed postpaid")
        page.screenshot(path=str(tmp_path / "operator-billing.png"), full_page=True)

        mine = pages[customer]
        mine.goto(f"{stack.site}/invoices")
        expect(mine.locator(f"#invoices tr[data-invoice='{number}'] .badge")).to_have_text("paid")
        browser.close()
    subjects = [m["subject"] for m in httpx.get(f"{stack.mail}/api/messages", params={"to": customer}).json()]
    assert f"Invoice {number}: $60.00 due" in subjects and f"Receipt: $60.00 for invoice {number}" in subjects
