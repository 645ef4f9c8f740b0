"""Billing as operators and customers ask for it: pay an order from the credit balance, record many
cheques and wires at once (each row taken or refused on its own), cancel an invoice with a credit note,
request a PayPal refund (answered at once; its progress read from the refunds table), and the
accountant's CSV exports. Money that belongs to a running order moves through its workflow; a refund
through its own; bookkeeping on settled invoices is written here."""
from __future__ import annotations

import csv
import io
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client as TemporalClient

from api.services import payments
from api.services.checkout import Checkout
from api.temporal import Gateway
from core.addresses import normalize_domain
from core.billing import parse_billing_mode, parse_percent
from core.clock import utc
from core.promos import PromoRule, normalize_code
from core.errors import BusinessError
from core.refusals import Refusals, refuse
from core.money import Money
from core.statuses import InvoiceStatus, OrderStatus, RefundStatus
from settings import Settings
from store import audit, billing, credit, dunning, exports, orders, promos
from store.invoicing import Item
from store.models import Client, Invoice, Order, Refund
from workflows.contracts import (
    BeginPayPal,
    CancelRequest,
    InvoiceState,
    OrderState,
    PayPalCheckout,
    PayWithCredit,
    RefundInput,
    invoice_input,
)

log = logging.getLogger("mailmarket.billing")
MAX_BULK = 200
INVOICE_STATUSES = tuple(InvoiceStatus)


def parse_signed_amount(raw: str, currency: str) -> Money:
    """'12.50' or '-12.50': a credit adjustment either way."""
    text = (raw or "").strip()
    negative = text.startswith("-")
    amount = Money.parse(text[1:] if negative else text, currency)
    return Money(-amount.minor if negative else amount.minor, currency)


def promo_rule(*, code: str, percent: str | None, amount: str | None, starts_at: datetime | None,
               ends_at: datetime | None, max_uses: int | None, max_uses_per_client: int | None, kinds: list[str],
               domains: list[str], currency: str) -> PromoRule:
    """A promo code as an operator types it, each field checked (the rule itself checks the rest)."""
    return PromoRule(code=normalize_code(code, "code"),
                     percent_bp=parse_percent(percent, "percent") if percent else 0,
                     amount=Money.parse(amount, currency) if amount else None,
                     starts_at=utc(starts_at) if starts_at else None, ends_at=utc(ends_at) if ends_at else None,
                     max_uses=max_uses, max_uses_per_client=max_uses_per_client,
                     kinds=tuple(k.strip().lower() for k in kinds if k.strip()),
                     domains=tuple(normalize_domain(d, "domains") for d in domains if d.strip()))


@dataclass(frozen=True)
class RefundView:
    """A refund as operators follow it: requested (held, PayPal not yet answered), pending (PayPal is
    processing it), completed (money back) or failed (with PayPal's reason; the hold is released)."""
    id: int
    key: str
    amount: Money
    status: str
    paypal_refund_id: str
    message: str
    reason: str
    created_at: datetime | None

    @classmethod
    def of(cls, refund: Refund) -> "RefundView":
        return cls(refund.id, refund.key, Money(refund.amount_minor, refund.currency), refund.status,
                   refund.paypal_refund_id, refund.message, refund.reason, refund.created_at)

    def as_dict(self) -> dict:
        return {"id": self.id, "key": self.key, "amount": self.amount.amount(), "currency": self.amount.currency,
                "status": self.status, "paypal_refund_id": self.paypal_refund_id, "message": self.message,
                "reason": self.reason, "requested_at": self.created_at.isoformat() if self.created_at else None}


@dataclass(frozen=True)
class BulkRow:
    invoice: str
    method: str
    amount: str
    reference: str
    received_on: str


