"""A customer clicks through the sale in Debian's Chromium (Playwright), as a person would."""
from __future__ import annotations

import subprocess
import sys
import time

import re

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from core.money import Money
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
        token = page.url.split("token=")[1].split("&")[0]
        # someone else opening Carol's return link is asked to sign in and is told nothing; nothing changes
        stranger = browser.new_context().new_page()
        stranger.goto(f"{stack.site}/paypal/return?token={token}")
        expect(stranger.locator("h1")).to_have_text("Sign in to finish paying")
        expect(stranger.locator("main")).not_to_contain_text("Payment received")
        expect(stranger.locator("main")).not_to_contain_text(name)
        page.click("#approve")

        # back from PayPal: confirming until the money is taken, then received (no reload to press)
        expect(page.locator("h1")).to_have_text("Payment received", timeout=60_000)
        page.screenshot(path=str(tmp_path / "payment-received.png"))
        page.click("main a[href^='/orders/']:not([href$='/payment'])")
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


def _sign_up(stack, email: str, name: str) -> httpx.Client:
    http = httpx.Client(base_url=stack.site, timeout=30)
    csrf = http.get("/api/v1/auth/session").json()["csrf_token"]
    r = http.post("/api/v1/auth/signup", headers={"X-CSRF-Token": csrf},
                  json={"email": email, "password": "a long passphrase", "name": name})
    assert r.status_code == 202, r.text   # "check your email": sign-up signs nobody in
    r = http.post("/api/v1/auth/login", headers={"X-CSRF-Token": csrf},
                  json={"email": email, "password": "a long passphrase"})
    assert r.status_code == 200, r.text
    http.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return http


def _sign_in(browser, stack, email: str):
    page = browser.new_context().new_page()
    page.goto(f"{stack.site}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "a long passphrase")
    page.click("#login")
    return page


def test_credit_is_applied_before_payment_is_offered_and_a_part_payment_says_what_is_due(stack, chromium_path,
                                                                                        tmp_path):
    stamp = time.time_ns()
    customer, operator = f"erin{stamp}@buyer.example", f"omar{stamp}@staff.example"
    buyer, staff = _sign_up(stack, customer, "Erin Moss"), _sign_up(stack, operator, "Omar Staff")
    made = subprocess.run([sys.executable, "-m", "cli", "make-operator", operator], cwd=ROOT, env=stack.env,
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    me = buyer.get("/api/v1/auth/session").json()["client"]["id"]
    assert staff.post(f"/api/v1/operator/clients/{me}/credit", json={"amount": "5.00", "reason": "welcome"}
                      ).status_code == 201
    r = buyer.post("/api/v1/orders", json={"lines": [{"local_part": f"erin{stamp % 100000}",
                                                      "domain": "smithfamily.net", "years": 1,
                                                      "destination": "erin@home.example"}]})
    assert r.status_code == 201, r.text
    order = r.json()
    total = Money.parse(order["total"].lstrip("$"))
    due = (total - Money(500)).display()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        page = _sign_in(browser, stack, customer)
        page.goto(f"{stack.site}/orders/{order['id']}")
        # offered only once the credit is applied, and only what is then due; nothing reloads under the buttons
        expect(page.locator("#pay-paypal")).to_have_text(f"Pay {due} with PayPal", timeout=30_000)
        expect(page.locator("#due")).to_have_text(due)
        expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)
        page.locator("#pay-paypal").focus()
        page.wait_for_timeout(2500)
        expect(page.locator("#pay-paypal")).to_be_focused()
        page.screenshot(path=str(tmp_path / "order-with-credit.png"))

        desk = _sign_in(browser, stack, operator)
        desk.goto(f"{stack.site}/operator/payments")
        row = desk.locator(f"#awaiting tr[data-order='{order['id']}']")
        expect(row.locator("input[name=amount]")).to_have_value(due.lstrip("$"))
        row.locator("input[name=amount]").fill("1.00")
        row.locator("input[name=reference]").fill("CHQ-77")
        row.get_by_role("button", name="Record").click()
        left = (total - Money(600)).display()
        expect(desk.locator("#done")).to_have_text(
            f"Cheque CHQ-77 for $1.00 recorded on order {order['id']}; {left} still due.")
        expect(desk.locator(f"#awaiting tr[data-order='{order['id']}'] input[name=amount]")).to_have_value(
            left.lstrip("$"))
        desk.screenshot(path=str(tmp_path / "operator-part-payment.png"), full_page=True)
        browser.close()
    buyer.close()
    staff.close()
