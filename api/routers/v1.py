"""The JSON API under /api/v1: session, catalog, availability, orders, PayPal checkout, addresses."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.params import Id
from api.deps import (AccountsDep, BillingDep, CheckoutDep, CsrfHeader, DestinationsDep, MailboxesDep, MaybeClient, Operator, ReadSessionsDep,
                      RenewalsDep, SessionsDep, SettingsDep, SignedIn)
from api.services.billing import BulkRow, promo_rule
from store.invoicing import Item
from api.services.renewals import Choice
from api.ratelimit import limit_checks
from api.services import cart, payments
from api.services.mailboxes import parse_when
from workflows.contracts import Autoresponder
from api.services.ordering import WantedAddress
from api.views import addresses_view, grid_view, order_view, surname_initial
from core.errors import BusinessError
from core.addresses import display_domain, normalize_domain
from core.billing import Line
from core.money import Money
from store import billing as billing_store
from store import catalog, credit, orders, promos, reserved

router = APIRouter(prefix="/api/v1", tags=["api"])


class SignUp(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)
    name: str = Field(min_length=1, max_length=200)


class SignIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class OrderLineIn(BaseModel):
    local_part: str = Field(max_length=200, description="the name before the @")
    domain: str = Field(max_length=253)
    kind: str = Field(default="forwarder", max_length=20)
    years: int = Field(ge=1, le=10)
    destination: str = Field(default="", max_length=320, description="where a forwarder delivers")
    password: str = Field(default="", max_length=128, description="a mailbox's password (mailboxes only)")


class ReservedIn(BaseModel):
    pattern: str = Field(max_length=100, description="an exact name, or a prefix ending in * (admin*)")
    domain: str | None = Field(default=None, max_length=253, description="omit for the global list")
    reason: str = Field(default="", max_length=200)


class CartPick(BaseModel):
    address: str = Field(max_length=320)
    kind: str = Field(default="forwarder", max_length=20)


class CartIn(BaseModel):
    picks: list[CartPick] = Field(min_length=1, max_length=50)


class ManualIn(BaseModel):
    method: str = Field(max_length=20, description="cheque or wire")


class PaymentIn(BaseModel):
    method: str = Field(max_length=20, description="cheque or wire")
    amount: str = Field(max_length=20, description="decimal, e.g. 24.00: part of what is due, all of it, or more "
                                                   "(the excess becomes the client's credit)")
    reference: str = Field(max_length=100, description="cheque number or bank reference")
    received_on: str = Field(max_length=10, description="YYYY-MM-DD")


class DestinationIn(BaseModel):
    destination: str = Field(max_length=320)


class PasswordIn(BaseModel):
    password: str = Field(max_length=1024)


class AutoresponderIn(BaseModel):
    subject: str = Field(max_length=200)
    body: str = Field(max_length=10_000)
    interval_hours: int = Field(default=24, ge=0, le=720, description="hours between replies to one sender")
    start: str | None = Field(default=None, max_length=40, description="ISO time, UTC unless it says; default now")
    stop: str | None = Field(default=None, max_length=40, description="ISO time; default: until cleared")


class RenewalChoiceIn(BaseModel):
    address: str = Field(max_length=320)
    action: str = Field(max_length=10, description="confirm or decline")
    years: int = Field(default=1, ge=1, le=10, description="for confirm: years to add to the current term")


class RenewalsIn(BaseModel):
    items: list[RenewalChoiceIn] = Field(min_length=1, max_length=200)


class CodeIn(BaseModel):
    code: str = Field(max_length=40, description="the renewal code from the renewal invoice email")
    decision: str | None = Field(default=None, max_length=10, description="confirm or decline; omit to look up")


class AutoRenewIn(BaseModel):
    enabled: bool


class CreditIn(BaseModel):
    amount: str = Field(max_length=20, description="decimal; negative (-5.00) takes credit away")
    reason: str = Field(max_length=300, description="shown to the client")
    reference: str = Field(default="", max_length=100, description="idempotency key: the same one is applied once")


class BulkPaymentIn(PaymentIn):
    invoice: str = Field(max_length=32, description="the invoice number the payment is for")


class BulkPaymentsIn(BaseModel):
    payments: list[BulkPaymentIn] = Field(min_length=1, max_length=200)


class CancelInvoiceIn(BaseModel):
    reason: str = Field(max_length=300, description="printed on the credit note")


class RefundIn(BaseModel):
    amount: str = Field(max_length=20, description="decimal; at most what is left of the PayPal payment")
    reason: str = Field(max_length=300, description="the payer sees it")


class InvoiceLineIn(BaseModel):
    description: str = Field(max_length=400)
    quantity: int = Field(default=1, ge=1, le=100_000)
    unit_price: str = Field(max_length=20, description="decimal, e.g. 45.00")
    discount: str | None = Field(default=None, max_length=20, description="off this line, e.g. 5.00")
    period_start: date | None = None
    period_end: date | None = None


class DraftIn(BaseModel):
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=50)
    due_on: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD; default CUSTOM_INVOICE_DUE_DAYS")


class CustomInvoiceIn(DraftIn):
    client_id: Id
    draft: bool = Field(default=False, description="keep it as an unnumbered draft, unseen by the client")


class BillingModeIn(BaseModel):
    mode: str = Field(max_length=12, description="prepaid | postpaid | exempt")


class ApplyCreditIn(BaseModel):
    enabled: bool


class PromoIn(BaseModel):
    code: str = Field(max_length=40, description="letters, digits, - and _; matched case-insensitively")
    percent: str | None = Field(default=None, max_length=6, description="e.g. 10 or 12.5 (percent off), or")
    amount: str | None = Field(default=None, max_length=20, description="a fixed amount off the order, e.g. 5.00")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_uses: int | None = Field(default=None, description="overall; omit for no limit")
    max_uses_per_client: int | None = None
    kinds: list[str] = Field(default_factory=list, max_length=2, description="forwarder, mailbox; empty: both")
    domains: list[str] = Field(default_factory=list, max_length=200, description="empty: every domain")


class PromoActiveIn(BaseModel):
    active: bool


class OrderIn(BaseModel):
    lines: list[OrderLineIn] = Field(min_length=1, max_length=20)
    promo_code: str | None = Field(default=None, max_length=40, description="a promo code; refused with the reason "
                                                                           "if it cannot be used (nothing is ordered)")


def _client_json(client) -> dict:
    return {"id": client.id, "email": client.email, "name": client.name}


@router.get("/auth/session")
async def session_info(request: Request, client: MaybeClient):
    """The CSRF token to send as X-CSRF-Token on every write, and who is signed in."""
    return {"signed_in": client is not None, "client": _client_json(client) if client else None,
            "csrf_token": request.state.session["csrf"]}


@router.post("/auth/signup", status_code=202, dependencies=[CsrfHeader])
async def signup(request: Request, body: SignUp, accounts: AccountsDep):
    """The same answer whether or not the address has an account: the next step is in an email
    (a new account's sign-in link; for an existing one, a note to its owner). Nobody is signed in."""
    message = await accounts.sign_up(body.email, body.password, body.name)
    return {"status": "check_email", "message": message, "csrf_token": request.state.session["csrf"]}


@router.post("/auth/login", dependencies=[CsrfHeader])
async def login(request: Request, body: SignIn, accounts: AccountsDep):
    """Refused with 429 `too_many_attempts` after repeated failures for the address or from the network."""
    client = await accounts.sign_in(request, body.email, body.password)
    return {"client": _client_json(client), "csrf_token": request.state.session["csrf"]}


@router.post("/auth/logout", dependencies=[CsrfHeader])
async def logout(request: Request, accounts: AccountsDep):
    """Ends this session on the server: the cookie signs nobody in again, wherever it was copied."""
    await accounts.sign_out(request)
    return {"signed_in": False, "csrf_token": request.state.session["csrf"]}


@router.post("/auth/logout-everywhere", dependencies=[CsrfHeader])
async def logout_everywhere(request: Request, client: SignedIn, accounts: AccountsDep):
    """Ends every session of the signed-in client: every browser and API client, this one included."""
    ended = await accounts.sign_out_everywhere(request, client)
    return {"signed_in": False, "sessions_ended": ended, "csrf_token": request.state.session["csrf"]}


@router.get("/catalog")
async def get_catalog(sessions: SessionsDep):
    """Categories (subcategories name their parent) with how many listed domains each holds."""
    async with sessions() as session:
        rows = await catalog.category_counts(session)
    return {"categories": [{"name": n, "slug": s, "parent": p, "domains": c} for n, s, p, c in rows]}


@router.get("/domains")
async def get_domains(sessions: SessionsDep, q: Annotated[str, Query(max_length=100)] = "",
                      category: Annotated[str, Query(max_length=160)] = "", page: Annotated[int, Query(ge=1)] = 1,
                      per_page: Annotated[int, Query(ge=1, le=200)] = 60):
    """Listed domains matching `q` (Unicode or punycode) in a category and its subcategories, paged."""
    async with sessions() as session:
        found = await catalog.search_domains(session, q=q, category_slug=category, page=page, per_page=per_page)
    return {"domains": found.domains, "total": found.total, "page": found.page, "pages": found.pages}


@router.get("/availability", dependencies=[Depends(limit_checks)])
async def get_availability(request: Request, sessions: ReadSessionsDep, settings: SettingsDep, client: MaybeClient,
                           names: Annotated[str, Query(max_length=2000, description="comma-separated names")],
                           domains: Annotated[str, Query(max_length=6000, description="comma-separated domains")]):
    """Every name × domain: available, taken, unavailable (reserved or existing) or invalid with the
    reason; cells that are gone carry up to five free alternatives. Operators see the exact status."""
    async with sessions() as session:
        grid = await grid_view(session, settings, names.split(","), domains.split(","),
                               operator=bool(client and client.is_operator), initial=surname_initial(client),
                               portfolio=request.app.state.portfolio)
    return JSONResponse(grid)  # plain JSON already: skip the generic encoder on 200-cell answers


@router.post("/orders", status_code=201, dependencies=[CsrfHeader])
async def create_order(body: OrderIn, client: SignedIn, checkout: CheckoutDep, sessions: SessionsDep):
    wanted = [WantedAddress(l.local_part, l.domain, l.kind, l.years, l.destination, l.password) for l in body.lines]
    order = await checkout.place_order(client, wanted, body.promo_code or "")
    async with sessions() as session:
        return (await order_view(session, checkout, order.id, client.id)).as_dict()


@router.get("/orders/{order_id}")
async def get_order(order_id: Id, client: SignedIn, checkout: CheckoutDep, sessions: SessionsDep):
    async with sessions() as session:
        return (await order_view(session, checkout, order_id, client.id)).as_dict()


async def _payable_order(sessions, checkout, order_id: Id, client) -> None:
    """The client's own order, still waiting for its money (not paid, cancelled, or on account)."""
    async with sessions() as session:
        view = await order_view(session, checkout, order_id, client.id)
    if view.status != "pending_payment":
        raise BusinessError("order_not_payable", f"Order {order_id} is {view.status}; there is nothing to pay on it "
                            "here.", status=409)


@router.post("/orders/{order_id}/paypal", dependencies=[CsrfHeader])
async def pay_with_paypal(order_id: Id, client: SignedIn, checkout: CheckoutDep, sessions: SessionsDep):
    """Creates (once) the PayPal order; send the buyer to `approve_url`."""
    await _payable_order(sessions, checkout, order_id, client)
    started = await checkout.begin_paypal(order_id)
    return {"paypal_order_id": started.paypal_order_id, "approve_url": started.approve_url}


@router.post("/orders/{order_id}/manual", dependencies=[CsrfHeader])
async def pay_manually(order_id: Id, body: ManualIn, client: SignedIn, checkout: CheckoutDep,
                       sessions: SessionsDep, settings: SettingsDep):
    """Pay by cheque or wire: the addresses stay held (14 days by default) until an operator records it."""
    await _payable_order(sessions, checkout, order_id, client)
    instructions = await checkout.choose_manual(order_id, payments.customer_method(body.method, settings))
    return payments.how_to_pay(settings, instructions).as_dict()


@router.post("/orders/{order_id}/cancel", status_code=202, dependencies=[CsrfHeader])
async def cancel_order(order_id: Id, client: SignedIn, checkout: CheckoutDep, sessions: SessionsDep):
    """Cancel an unpaid order: its addresses are released at once."""
    async with sessions() as session:
        view = await order_view(session, checkout, order_id, client.id)
    if view.status != "pending_payment":
        raise BusinessError("order_not_cancellable", f"Order {order_id} is {view.status}; it cannot be cancelled.",
                            status=409)
    await checkout.cancel(order_id, f"client:{client.id}")
    return {"status": "cancelling"}


@router.post("/operator/orders/{order_id}/payments", dependencies=[CsrfHeader])
async def record_manual_payment(order_id: Id, body: PaymentIn, operator: Operator, checkout: CheckoutDep,
                                settings: SettingsDep):
    """Operators: record a cheque or wire that arrived. Refused unless it settles the order exactly;
    the same cheque recorded twice (by two operators at once, say) is taken once."""
    state = await payments.record(checkout, operator, order_id, method=body.method, amount=body.amount,
                                  currency=settings.currency, reference=body.reference,
                                  received_on=body.received_on, today=date.today())
    return {"order_id": order_id, "status": state.status}


@router.post("/orders/{order_id}/credit", dependencies=[CsrfHeader])
async def pay_order_with_credit(order_id: Id, client: SignedIn, billing: BillingDep):
    """Pay the order from your credit balance: all that is due, or as much as the balance holds (the
    rest stays due, to pay another way)."""
    state = await billing.pay_with_credit(client, order_id)
    return {"order_id": order_id, "status": state.status, "message": state.message,
            "due": Money(state.due_minor or 0).amount() if state.due_minor is not None else None}


@router.post("/operator/payments", dependencies=[CsrfHeader])
async def record_payments_in_bulk(body: BulkPaymentsIn, operator: Operator, billing: BillingDep):
    """Operators: record many cheques and wires at once, as from a bank statement. Each row is taken
    or refused (with its code and reason) on its own; a refused row changes nothing."""
    rows = [BulkRow(p.invoice, p.method, p.amount, p.reference, p.received_on) for p in body.payments]
    results = await billing.record_bulk(operator, rows, date.today())
    return {"recorded": sum(1 for r in results if r["recorded"]), "refused": sum(1 for r in results if not r["recorded"]),
            "results": results}


def _items(lines: list[InvoiceLineIn], currency: str) -> list[Item]:
    items = []
    for i, line in enumerate(lines):
        unit = Money.parse(line.unit_price, currency, f"lines.{i}.unit_price")
        discount = Money.parse(line.discount, currency, f"lines.{i}.discount") if line.discount else None
        if line.period_start and line.period_end and line.period_end < line.period_start:
            raise BusinessError("period_invalid", "A service period ends after it starts.", f"lines.{i}.period_end")
        items.append(Item(Line(" ".join(line.description.split()), line.quantity, unit, discount), 0,
                          line.period_start, line.period_end))
    return items


def _invoice_json(invoice, client=None, paid: int | None = None) -> dict:
    money = lambda minor: Money(minor, invoice.currency).amount()  # noqa: E731
    out = {"id": invoice.id, "number": invoice.number, "status": invoice.status, "client_id": invoice.client_id,
           "total": money(invoice.total_minor), "tax": money(invoice.tax_minor),
           "issued_at": invoice.issued_at.isoformat(timespec="seconds"), "due_at": invoice.due_at.isoformat(),
           "pdf": f"/api/v1/invoices/{invoice.number}.pdf"}
    if client is not None:
        out["client_email"] = client.email
    if paid is not None:
        out["paid"] = money(paid)
        out["due"] = money(max(0, invoice.total_minor - paid) if invoice.status == "unpaid" else 0)
    return out


@router.post("/operator/invoices", status_code=201, dependencies=[CsrfHeader])
async def create_custom_invoice(body: CustomInvoiceIn, operator: Operator, billing: BillingDep, settings: SettingsDep):
    """Operators: an invoice of your own (support hours, setup work) for a client, taxed at the client's
    rate, emailed with its PDF, paid from credit as far as it goes, then chased: a reminder before the
    due date, overdue reminders, and the client's addresses suspended after DUNNING_SUSPEND_AFTER_DAYS.
    With `"draft": true` it is kept unnumbered and unseen by the client until you issue it."""
    invoice = await billing.create_invoice(operator, body.client_id, _items(body.lines, settings.currency),
                                           body.due_on, date.today(), draft=body.draft)
    return _invoice_json(invoice)


@router.get("/operator/invoices")
async def list_invoices(operator: Operator, billing: BillingDep,
                        status: Annotated[str, Query(max_length=12)] = "",
                        client_id: Id | None = None):
    """Operators: invoices newest first (100 at most), by status (draft, unpaid, paid, cancelled,
    refunded) and client, with what is paid and due on each."""
    rows = await billing.invoices(status.strip(), client_id)
    return {"invoices": [_invoice_json(invoice, client, paid) for invoice, client, paid in rows]}


@router.put("/operator/invoices/drafts/{invoice_id}", dependencies=[CsrfHeader])
async def update_draft(invoice_id: Id, body: DraftIn, operator: Operator, billing: BillingDep, settings: SettingsDep):
    """Operators: replace a draft's lines and due date. An issued invoice is never edited."""
    return _invoice_json(await billing.update_draft(operator, invoice_id, _items(body.lines, settings.currency),
                                                    body.due_on))


@router.post("/operator/invoices/drafts/{invoice_id}/issue", dependencies=[CsrfHeader])
async def issue_draft(invoice_id: Id, operator: Operator, billing: BillingDep):
    """Operators: issue a draft: it takes the next invoice number, today's date and the client's tax
    rate, and is emailed and chased like any invoice of yours."""
    return _invoice_json(await billing.issue_draft(operator, invoice_id))


@router.delete("/operator/invoices/drafts/{invoice_id}", status_code=204, dependencies=[CsrfHeader])
async def delete_draft(invoice_id: Id, operator: Operator, billing: BillingDep):
    """Operators: throw a draft away (it was never numbered, so nothing needs a credit note)."""
    await billing.delete_draft(operator, invoice_id)
    return Response(status_code=204)


@router.put("/operator/clients/{client_id}/billing", dependencies=[CsrfHeader])
async def set_billing_mode(client_id: Id, body: BillingModeIn, operator: Operator, billing: BillingDep):
    """Operators: how a client is billed from their next order or renewal on. `prepaid` (the default):
    addresses start once paid. `postpaid`: they start at once; the invoice is due POSTPAID_DUE_DAYS later
    and chased like your own invoices (reminders, then suspension). `exempt`: never invoiced."""
    client = await billing.set_billing_mode(operator, client_id, body.mode)
    return {"client_id": client.id, "billing_mode": client.billing_mode}


@router.get("/operator/dunning")
async def dunning_list(operator: Operator, billing: BillingDep):
    """Operators: clients with overdue invoices of yours, most reminded first."""
    return {"clients": [{"client_id": d.client.id, "email": d.client.email, "name": d.client.name,
                         "overdue_invoices": d.invoices, "reminders": d.reminders, "owed": d.owed.amount(),
                         "oldest_due": d.oldest_due.date().isoformat(),
                         "suspended": d.client.suspended_at is not None} for d in await billing.arrears()]}


@router.post("/operator/invoices/{number}/cancel", dependencies=[CsrfHeader])
async def cancel_invoice(number: str, body: CancelInvoiceIn, operator: Operator, billing: BillingDep):
    """Operators: cancel an issued invoice. It is never edited: a credit note for its total is issued,
    and anything paid on it goes to the client's credit balance. An order still waiting for payment
    is cancelled with it (its addresses released)."""
    return await billing.cancel_invoice(operator, number, body.reason)


@router.post("/operator/invoices/{number}/refunds", status_code=202, dependencies=[CsrfHeader])
async def refund_invoice(number: str, body: RefundIn, operator: Operator, billing: BillingDep,
                         idempotency_key: Annotated[str | None, Header(max_length=80)] = None):
    """Operators: refund part or all of the invoice's PayPal payment through PayPal. Answered at once
    (202) with the refund's id and status (`requested`: held against the payment, PayPal asked next);
    follow it on GET .../refunds. More than is left of the payment is refused at once (409). Send an
    Idempotency-Key header so that a repeated request is the same refund, never a second one."""
    return await billing.refund(operator, number, body.amount, body.reason, idempotency_key)


@router.get("/operator/invoices/{number}/refunds")
async def invoice_refunds(number: str, operator: Operator, billing: BillingDep):
    """Operators: the invoice's refunds, oldest first, each `requested`, `pending` (PayPal is still
    processing it), `completed` or `failed` (with PayPal's reason in `message`)."""
    return {"invoice": number.strip()[:32], "refunds": [r.as_dict() for r in await billing.refunds(number)]}


@router.post("/operator/promo-codes", status_code=201, dependencies=[CsrfHeader])
async def create_promo_code(body: PromoIn, operator: Operator, billing: BillingDep, settings: SettingsDep):
    """Operators: a promo code, a percentage or a fixed amount off, in a window, with limits of uses
    overall and per client, for some kinds or domains only."""
    rule = promo_rule(code=body.code, percent=body.percent, amount=body.amount, starts_at=body.starts_at,
                      ends_at=body.ends_at, max_uses=body.max_uses, max_uses_per_client=body.max_uses_per_client,
                      kinds=body.kinds, domains=body.domains, currency=settings.currency)
    return _promo_json(await billing.create_promo(operator, rule), 0)


@router.get("/operator/promo-codes")
async def list_promo_codes(operator: Operator, billing: BillingDep):
    return {"promo_codes": [_promo_json(row, used) for row, used in await billing.promo_codes()]}


@router.post("/operator/promo-codes/{code}/active", dependencies=[CsrfHeader])
async def set_promo_active(code: str, body: PromoActiveIn, operator: Operator, billing: BillingDep):
    return _promo_json(*await billing.set_promo_active(operator, code, body.active))


def _promo_json(row, used: int) -> dict:
    rule = promos.rule_of(row)
    return {"code": row.code, "value": rule.describe(), "active": row.active, "uses": used,
            "max_uses": row.max_uses, "max_uses_per_client": row.max_uses_per_client,
            "kinds": list(rule.kinds), "domains": list(rule.domains),
            "starts_at": row.starts_at.isoformat() if row.starts_at else None,
            "ends_at": row.ends_at.isoformat() if row.ends_at else None}


@router.get("/operator/exports/{kind}.csv")
async def export_csv(kind: str, operator: Operator, billing: BillingDep,
                     start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                     end: Annotated[str | None, Query(alias="to", max_length=10)] = None):
    """Operators: invoices, payments, credit-notes or credit (the ledger) for a period, as CSV."""
    name, text = await billing.export_csv(kind, start, end, date.today())
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/addresses/{address}/destination", status_code=202, dependencies=[CsrfHeader])
async def change_destination(address: str, body: DestinationIn, client: SignedIn, changes: DestinationsDep):
    """Forward elsewhere: the new destination is emailed a confirmation link (48 hours) and the switch
    happens only when it is followed; the old destination keeps receiving meanwhile."""
    change = await changes.request(client, address[:320], body.destination)
    return {"change_id": change.id, "status": "awaiting_confirmation", "destination": change.new_destination,
            "expires_at": change.expires_at.isoformat(timespec="minutes")}


@router.get("/addresses/{address}/mailbox")
async def mailbox_status(address: str, client: SignedIn, mailboxes: MailboxesDep):
    """How full the mailbox is (live from cPanel), whether an automatic reply is on, and how the latest
    change (automatic reply or password) ended: `last_change.ok` false with the refusal's code and
    sentence when it did not reach the mail server."""
    usage = await mailboxes.usage(client, address[:320])
    last = await mailboxes.last_change(client, address[:320])
    return {"address": address.lower(), "used_mb": usage.used_mb, "quota_mb": usage.quota_mb,
            "autoresponder": usage.autoresponder_subject or None,
            "last_change": None if last is None else {
                "what": last.what, "ok": last.ok, "code": last.code or None, "message": last.message or None,
                "at": last.at.isoformat(timespec="seconds") if last.at else None}}


@router.post("/addresses/{address}/password", status_code=202, dependencies=[CsrfHeader])
async def change_mailbox_password(address: str, body: PasswordIn, client: SignedIn, mailboxes: MailboxesDep):
    await mailboxes.change_password(client, address[:320], body.password)
    return {"status": "changing"}


@router.put("/addresses/{address}/autoresponder", dependencies=[CsrfHeader])
async def set_autoresponder(address: str, body: AutoresponderIn, client: SignedIn, mailboxes: MailboxesDep):
    reply = Autoresponder(True, body.subject, body.body, body.interval_hours,
                          parse_when(body.start, "start"), parse_when(body.stop, "stop"))
    await mailboxes.set_autoresponder(client, address[:320], reply)
    return {"autoresponder": body.subject}


@router.delete("/addresses/{address}/autoresponder", dependencies=[CsrfHeader])
async def clear_autoresponder(address: str, client: SignedIn, mailboxes: MailboxesDep):
    await mailboxes.set_autoresponder(client, address[:320], Autoresponder(False))
    return {"autoresponder": None}


@router.get("/addresses")
async def my_addresses(client: SignedIn, sessions: SessionsDep):
    async with sessions() as session:
        return {"addresses": await addresses_view(session, client.id)}


def _reserved_json(entry, domain: str | None) -> dict:
    return {"id": entry.id, "pattern": entry.pattern, "prefix": entry.is_prefix, "reason": entry.reason,
            "domain": display_domain(domain) if domain else None}


def _scope_domain(raw: str | None) -> str | None:
    return normalize_domain(raw, "domain") if raw and raw.strip() else None


@router.get("/reserved-names")
async def list_reserved(client: SignedIn, sessions: SessionsDep,
                        domain: Annotated[str, Query(max_length=253, description="omit for the global list")] = ""):
    """The global list (operators) or one domain's list (its owner or an operator)."""
    async with sessions() as session:
        scope = await reserved.scope_for(session, client, _scope_domain(domain))
        rows = await reserved.entries(session, scope)
    return {"list": scope.label, "entries": [_reserved_json(r, scope.domain.name if scope.domain else None)
                                             for r in rows]}


@router.post("/reserved-names", status_code=201, dependencies=[CsrfHeader])
async def add_reserved(body: ReservedIn, client: SignedIn, sessions: SessionsDep):
    async with sessions.begin() as session:
        scope = await reserved.scope_for(session, client, _scope_domain(body.domain))
        entry = await reserved.add(session, client, scope, body.pattern, body.reason)
        return _reserved_json(entry, scope.domain.name if scope.domain else None)


@router.delete("/reserved-names/{entry_id}", status_code=204, dependencies=[CsrfHeader])
async def remove_reserved(entry_id: Id, client: SignedIn, sessions: SessionsDep):
    async with sessions.begin() as session:
        await reserved.remove(session, client, entry_id)


async def _cart_json(request: Request, sessions) -> dict:
    lines = cart.lines(request.state.session)
    async with sessions() as session:
        now = await cart.statuses(session, lines, request.app.state.portfolio)
    return {"lines": [{"address": l.shown, "kind": l.kind, "status": now.get(l.address)} for l in lines]}


@router.get("/cart")
async def get_cart(request: Request, sessions: ReadSessionsDep):
    """The session's cart: what was picked, and whether each is still available now. Check out with
    POST /orders (one line per address, with term and destination or password)."""
    return await _cart_json(request, sessions)


@router.post("/cart", dependencies=[CsrfHeader])
async def add_to_cart(request: Request, body: CartIn, sessions: ReadSessionsDep):
    cart.add(request.state.session, [(p.address, p.kind) for p in body.picks])
    return await _cart_json(request, sessions)


@router.delete("/cart/{address}", dependencies=[CsrfHeader])
async def remove_from_cart(request: Request, address: str, sessions: ReadSessionsDep):
    cart.remove(request.state.session, address[:320])
    return await _cart_json(request, sessions)


@router.get("/renewals")
async def renewals_overview(client: SignedIn, renewals: RenewalsDep):
    """Every address of yours ending within the renewal window (3 months), those in grace too, with
    the years each may be renewed for, and your credit balance."""
    return (await renewals.overview(client)).as_dict()


@router.post("/renewals", status_code=201, dependencies=[CsrfHeader])
async def submit_renewals(body: RenewalsIn, client: SignedIn, renewals: RenewalsDep):
    """Confirm (with 1-10 years) or decline each address, in one go; confirmed ones share one renewal
    invoice, paid from credit at once when the balance covers it (auto-renew on), else pay it like an order."""
    done = await renewals.submit(client, [Choice(i.address, i.action, i.years) for i in body.items])
    return done.as_dict()


@router.post("/renewal-codes", dependencies=[CsrfHeader])
async def renewal_code(body: CodeIn, request: Request, renewals: RenewalsDep):
    """No sign-in: the code from the renewal invoice email looks the renewal up, and with `decision`
    confirms or declines it (once). Tries are limited per visitor."""
    decision = {None: None, "confirm": "confirmed", "decline": "declined"}.get(body.decision, "invalid")
    answer = await renewals.by_code(body.code, request.app.state.limiter.client_ip(request), decision)
    return answer.as_dict()


@router.post("/addresses/{address}/cancel", dependencies=[CsrfHeader])
async def cancel_address(address: str, client: SignedIn, renewals: RenewalsDep):
    """Cancel an address: it keeps working to its term end, then expires; no refund."""
    state = await renewals.cancel_address(client, address[:320])
    return {"address": state.address, "status": state.status, "cancel_at_term_end": state.cancel_at_term_end,
            "term_end": state.term_end.isoformat() if state.term_end else None}


@router.get("/account/credit")
async def my_credit(client: SignedIn, sessions: SessionsDep, settings: SettingsDep):
    async with sessions() as session:
        rows = await credit.entries(session, client.id)
        balance = await credit.balance(session, client.id, settings.currency)
    return {"balance": balance.amount(), "currency": balance.currency, "auto_renew": client.auto_renew,
            "apply_credit": client.apply_credit,
            "entries": [{"at": e.created_at.isoformat(timespec="seconds") if e.created_at else None,
                         "amount": Money(e.amount_minor, e.currency).amount(), "kind": e.kind, "reason": e.reason,
                         "reference": e.reference} for e in rows]}


@router.put("/account/auto-renew", dependencies=[CsrfHeader])
async def set_auto_renew(body: AutoRenewIn, client: SignedIn, renewals: RenewalsDep):
    """On: renewal invoices are paid from your credit balance when it covers them."""
    await renewals.set_auto_renew(client, body.enabled)
    return {"auto_renew": body.enabled}


@router.put("/account/apply-credit", dependencies=[CsrfHeader])
async def set_apply_credit(body: ApplyCreditIn, client: SignedIn, billing: BillingDep):
    """On (the default): each new invoice is paid from your credit balance as far as it goes."""
    await billing.set_apply_credit(client, body.enabled)
    return {"apply_credit": body.enabled}


@router.post("/operator/clients/{client_id}/credit", status_code=201, dependencies=[CsrfHeader])
async def adjust_credit(client_id: Id, body: CreditIn, operator: Operator, billing: BillingDep):
    """Operators: add (or take back) credit with a reason the client sees; never below zero."""
    entry, reference, balance = await billing.adjust_credit(operator, client_id, body.amount, body.reason,
                                                            body.reference)
    return {"entry": entry, "reference": reference, "balance": balance.amount()}


def _own_document(document, client, number: str):
    if document is None or (not client.is_operator and (document[0].client_id != client.id
                                                        or document[0].status == "draft")):
        raise BusinessError("invoice_not_found", f"There is no invoice {number} in your account.", "number", 404)
    return document


@router.get("/invoices")
async def my_invoices(client: SignedIn, sessions: SessionsDep):
    """Your invoices, newest first, with what is paid and still due, and any credit note cancelling one."""
    async with sessions() as session:
        rows = await billing_store.statement(session, client.id)
    return {"invoices": [{"number": i.number, "status": i.status, "issued_at": i.issued_at.isoformat(timespec="seconds"),
                          "due_at": i.due_at.isoformat(timespec="seconds"), "currency": i.currency,
                          "subtotal": Money(i.subtotal_minor, i.currency).amount(),
                          "discount": Money(i.discount_minor, i.currency).amount(),
                          "tax": Money(i.tax_minor, i.currency).amount(),
                          "total": Money(i.total_minor, i.currency).amount(),
                          "paid": Money(paid, i.currency).amount(), "due": Money(due, i.currency).amount(),
                          "credit_note": note.number if note else None,
                          "pdf": f"/api/v1/invoices/{i.number}.pdf"} for i, paid, due, note in rows]}


@router.post("/invoices/{number}/paypal", dependencies=[CsrfHeader])
async def pay_invoice_with_paypal(number: str, client: SignedIn, billing: BillingDep):
    """Pay one of your invoices that is not an order's (support work, a postpaid order) with PayPal: send
    the payer to `approve_url`; PayPal brings them back to /paypal/return and the payment is recorded."""
    checkout = await billing.begin_invoice_paypal(client, number)
    return {"paypal_order_id": checkout.paypal_order_id, "approve_url": checkout.approve_url}


@router.post("/invoices/{number}/credit", dependencies=[CsrfHeader])
async def pay_invoice_with_credit(number: str, client: SignedIn, billing: BillingDep):
    """Pay one of your invoices that is not an order's (support work, a postpaid order) from your credit
    balance: all that is due, or as much as the balance holds."""
    state = await billing.pay_invoice_with_credit(client, number)
    return {"invoice": state.number, "status": state.status, "due": state.due_minor, "message": state.message}


@router.get("/invoices/{number}.pdf")
async def invoice_pdf(number: str, client: SignedIn, sessions: SessionsDep, settings: SettingsDep):
    """The invoice as a PDF (the client's own; operators any)."""
    from store.invoice_pdf import render as invoice_pdf_render   # fpdf2 takes half a second to import
    async with sessions() as session:
        invoice, owner, paid = _own_document(await orders.invoice_document(session, number[:32]), client, number[:32])
        data = invoice_pdf_render(invoice, list(invoice.lines), owner, paid, settings.seller())
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="invoice-{invoice.number}.pdf"'})
