"""A customer clicks through the sale in Debian's Chromium (Playwright), as a person would."""
from __future__ import annotations

import time

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.e2e


def test_customer_buys_forwarder_in_browser(stack, chromium_path, tmp_path):
    name = f"carol{time.time_ns() % 100000}"
    email = f"carol{time.time_ns()}@buyer.example"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        page = browser.new_page()
        page.goto(f"{stack.site}/signup")
        page.fill("input[name=name]", "Carol Garcia")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", "a long passphrase")
        page.click("#signup")

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
        browser.close()

    forwarders = httpx.get(f"{stack.cpanel}/__sandbox/state").json()["forwarders"]
    assert {"address": f"{name}@garciafamily.com", "destination": "carol@home.example"} in forwarders
    assert httpx.get(f"{stack.mail}/api/messages", params={"to": email}).json()