class Billing:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession], temporal: TemporalClient,
                 checkout: Checkout):
        self.settings, self.sessions, self.checkout = settings, sessions, checkout
        self.gateway = Gateway(temporal, sessions, settings.task_queue)

    # ---- customers -----------------------------------------------------------------------

    async def pay_with_credit(self, client: Client, order_id: int) -> OrderState:
        async with self.sessions() as session:
            order = await session.get(Order, order_id)
        if order is None or order.client_id != client.id:
            raise refuse(Refusals.ORDER_NOT_FOUND, "order_id")
        async with audit.refusals(self.sessions, f"client:{client.id}", "credit_payment", "order", order_id):
            return await self.gateway.order(order_id).pay_with_credit(PayWithCredit(f"client:{client.id}"))

    async def _own_chased(self, client: Client, number: str) -> Invoice:
        """One of the client's invoices chased by its own workflow (an operator's own, a postpaid
        order's); an order's invoice is paid on its order's page instead."""
        async with self.sessions() as session:
            invoice = await orders.invoice_by_number(session, (number or "").strip()[:32])
            if invoice is None or invoice.client_id != client.id or invoice.status == InvoiceStatus.DRAFT:
                raise refuse(Refusals.INVOICE_NOT_FOUND, "invoice", number=number[:32])
            chased = await self._chased(session, invoice)
        if not chased:
            raise refuse(Refusals.INVOICE_PAID_BY_ORDER, "invoice", number=invoice.number)
        return invoice

    async def pay_invoice_with_credit(self, client: Client, number: str) -> InvoiceState:
        invoice = await self._own_chased(client, number)
        async with audit.refusals(self.sessions, f"client:{client.id}", "credit_payment", "invoice", invoice.number):
            return await self.gateway.invoice(invoice.number).pay_with_credit(PayWithCredit(f"client:{client.id}"))

    async def begin_invoice_paypal(self, client: Client, number: str) -> PayPalCheckout:
        """A PayPal checkout for what is due on one of the client's chased invoices; PayPal returns the
        payer to /paypal/return, which hands the approval to the invoice's workflow."""
        invoice = await self._own_chased(client, number)
        base = self.settings.public_base_url.rstrip("/")
        async with audit.refusals(self.sessions, f"client:{client.id}", "paypal_checkout", "invoice", invoice.number):
            return await self.gateway.invoice(invoice.number).begin_paypal(BeginPayPal(f"{base}/paypal/return",
                                                                                        f"{base}/invoices"))

    async def invoice_for_paypal(self, paypal_order_id: str) -> Invoice | None:
        """The invoice (paid on its own) whose PayPal checkout this is; read only."""
        async with self.sessions() as session:
            return await orders.invoice_by_paypal_id(session, paypal_order_id)

    async def relay_paypal_hint(self, paypal_order_id: str, signal: str, arg) -> str:
        """A PayPal webhook's hint (approved, capture reported or denied) handed to the workflow taking
        the payment its PayPal order is for (the gateway's handles say which); the outcome, kept for
        operators."""
        async with self.sessions() as session:
            order, invoice = await orders.paying_by_paypal_id(session, paypal_order_id)
        if order is not None:
            if not await self.gateway.order(order.id).paypal_hint(signal, arg):
                # closed: our own capture's COMPLETED arrives after the order has finished, nothing to do
                return "already_settled" if order.status == OrderStatus.PAID else "order_closed"
            return f"relayed to order {order.id}"
        if invoice is not None:
            # not delivered when closed (paid or cancelled): the invoices page says which
            await self.gateway.invoice(invoice.number).paypal_hint(signal, arg)
            return f"relayed to invoice {invoice.number}"
        return "unknown_order"   # answered 200 so PayPal stops retrying; operators see it on Payments

    async def chased_invoices(self, invoices: list[Invoice]) -> set[str]:
        """Which of these invoices are paid through their own workflow (not on an order's page)."""
        async with self.sessions() as session:
            return await billing.chased(session, invoices)

    async def set_apply_credit(self, client: Client, enabled: bool) -> None:
        async with self.sessions.begin() as session:
            await credit.set_apply_credit(session, client.id, enabled)

    # ---- operators -----------------------------------------------------------------------

    async def _invoice(self, session: AsyncSession, number: str) -> Invoice:
        invoice = await orders.invoice_by_number(session, (number or "").strip()[:32])
        if invoice is None:
            raise refuse(Refusals.INVOICE_UNKNOWN, "invoice", message=f"There is no invoice {number.strip()[:32]!r}.")
        return invoice

    async def record_bulk(self, operator: Client, rows: list[BulkRow], today: date) -> list[dict]:
        """Each row is recorded through its order's workflow, or refused with its reason; a refused
        row changes nothing and does not stop the others (a bank statement is taken line by line)."""
        if not rows:
            raise refuse(Refusals.ROWS_MISSING, "payments")
        if len(rows) > MAX_BULK:
            raise refuse(Refusals.ROWS_TOO_MANY, "payments", max_bulk=MAX_BULK)
        results = []
        for index, row in enumerate(rows):
            try:
                async with audit.refusals(self.sessions, f"operator:{operator.id}", "payment", "invoice",
                                          row.invoice[:32], method=row.method, amount=row.amount,
                                          reference=row.reference), self.sessions() as session:
                    invoice = await self._invoice(session, row.invoice)
                    chased = await self._chased(session, invoice)
                if chased:
                    state = await self.record_invoice_payment(operator, invoice, row, today)
                else:
                    state = await payments.record(self.checkout, operator, invoice.order_id, method=row.method,
                                                  amount=row.amount, currency=invoice.currency,
                                                  reference=row.reference, received_on=row.received_on, today=today)
                # the workflow's answer says what is still due (runs from before partial payments took
                # exact amounts only, so nothing is left when they answer)
                results.append({"row": index, "invoice": invoice.number, "recorded": True, "status": state.status,
                                "outstanding": Money(state.due_minor or 0, invoice.currency).amount()})
            except BusinessError as exc:
                results.append({"row": index, "invoice": row.invoice, "recorded": False, "code": exc.code,
                                "message": exc.message, "field": exc.field})
        return results

    @staticmethod
    async def _chased(session: AsyncSession, invoice: Invoice) -> bool:
        """Whether the invoice's money moves through its own invoice workflow (an operator's own
        invoice, a postpaid order's) rather than through its order's."""
        return invoice.number in await billing.chased(session, [invoice])

    async def record_invoice_payment(self, operator: Client, invoice: Invoice, row: BulkRow, today: date):
        """A cheque or wire for an invoice chased by its own workflow."""
        async with audit.refusals(self.sessions, f"operator:{operator.id}", "payment", "invoice", invoice.number,
                                  method=row.method, amount=row.amount, reference=row.reference,
                                  received_on=row.received_on):
            payment = payments.manual_payment(operator, method=row.method, amount=row.amount,
                                              currency=invoice.currency, reference=row.reference,
                                              received_on=row.received_on, today=today)
            return await self.gateway.invoice(invoice.number).record_payment(payment)

    def _due(self, due_on: str | None, now: datetime) -> datetime:
        if not due_on:
            return now + timedelta(days=self.settings.custom_invoice_due_days)
        try:
            day = date.fromisoformat(due_on.strip())
        except ValueError:
            raise refuse(Refusals.DATE_INVALID, "due_on", message="Give the due date as YYYY-MM-DD.") from None
        return datetime.combine(day, time(23, 59), timezone.utc)

    async def create_invoice(self, operator: Client, client_id: int, items: list[Item], due_on: str | None,
                             today: date, draft: bool = False) -> Invoice:
        """An operator's own invoice (support hours, setup work): issued, emailed, chased by its
        workflow; or a draft, which waits unseen by the client until an operator issues it."""
        now = datetime.now(timezone.utc)
        due = self._due(due_on, now)
        actor = f"operator:{operator.id}"
        async with self.sessions.begin() as session:
            client = await session.get(Client, client_id)
            if client is None:
                raise refuse(Refusals.CLIENT_UNKNOWN, "client_id", client_id=client_id)
            invoice = await dunning.create_custom_invoice(session, client, items, now=now, due_at=due,
                                                          terms=self.settings.invoice_terms(client), actor=actor,
                                                          draft=draft)
        if not draft:
            await self._chase(invoice, client, actor)
        return invoice

    async def update_draft(self, operator: Client, invoice_id: int, items: list[Item], due_on: str | None) -> Invoice:
        now = datetime.now(timezone.utc)
        async with self.sessions.begin() as session:
            draft = await dunning.locked_draft(session, invoice_id)
            client = await session.get(Client, draft.client_id)
            return await dunning.update_draft(session, invoice_id, items, now=now, due_at=self._due(due_on, now),
                                              terms=self.settings.invoice_terms(client),
                                              actor=f"operator:{operator.id}")

    async def issue_draft(self, operator: Client, invoice_id: int) -> Invoice:
        """Number the draft, tax it at the client's rate and hand it to its workflow (emailed, chased)."""
        actor = f"operator:{operator.id}"
        async with self.sessions.begin() as session:
            draft = await dunning.locked_draft(session, invoice_id)
            client = await session.get(Client, draft.client_id)
            assert client is not None
            invoice = await dunning.issue_draft(session, invoice_id, now=datetime.now(timezone.utc),
                                                terms=self.settings.invoice_terms(client), actor=actor)
        await self._chase(invoice, client, actor)
        return invoice

    async def delete_draft(self, operator: Client, invoice_id: int) -> str:
        async with self.sessions.begin() as session:
            return await dunning.delete_draft(session, invoice_id, f"operator:{operator.id}")

    async def _chase(self, invoice: Invoice, client: Client, actor: str) -> None:
        """Start the issued invoice's workflow; if it cannot start, the invoice is cancelled with a
        credit note (its number stays accounted for) and the operator is told to try again."""
        await self.gateway.start_invoice(invoice_input(invoice, client, self.settings.dunning()), actor)

    async def adjust_credit(self, operator: Client, client_id: int, amount: str, reason: str,
                            reference: str = "") -> tuple[int, str, Money]:
        """Add (or, with a minus sign, take back) credit with a reason the client sees; never below
        zero. Returns the entry's id and reference and the new balance."""
        async with audit.refusals(self.sessions, f"operator:{operator.id}", "credit.adjust", "client", client_id,
                                  amount=amount, reason=reason):
            money = parse_signed_amount(amount, self.settings.currency)
            async with self.sessions.begin() as session:
                entry = await credit.adjust(session, client_id=client_id, amount=money, reason=reason,
                                            actor=f"operator:{operator.id}",
                                            reference=reference.strip() or f"adj:{uuid.uuid4()}")
                await session.flush()
                return entry.id, entry.reference, await credit.balance(session, client_id, self.settings.currency)

    async def create_promo(self, operator: Client, rule: PromoRule):
        async with self.sessions.begin() as session:
            return await promos.create(session, rule, self.settings.currency, f"operator:{operator.id}")

    async def set_promo_active(self, operator: Client, code: str, active: bool):
        async with self.sessions.begin() as session:
            row = await promos.set_active(session, normalize_code(code, "code"), active, f"operator:{operator.id}")
            return row, await promos.uses(session, row.id)

    async def promo_codes(self):
        async with self.sessions() as session:
            return await promos.listing(session)

    async def set_billing_mode(self, operator: Client, client_id: int, mode: str) -> Client:
        async with self.sessions.begin() as session:
            return await dunning.set_billing_mode(session, client_id, parse_billing_mode(mode),
                                                  f"operator:{operator.id}")

    async def invoices(self, status: str = "", client_id: int | None = None) -> list[tuple[Invoice, Client, int]]:
        if status and status not in INVOICE_STATUSES:
            raise refuse(Refusals.STATUS_INVALID, "status", names=", ".join(INVOICE_STATUSES))
        async with self.sessions() as session:
            return await dunning.operator_invoices(session, status=status, client_id=client_id)

    async def arrears(self) -> list[dunning.Dunned]:
        async with self.sessions() as session:
            return await dunning.clients_in_arrears(session, datetime.now(timezone.utc), self.settings.currency)

    async def cancel_invoice(self, operator: Client, number: str, reason: str) -> dict:
        """An order still waiting for payment is cancelled by its workflow (holds released, client
        told, credit note issued); any other issued invoice gets its credit note here."""
        async with audit.refusals(self.sessions, f"operator:{operator.id}", "invoice.cancel", "invoice",
                                  (number or "").strip()[:32], reason=reason):
            return await self._cancel_invoice(operator, number, reason)

    async def _cancel_invoice(self, operator: Client, number: str, reason: str) -> dict:
        reason = " ".join((reason or "").split())[:300]
        if not reason:
            raise refuse(Refusals.REASON_MISSING, "reason")
        async with self.sessions() as session:
            invoice = await self._invoice(session, number)
            order = await session.get(Order, invoice.order_id) if invoice.order_id else None
            chased = await self._chased(session, invoice)
        if invoice.status == InvoiceStatus.CANCELLED:
            raise refuse(Refusals.INVOICE_CANCELLED, "invoice",
                         message=f"Invoice {invoice.number} is already cancelled.")
        if invoice.status == InvoiceStatus.DRAFT:
            raise refuse(Refusals.INVOICE_DRAFT, "invoice",
                         message=f"{invoice.number} is a draft; delete it instead (it has no number to account for).")
        if chased and invoice.status == InvoiceStatus.UNPAID:   # its own workflow cancels it (and lifts any suspension)
            if await self.gateway.invoice(invoice.number).cancel(CancelRequest(reason, f"operator:{operator.id}")):
                return {"invoice": invoice.number, "status": "cancelling"}
            log.warning("invoice %s has no running workflow; cancelling it directly", invoice.number)
        if order is not None and order.status == OrderStatus.PENDING_PAYMENT:
            await self.gateway.order(order.id).cancel(CancelRequest(reason, f"operator:{operator.id}"))
            return {"invoice": invoice.number, "status": "cancelling"}
        async with self.sessions.begin() as session:
            note = await billing.cancel_invoice(session, invoice_id=invoice.id, reason=reason,
                                                actor=f"operator:{operator.id}", now=datetime.now(timezone.utc))
        assert note is not None
        return {"invoice": invoice.number, "status": InvoiceStatus.CANCELLED, "credit_note": note.number,
                "credited": Money(note.credited_minor, note.currency).amount()}

    async def refund(self, operator: Client, number: str, amount: str, reason: str, key: str | None) -> dict:
        """Request a refund of part or all of an invoice's PayPal payment, answered at once: the refund
        is held against the capture here (more than is left is refused now), then its workflow asks
        PayPal; `refunds()` shows how it went. The key (Idempotency-Key) makes a repeated request the
        same refund; without one each request is a new refund."""
        async with audit.refusals(self.sessions, f"operator:{operator.id}", "refund", "invoice",
                                  (number or "").strip()[:32], amount=amount, reason=reason, key=key or ""):
            return await self._refund(operator, number, amount, reason, key)

    async def _refund(self, operator: Client, number: str, amount: str, reason: str, key: str | None) -> dict:
        key = (key or "").strip()[:80] or str(uuid.uuid4())
        actor = f"operator:{operator.id}"
        async with self.sessions() as session:
            invoice = await self._invoice(session, number)
        money = Money.parse(amount, invoice.currency)
        if money.minor <= 0:
            raise refuse(Refusals.AMOUNT_INVALID, "amount", message="A refund must be more than zero.")
        # The hold is written here, as an order is at checkout, so that the operator learns at once
        # whether the money is there to give back; the workflow's own reservation finds it by key.
        async with self.sessions.begin() as session:
            held = await billing.reserve_refund(session, key=key, invoice_number=invoice.number, amount=money,
                                                reason=reason, actor=actor)
        refund = RefundView.of(held)
        if refund.status == RefundStatus.REQUESTED:
            try:
                await self.gateway.start_refund(RefundInput(key, invoice.number, money.minor, money.currency,
                                                            reason, actor))
            except BusinessError:
                async with self.sessions.begin() as session:   # released: nothing was asked of PayPal
                    await billing.fail_refund(session, refund_id=refund.id,
                                              message="not started: workflow service unavailable")
                raise
        return {"invoice": invoice.number, **refund.as_dict()}

    async def refunds(self, number: str) -> list["RefundView"]:
        """The invoice's refunds, oldest first, each as far as it has got (from the refunds table)."""
        async with self.sessions() as session:
            invoice = await self._invoice(session, number)
            return [RefundView.of(r) for r in (await billing.refunds_of(session, [invoice.id])).get(invoice.id, [])]

    async def refunds_by_invoice(self, invoice_ids: list[int]) -> dict[int, list["RefundView"]]:
        async with self.sessions() as session:
            found = await billing.refunds_of(session, invoice_ids)
        return {invoice_id: [RefundView.of(r) for r in rows] for invoice_id, rows in found.items()}

    async def export_csv(self, kind: str, start: str | None, end: str | None, today: date) -> tuple[str, str]:
        first, last = exports.parse_range(start, end, today)
        async with self.sessions() as session:
            found = await exports.rows(session, kind, first, last)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=exports.COLUMNS[kind], lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(found)
        return f"{kind}-{first.isoformat()}-{last.isoformat()}.csv", out.getvalue()
