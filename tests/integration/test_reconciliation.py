"""A generated month of billing, reconciled as an accountant would: the CSV exports (over HTTP) against
each other, against the credit ledger, against PayPal's own record of captures and refunds, and against
the invoice PDFs, with no difference of a cent. Orders (some with a promo code; some by a postpaid
client, some by an exempt one, which write no invoice), operators' own invoices (some drafted first,
some drafts never issued), PayPal payments through the real client and sandbox, cheques short and
over, credit applied, cancellations with credit notes, partial and full refunds, operator
adjustments: drawn at random from a seed. Invoice numbers of the year have no gap."""
from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pypdf import PdfReader

from api.services.ordering import WantedAddress, place
from core.errors import BusinessError
from core.money import Money
from core.promos import PromoRule
from providers.paypal.client import PayPalClient
from providers.paypal.protocol import CheckoutRequest, RefundRequest
from sqlalchemy import select

from core.billing import Line
from store import billing, credit, dunning, invoice_pdf, orders, promos
from store.invoicing import InvoiceTerms, Item
from store.models import Invoice
from tests.support import (approve_at_paypal, make_client, make_domain, sandbox_state, signed_in_operator, unique)


def cents(text: str) -> int:
    return int(Decimal(text) * 100)


class Month:
    """Drives one generated month against the store, PayPal and the clock of the month."""

    def __init__(self, rng: random.Random, settings, sessions, sandboxes):
        self.rng, self.settings, self.sessions, self.sandboxes = rng, settings, sessions, sandboxes
        self.now = datetime.now(timezone.utc)
        self.start = self.now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        self.paypal = PayPalClient(settings.paypal_url, settings.paypal_client_id,
                                   settings.paypal_secret.get_secret_value())
        self.clients, self.invoices, self.paypal_orders = [], [], []
        self.drafts: list[int] = []          # drafted invoices not issued (yet)
        self.exempt_orders: list[int] = []
        self.clock = self.start

    def tick(self) -> datetime:
        """Time moves forward through the month, never past now."""
        room = (self.now - self.clock).total_seconds()
        self.clock += timedelta(seconds=self.rng.uniform(0, room / 20))
        return self.clock

    async def order(self, domain, promo_code: str = "") -> None:
        # an exempt client's order has no invoice to discount: codes go with the others
        client = self.rng.choice([c for c in self.clients if not promo_code or c.billing_mode != "exempt"])
        wanted = [WantedAddress(unique("r"), domain.name, self.rng.choice(["forwarder", "mailbox"]),
                                self.rng.choice([1, 2, 3]), "me@home.example", "Tango-Fjord-7-Quill")
                  for _ in range(self.rng.randint(1, 3))]
        async with self.sessions.begin() as session:
            merged = await session.merge(client)
            try:
                order, inp = await place(session, self.settings, merged, wanted, self.tick(), promo_code)
            except BusinessError as exc:
                assert exc.code.startswith("promo_"), exc   # a code past its limit: nothing was ordered
                raise
        if client.billing_mode == "exempt":
            assert inp.invoice_number == "" and inp.invoice_id == 0
            self.exempt_orders.append(order.id)
        else:
            self.invoices.append(inp.invoice_number)

    async def custom(self) -> None:
        """An operator's own invoice: issued now, or drafted (and perhaps issued by a later step)."""
        client = self.rng.choice([c for c in self.clients if c.billing_mode != "exempt"])
        items = [Item(Line(f"Support {unique('h')}", self.rng.randint(1, 4), Money(self.rng.choice([2500, 4500])),
                           Money(self.rng.choice([0, 500]))))
                 for _ in range(self.rng.randint(1, 3))]
        draft = self.rng.random() < 0.5
        when = self.tick()
        async with self.sessions.begin() as session:
            invoice = await dunning.create_custom_invoice(session, await session.merge(client), items, now=when,
                                                          due_at=when + timedelta(days=14),
                                                          terms=self.settings.invoice_terms(client),
                                                          actor="operator:1", draft=draft)
        (self.drafts if draft else self.invoices).append(invoice.id if draft else invoice.number)

    async def issue(self) -> None:
        if not self.drafts:
            return
        draft = self.drafts.pop(self.rng.randrange(len(self.drafts)))
        async with self.sessions.begin() as session:
            invoice = await dunning.issue_draft(session, draft, now=self.tick(), terms=InvoiceTerms(),
                                                actor="operator:1")
        self.invoices.append(invoice.number)

    async def unpaid(self):
        async with self.sessions() as session:
            for number in self.rng.sample(self.invoices, len(self.invoices)):
                invoice = await orders.invoice_by_number(session, number)
                if invoice.status == "unpaid":
                    return invoice, invoice.total_minor - await billing.paid_on(session, invoice.id)
        return None, 0

    async def pay_paypal(self) -> None:
        invoice, due = await self.unpaid()
        if invoice is None or due <= 0:
            return
        key = unique("pp")
        created = await self.paypal.create_order(CheckoutRequest(
            str(invoice.order_id), invoice.number, f"Invoice {invoice.number}", Money(due), "http://r/ok", "http://r/no",
            request_id=f"{key}:create"))
        await approve_at_paypal(self.sandboxes, created.approve_url)
        capture = await self.paypal.capture_order(created.id, request_id=f"{key}:capture")
        self.paypal_orders.append(created.id)
        async with self.sessions.begin() as session:
            await billing.apply_payment(session, invoice_id=invoice.id, method="paypal", amount=capture.amount,
                                        reference=capture.id, received_at=self.tick())

    async def pay_cheque(self) -> None:
        invoice, due = await self.unpaid()
        if invoice is None or due <= 0:
            return
        amount = self.rng.choice([due, max(1, due // 3), due + self.rng.randint(1, 2500)])   # exact, short, over
        async with self.sessions.begin() as session:
            await billing.apply_payment(session, invoice_id=invoice.id, method=self.rng.choice(["cheque", "wire"]),
                                        amount=Money(amount), reference=unique("CHQ"), received_at=self.tick(),
                                        actor="operator:1")

    async def pay_credit(self) -> None:
        invoice, _ = await self.unpaid()
        if invoice is None:
            return
        async with self.sessions.begin() as session:
            await billing.pay_from_credit(session, invoice_id=invoice.id, key=unique("credit"), now=self.tick())

    async def cancel(self) -> None:
        invoice, _ = await self.unpaid()
        if invoice is None:
            return
        async with self.sessions.begin() as session:
            await billing.cancel_invoice(session, invoice_id=invoice.id, reason="generated", actor="operator:1",
                                         now=self.tick())

    async def refund(self) -> None:
        async with self.sessions() as session:
            for number in self.rng.sample(self.invoices, len(self.invoices)):
                invoice = await orders.invoice_by_number(session, number)
                if invoice.status != "paid":
                    continue
                try:
                    capture = await billing.paypal_capture_of(session, invoice)
                except BusinessError:
                    continue
                left = (await billing.refundable(session, capture)).minor
                if left > 0:
                    break
            else:
                return
        amount = Money(self.rng.choice([left, max(1, left // 2)]))
        key = unique("refund")
        async with self.sessions.begin() as session:
            refund = await billing.reserve_refund(session, key=key, invoice_number=invoice.number, amount=amount,
                                                  reason="generated", actor="operator:1")
        result = await self.paypal.refund_capture(RefundRequest(capture.reference, amount, invoice.number, "generated",
                                                                request_id=key))
        async with self.sessions.begin() as session:
            await billing.complete_refund(session, refund_id=refund.id, paypal_refund_id=result.id, now=self.tick())
        # refunding more than is left is refused and changes nothing
        async with self.sessions.begin() as session:
            left = (await billing.refundable(session, await billing.payment(session, capture.id))).minor
        with pytest.raises(BusinessError) as err:
            async with self.sessions.begin() as session:
                await billing.reserve_refund(session, key=unique("refund"), invoice_number=invoice.number,
                                             amount=Money(left + 1), reason="too much", actor="operator:1")
        assert err.value.code == "refund_exceeds_capture"

    async def adjust(self) -> None:
        client = self.rng.choice(self.clients)
        async with self.sessions.begin() as session:
            await credit.adjust(session, client_id=client.id, amount=Money(self.rng.randint(100, 5000)),
                                reason="generated goodwill", actor="operator:1", reference=unique("adj"))


@pytest.mark.parametrize("seed", [2026_11, 2026_12, 2027_01])
async def test_a_generated_month_reconciles_to_the_cent(seed, live, pg_settings, pg_sessions, sandboxes):
    rng = random.Random(seed)
    month = Month(rng, pg_settings, pg_sessions, sandboxes)
    domain = await make_domain(pg_sessions, sandboxes)
    month.clients = [await make_client(pg_sessions) for _ in range(6)]
    async with pg_sessions.begin() as session:   # one client billed after the fact, one never
        for client, mode in zip(month.clients[-2:], ("postpaid", "exempt")):
            (await session.merge(client)).billing_mode = client.billing_mode = mode
    code = unique("MONTH").upper()[:30]
    async with pg_sessions.begin() as session:
        await promos.create(session, PromoRule(code, percent_bp=rng.choice([500, 1250, 3333]), max_uses=4), "USD",
                            "operator:1")
    for _ in range(8):
        await month.order(domain)
    steps = [month.pay_paypal, month.pay_cheque, month.pay_credit, month.cancel, month.refund, month.adjust,
             month.custom, month.issue]
    promo_uses = 0
    for _ in range(40):
        step = rng.choice(steps + [month.order])
        if step == month.order:
            try:
                await month.order(domain, code if rng.random() < 0.5 else "")
                promo_uses += 1
            except BusinessError as exc:
                assert exc.code == "promo_used_up" and promo_uses >= 4
        else:
            await step()
    await month.paypal.aclose()

    # ---- the accountant's side: exports over HTTP, the ledger, PayPal, the PDFs ----
    operator, _ = await signed_in_operator(pg_settings.public_base_url, pg_sessions)
    period = {"from": month.start.date().isoformat(), "to": month.now.date().isoformat()}
    ours = {str(c.id) for c in month.clients}
    exported = {}
    for kind in ("invoices", "payments", "credit-notes", "credit"):
        r = await operator.get(f"/api/v1/operator/exports/{kind}.csv", params=period)
        assert r.status_code == 200, r.text
        exported[kind] = [row for row in csv.DictReader(io.StringIO(r.text)) if row["client_id"] in ours]
    await operator.aclose()
    invoices = {row["number"]: row for row in exported["invoices"]}
    assert set(invoices) == set(month.invoices)          # no drafts, nothing for the exempt client
    assert not [r for r in exported["invoices"] if r["client_id"] == str(month.clients[-1].id)]
    assert not [n for n in invoices if n.startswith("DRAFT-")]
    # numbering has no gap: every number of the year up to the last is taken, drafts included or not
    async with pg_sessions() as session:
        numbers = sorted(int(n.rsplit("-", 1)[1]) for n in (await session.execute(
            select(Invoice.number).where(Invoice.number.like(f"{month.now.year}-%")))).scalars())
    assert numbers == list(range(1, len(numbers) + 1))

    # each invoice adds up: lines to totals; payments to what is paid; notes to what is cancelled
    applied, refunds = defaultdict(int), defaultdict(int)
    for p in exported["payments"]:
        if p["method"] == "paypal_refund":
            refunds[p["invoice"]] -= cents(p["amount"])
        applied[p["invoice"]] += cents(p["applied"])
    notes = {n["invoice"]: n for n in exported["credit-notes"]}
    for number, row in invoices.items():
        total, paid = cents(row["total"]), cents(row["paid"])
        assert cents(row["subtotal"]) - cents(row["discount"]) + cents(row["tax"]) == total, row
        assert paid == applied[number], row
        if row["status"] == "cancelled":
            assert cents(notes[number]["amount"]) == total and cents(notes[number]["credited"]) == paid, row
            assert row["credit_note"] == notes[number]["number"]
        else:
            assert number not in notes
            assert total == paid + refunds[number] + cents(row["outstanding"]), row
            assert (row["status"] == "unpaid") == (cents(row["outstanding"]) > 0) or row["status"] != "unpaid"
        if row["status"] == "refunded":
            assert paid == 0 and refunds[number] == total

    # the credit ledger: every entry has its source in the exports, and balances never went negative
    by_kind = defaultdict(int)
    for e in exported["credit"]:
        by_kind[e["kind"]] += cents(e["amount"])
    assert by_kind["overpayment"] == sum(cents(p["to_credit"]) for p in exported["payments"])
    assert -by_kind["invoice_payment"] == sum(cents(p["amount"]) for p in exported["payments"] if p["method"] == "credit")
    assert by_kind["credit_note"] == sum(cents(n["credited"]) for n in exported["credit-notes"])
    async with pg_sessions() as session:
        for client in month.clients:
            balance = await credit.balance(session, client.id, "USD")
            assert balance.minor >= 0
            assert balance.minor == sum(cents(e["amount"]) for e in exported["credit"] if e["client_id"] == str(client.id))

    # PayPal's record: what it captured and refunded for these orders is exactly what we recorded
    state = await sandbox_state(sandboxes.paypal)
    captures = [c for c in state["captures"] if c["order_id"] in month.paypal_orders]
    capture_ids = {c["id"] for c in captures}
    assert sum(cents(c["amount"]["value"]) for c in captures) == sum(
        cents(p["amount"]) for p in exported["payments"] if p["method"] == "paypal")
    assert {c["id"] for c in captures} == {p["reference"] for p in exported["payments"] if p["method"] == "paypal"}
    assert sum(cents(r["amount"]["value"]) for r in state["refunds"] if r["capture_id"] in capture_ids) == -sum(
        cents(p["amount"]) for p in exported["payments"] if p["method"] == "paypal_refund")

    # the PDFs say what the exports say
    async with pg_sessions() as session:
        for number in rng.sample(month.invoices, min(6, len(month.invoices))):
            document = await invoice_pdf.of_number(session, number, pg_settings.seller())
            text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(document.pdf)).pages)
            assert number in text
            assert Money(cents(invoices[number]["total"])).display() in text, (number, text)
