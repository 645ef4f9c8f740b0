"""Server-rendered pages: catalog, availability, order, PayPal return, sign-up/in, my addresses."""
from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, time, timezone
from pathlib import Path
from urllib.parse import urlencode
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.auth import csrf_ok
from api.params import Id
from api.deps import (AccountsDep, BillingDep, CheckoutDep, DestinationsDep, MailboxesDep, MaybeClient, RenewalsDep, SessionsDep,
                      SettingsDep)
from api.services.billing import INVOICE_STATUSES, BulkRow, promo_rule
from api.services.renewals import Choice
from api.services.accounts import normalize_email
from api.services import cart, payments
from api.services.mailboxes import parse_when
from workflows.contracts import PAYPAL_APPROVED, Autoresponder, PayPalApproved
from api.services.ordering import WantedAddress
from api.views import addresses_view, grid_view, order_view, surname_initial
from core.billing import BILLING_MODES, Line
from core.errors import BusinessError
from core.money import Money
from core.promos import MAX_USES
from core.addresses import display_domain, normalize_domain
from store.invoicing import Item
from store import billing, catalog, clients, credit, destinations, orders, promos, reserved, webhooks
from store.models import Domain, Subscription

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[2] / "templates" / "pages"))
router = APIRouter(include_in_schema=False)


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    context.setdefault("client", getattr(request.state, "client", None))
    context["csrf"] = request.state.session["csrf"]
    context["cart_size"] = len(request.state.session.get("cart", []))
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)


def error_page(request: Request, exc: BusinessError) -> HTMLResponse:
    if exc.code == "not_signed_in":
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)  # type: ignore[return-value]
    return render(request, "error.html", status=exc.status, error=exc)


def check_form_csrf(request: Request, token: str) -> None:
    if not csrf_ok(request, token):
        raise BusinessError("csrf_failed", "This form has expired; go back, reload the page and try again.", status=403)


def signed_in(client) -> None:
    if client is None:
        raise BusinessError("not_signed_in", "Sign in first.", status=401)


async def picker(session, q: str, category: str, page: int, chosen: list[str]) -> dict:
    """What the domain picker shows: categories with counts, one page of matches, the chosen ones."""
    return {"cats": await catalog.category_counts(session),
            "found": await catalog.search_domains(session, q=q[:100], category_slug=category[:160], page=page),
            "q": q[:100], "category": category[:160], "chosen": set(chosen), "chosen_list": chosen, "keep": ""}


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, sessions: SessionsDep, client: MaybeClient, q: str = "", category: str = "",
               page: int = 1):
    async with sessions() as session:
        context = await picker(session, q, category, page, [])
    return render(request, "index.html", client=client, **context)


@router.get("/check", response_class=HTMLResponse)
async def check(request: Request, sessions: SessionsDep, settings: SettingsDep, client: MaybeClient,
                names: Annotated[str, Query(max_length=2000)] = "",
                domain: Annotated[list[str] | None, Query()] = None, q: str = "", category: str = "", page: int = 1):
    chosen = list(dict.fromkeys(domain or []))[:200]
    wanted = [n for n in names.replace(",", "\n").splitlines() if n.strip()]
    async with sessions() as session:
        context = await picker(session, q, category, page, chosen)
        context["keep"] = urlencode({"names": names[:2000]})
        grid, error = None, None
        if names and (domain or not (q or category or page > 1)):
            request.app.state.limiter.check(request)
            try:
                grid = (await grid_view(session, settings, wanted, chosen, operator=bool(client and client.is_operator),
                                        initial=surname_initial(client), portfolio=request.app.state.portfolio))["cells"]
            except BusinessError as exc:
                error = exc
    columns = list(dict.fromkeys(c["domain"] for c in grid)) if grid else []
    rows = {}
    for cell in grid or []:
        rows.setdefault(cell["name"], {})[cell["domain"]] = cell
    return render(request, "check.html", rows=rows, columns=columns, error=error, names=names[:2000],
                  client=client, **context)


@router.post("/cart")
async def cart_add(request: Request, csrf: Annotated[str, Form()] = "",
                   pick: Annotated[list[str] | None, Form(max_length=320)] = None):
    """The grid's "add to cart": every ticked address with the kind chosen beside it."""
    check_form_csrf(request, csrf)
    form = await request.form()
    picks = [(address, str(form.get(f"kind:{address}", "forwarder"))[:20]) for address in (pick or [])[:50]]
    cart.add(request.state.session, picks)
    return RedirectResponse("/cart", status_code=303)


@router.get("/cart", response_class=HTMLResponse)
async def cart_page(request: Request, client: MaybeClient, sessions: SessionsDep, settings: SettingsDep):
    return await _render_cart(request, client, sessions, settings)


async def _render_cart(request: Request, client, sessions, settings, status: int = 200, error=None,
                       entered: dict | None = None) -> HTMLResponse:
    lines = cart.lines(request.state.session)
    async with sessions() as session:
        now = await cart.statuses(session, lines, request.app.state.portfolio)
    return render(request, "cart.html", status=status, client=client, lines=lines, now=now, error=error,
                  entered=entered or {}, terms={"forwarder": settings.forwarder_terms,
                                                "mailbox": settings.mailbox_terms},
                  prices={"forwarder": settings.forwarder_price_per_year, "mailbox": settings.mailbox_price_per_year},
                  currency=settings.currency, default_destination=client.email if client else "")


@router.post("/cart/remove")
async def cart_remove(request: Request, csrf: Annotated[str, Form()] = "",
                      address: Annotated[str, Form(max_length=320)] = ""):
    check_form_csrf(request, csrf)
    cart.remove(request.state.session, address)
    return RedirectResponse("/cart", status_code=303)


@router.post("/cart/checkout", response_class=HTMLResponse)
async def cart_checkout(request: Request, client: MaybeClient, sessions: SessionsDep, settings: SettingsDep,
                        checkout: CheckoutDep, csrf: Annotated[str, Form()] = ""):
    """Place one order for the whole cart: each line's kind, term and destination (or password)."""
    signed_in(client)
    check_form_csrf(request, csrf)
    form = await request.form()
    lines = cart.lines(request.state.session)
    entered = {key: str(value)[:1024] for key, value in form.items() if key != "csrf"}
    wanted = []
    for i, line in enumerate(lines):
        kind = entered.get(f"kind_{i}", line.kind)
        try:
            years = int(entered.get(f"years_{i}", "1"))
        except ValueError:
            years = 0
        wanted.append(WantedAddress(line.local_part, line.domain, kind, years, entered.get(f"destination_{i}", ""),
                                    entered.get(f"password_{i}", "")))
    try:
        order = await checkout.place_order(client, wanted, entered.get("promo_code", ""))
    except BusinessError as exc:
        entered = {k: v for k, v in entered.items() if not k.startswith("password_")}  # never echoed back
        return await _render_cart(request, client, sessions, settings, exc.status if exc.status < 500 else 503,
                                  exc, entered)
    cart.clear(request.state.session)
    return RedirectResponse(f"/orders/{order.id}", status_code=303)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_page(request: Request, order_id: Id, client: MaybeClient, sessions: SessionsDep,
                     checkout: CheckoutDep, settings: SettingsDep):
    signed_in(client)
    async with sessions() as session:
        view = await order_view(session, checkout, order_id, client.id)
        balance = await credit.balance(session, client.id, view.currency)
    return render(request, "order.html", client=client, order=view, balance=balance, payee_name=settings.payee_name,
                  payee_postal_address=settings.payee_postal_address, bank_details=settings.bank_details,
                  manual_methods=payments.offered_methods(settings))


async def _own_order_form(request: Request, client, sessions, checkout, order_id: Id, csrf: str):
    """A form posted about one of the client's own orders: signed in, fresh, and theirs."""
    signed_in(client)
    check_form_csrf(request, csrf)
    async with sessions() as session:
        return await order_view(session, checkout, order_id, client.id)


@router.post("/orders/{order_id}/pay")
async def order_pay(request: Request, order_id: Id, client: MaybeClient, sessions: SessionsDep,
                    checkout: CheckoutDep, csrf: Annotated[str, Form()] = ""):
    await _own_order_form(request, client, sessions, checkout, order_id, csrf)
    started = await checkout.begin_paypal(order_id)
    return RedirectResponse(started.approve_url, status_code=303)


@router.post("/orders/{order_id}/credit")
async def order_pay_with_credit(request: Request, order_id: Id, client: MaybeClient, sessions: SessionsDep,
                                checkout: CheckoutDep, billing_service: BillingDep, csrf: Annotated[str, Form()] = ""):
    await _own_order_form(request, client, sessions, checkout, order_id, csrf)
    await billing_service.pay_with_credit(client, order_id)
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


@router.post("/orders/{order_id}/manual")
async def order_pay_manually(request: Request, order_id: Id, client: MaybeClient, sessions: SessionsDep,
                             checkout: CheckoutDep, settings: SettingsDep, csrf: Annotated[str, Form()] = "",
                             method: Annotated[str, Form(max_length=20)] = ""):
    await _own_order_form(request, client, sessions, checkout, order_id, csrf)
    await checkout.choose_manual(order_id, payments.customer_method(method, settings))
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


@router.post("/orders/{order_id}/cancel")
async def order_cancel(request: Request, order_id: Id, client: MaybeClient, sessions: SessionsDep,
                       checkout: CheckoutDep, csrf: Annotated[str, Form()] = ""):
    view = await _own_order_form(request, client, sessions, checkout, order_id, csrf)
    if view.status == "pending_payment":
        await checkout.cancel(order_id, f"client:{client.id}")
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


@router.get("/operator/payments", response_class=HTMLResponse)
async def operator_payments(request: Request, client: MaybeClient, sessions: SessionsDep, checkout: CheckoutDep):
    """Operators: every order still waiting for money, and a form to record a cheque or wire."""
    signed_in(client)
    if not client.is_operator:
        raise BusinessError("forbidden", "Only operators may do this.", status=403)
    return await _payments_page(request, client, sessions, checkout, done=_said(request))


async def _payments_page(request: Request, client, sessions, checkout, error=None, status: int = 200,
                         done: str = "") -> HTMLResponse:
    async with sessions() as session:
        waiting = await orders.awaiting_payment(session)
        unmatched = await webhooks.needing_attention(session)
    # each order's live state (method, deadline) from its workflow, asked all at once
    states = await asyncio.gather(*(checkout.order_state(order.id) for order, _, _ in waiting))
    rows = []
    for (order, invoice, customer), live in zip(waiting, states):
        due = live.due_minor if live and live.due_minor is not None else order.total_minor
        rows.append({"order": order, "invoice": invoice, "customer": customer,
                     "total": Money(order.total_minor, order.currency).amount(),
                     "due": Money(due, order.currency).amount(),     # what the form offers to record
                     "method": live.method if live else "", "deadline": live.deadline if live else None})
    return render(request, "operator_payments.html", status=status, client=client, rows=rows, error=error,
                  today=date.today().isoformat(), unmatched=unmatched, done=done)


@router.post("/operator/orders/{order_id}/payments", response_class=HTMLResponse)
async def operator_record_payment(request: Request, order_id: Id, client: MaybeClient, sessions: SessionsDep,
                                  checkout: CheckoutDep, settings: SettingsDep, csrf: Annotated[str, Form()] = "",
                                  method: Annotated[str, Form(max_length=20)] = "",
                                  amount: Annotated[str, Form(max_length=20)] = "",
                                  reference: Annotated[str, Form(max_length=100)] = "",
                                  received_on: Annotated[str, Form(max_length=10)] = ""):
    signed_in(client)
    check_form_csrf(request, csrf)
    if not client.is_operator:
        raise BusinessError("forbidden", "Only operators may do this.", status=403)
    before = await checkout.order_state(order_id)   # what was due, to say what went beyond it
    try:
        state = await payments.record(checkout, client, order_id, method=method, amount=amount,
                                      currency=settings.currency, reference=reference, received_on=received_on,
                                      today=date.today())
    except BusinessError as exc:
        exc.message = f"Order {order_id}: {exc.message}"
        return await _payments_page(request, client, sessions, checkout, error=exc, status=exc.status)
    # back to the page (a reload records nothing), saying what was recorded and what is left
    due_before = before.due_minor if before else None   # None before the invoice says: nothing is claimed
    done = payments.recorded_sentence(state, method, amount, reference, settings.currency, due_before)
    return _done(request, "/operator/payments", done)


# ---- operators' billing ------------------------------------------------------------------------

def operator_only(request: Request, client, csrf: str | None = None) -> None:
    signed_in(client)
    if csrf is not None:
        check_form_csrf(request, csrf)
    if not client.is_operator:
        raise BusinessError("forbidden", "Only operators may do this.", status=403)


async def _billing_page(request: Request, client, billing_service, settings, status_filter: str = "", error=None,
                        done: str = "", status: int = 200, form: dict | None = None) -> HTMLResponse:
    rows = await billing_service.invoices(status_filter if status_filter in INVOICE_STATUSES else "")
    codes = [(row, used, promos.rule_of(row).describe()) for row, used in await billing_service.promo_codes()]
    refunds = await billing_service.refunds_by_invoice([invoice.id for invoice, _, _ in rows])
    return render(request, "operator_billing.html", status=status, client=client, rows=rows, money=Money,
                  refunds=refunds,
                  behind=await billing_service.arrears(), statuses=INVOICE_STATUSES, status_filter=status_filter,
                  error=error, done=done, today=date.today().isoformat(), form=form or {},
                  modes=BILLING_MODES, currency=settings.currency, codes=codes,
                  # a refund form sent twice (a double click, a reload) is the same refund
                  refund_key=f"page:{uuid.uuid4().hex}")


def _done(request: Request, page: str, message: str) -> RedirectResponse:
    """After a change, back to the page (a reload then changes nothing), saying what was done. The
    sentence travels in the signed session, never in the URL: a link can't make the page say things."""
    request.state.session["done"] = message[:300]
    return RedirectResponse(page, status_code=303)


def _said(request: Request) -> str:
    """What the last change said, shown once."""
    return str(request.state.session.pop("done", "") or "")


def _billing_done(request: Request, message: str) -> RedirectResponse:
    return _done(request, "/operator/billing", message)


@router.get("/operator/billing", response_class=HTMLResponse)
async def operator_billing(request: Request, client: MaybeClient, billing_service: BillingDep,
                           settings: SettingsDep, status: str = ""):
    operator_only(request, client)
    return await _billing_page(request, client, billing_service, settings, status[:12], done=_said(request))


@router.get("/operator/billing/export")
async def operator_export(request: Request, client: MaybeClient, kind: str = "invoices", start: Annotated[
        str, Query(alias="from", max_length=10)] = "", end: Annotated[str, Query(alias="to", max_length=10)] = ""):
    """The export form's answer: the CSV, from the API (which checks the kind and the dates)."""
    operator_only(request, client)
    return RedirectResponse(f"/api/v1/operator/exports/{kind[:20]}.csv?{urlencode({'from': start, 'to': end})}",
                            status_code=303)


@router.post("/operator/billing/invoices", response_class=HTMLResponse)
async def operator_new_invoice(request: Request, client: MaybeClient, sessions: SessionsDep,
                               billing_service: BillingDep, settings: SettingsDep):
    """An invoice of the operator's own from the page's form: up to five lines; empty lines are skipped."""
    form = await request.form()
    operator_only(request, client, str(form.get("csrf", "")))
    fields = {k: str(v)[:400] for k, v in form.items()}
    try:
        customer = await _client_by_email(sessions, fields.get("client_email", ""))
        items = []
        for i in range(5):
            description = " ".join(fields.get(f"description_{i}", "").split())
            price = fields.get(f"unit_price_{i}", "").strip()
            if not description and not price:
                continue
            try:
                quantity = int(fields.get(f"quantity_{i}", "1") or "1")
            except ValueError:
                raise BusinessError("quantity_invalid", "A quantity is a whole number.", f"quantity_{i}") from None
            discount = fields.get(f"discount_{i}", "").strip()
            items.append(Item(Line(description, quantity, Money.parse(price, settings.currency, f"unit_price_{i}"),
                                   Money.parse(discount, settings.currency, f"discount_{i}") if discount else None)))
        draft = fields.get("action") == "draft"
        invoice = await billing_service.create_invoice(client, customer.id, items, fields.get("due_on") or None,
                                                       date.today(), draft=draft)
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status,
                                   form=fields)
    return _billing_done(request, f"Draft {invoice.number} saved." if draft else f"Invoice {invoice.number} issued and emailed.")


@router.post("/operator/billing/drafts/{invoice_id}", response_class=HTMLResponse)
async def operator_draft_action(request: Request, invoice_id: Id, client: MaybeClient, billing_service: BillingDep,
                                settings: SettingsDep, csrf: Annotated[str, Form()] = "",
                                action: Annotated[str, Form(max_length=10)] = ""):
    operator_only(request, client, csrf)
    try:
        if action == "issue":
            done = f"Invoice {(await billing_service.issue_draft(client, invoice_id)).number} issued and emailed."
        elif action == "delete":
            done = f"Draft {await billing_service.delete_draft(client, invoice_id)} deleted."
        else:
            raise BusinessError("action_invalid", "Issue the draft or delete it.", "action")
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status)
    return _billing_done(request, done)


@router.post("/operator/billing/invoices/{number}", response_class=HTMLResponse)
async def operator_invoice_action(request: Request, number: str, client: MaybeClient, billing_service: BillingDep,
                                  settings: SettingsDep, csrf: Annotated[str, Form()] = "",
                                  action: Annotated[str, Form(max_length=10)] = "",
                                  method: Annotated[str, Form(max_length=20)] = "",
                                  amount: Annotated[str, Form(max_length=20)] = "",
                                  reference: Annotated[str, Form(max_length=100)] = "",
                                  received_on: Annotated[str, Form(max_length=10)] = "",
                                  reason: Annotated[str, Form(max_length=300)] = "",
                                  key: Annotated[str, Form(max_length=80)] = ""):
    """Record a cheque or wire against an invoice (any: its order's or its own workflow decides),
    cancel it with a credit note, or refund (part of) its PayPal payment."""
    operator_only(request, client, csrf)
    try:
        if action == "pay":
            [row] = await billing_service.record_bulk(client, [BulkRow(number, method, amount, reference,
                                                                       received_on)], date.today())
            if not row["recorded"]:
                raise BusinessError(row["code"], row["message"], row["field"], 409)
            done = f"Payment {reference.strip()} recorded on invoice {number}; {row['outstanding']} still due."
        elif action == "cancel":
            result = await billing_service.cancel_invoice(client, number, reason)
            done = f"Invoice {number}: {result['status']}."
        elif action == "refund":
            result = await billing_service.refund(client, number, amount, reason, f"{key}:{number}" if key else None)
            done = (f"Invoice {number}: refund of {amount.strip()} requested; its progress shows beside the invoice."
                    if result["status"] == "requested" else f"Invoice {number}: refund of {amount.strip()} "
                    f"{result['status']}.")
        else:
            raise BusinessError("action_invalid", "Record a payment, refund or cancel the invoice.", "action")
    except BusinessError as exc:
        exc.message = f"Invoice {number[:32]}: {exc.message}"
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status)
    return _billing_done(request, done)


async def _client_by_email(sessions, email: str):
    async with sessions() as session:
        customer = await clients.client_by_email(session, normalize_email(email))
    if customer is None:
        raise BusinessError("client_unknown", f"There is no client {email[:254]!r}.", "client_email", 404)
    return customer


@router.post("/operator/billing/credit", response_class=HTMLResponse)
async def operator_adjust_credit(request: Request, client: MaybeClient, sessions: SessionsDep,
                                 billing_service: BillingDep, settings: SettingsDep,
                                 csrf: Annotated[str, Form()] = "",
                                 client_email: Annotated[str, Form(max_length=254)] = "",
                                 amount: Annotated[str, Form(max_length=20)] = "",
                                 reason: Annotated[str, Form(max_length=300)] = ""):
    operator_only(request, client, csrf)
    try:
        customer = await _client_by_email(sessions, client_email)
        _, _, balance = await billing_service.adjust_credit(client, customer.id, amount, reason)
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status)
    return _billing_done(request, f"{customer.email}'s credit balance is now {balance.display()}.")


@router.post("/operator/billing/promo-codes", response_class=HTMLResponse)
async def operator_new_promo(request: Request, client: MaybeClient, billing_service: BillingDep,
                             settings: SettingsDep):
    form = await request.form()
    operator_only(request, client, str(form.get("csrf", "")))

    def day(name: str, end: bool = False):
        raw = str(form.get(name, "")).strip()
        if not raw:
            return None
        try:
            return datetime.combine(date.fromisoformat(raw), time(23, 59, 59) if end else time(0), timezone.utc)
        except ValueError:
            raise BusinessError("date_invalid", "Give dates as YYYY-MM-DD.", name) from None

    def count(name: str):
        raw = str(form.get(name, "")).strip()
        if not raw:
            return None
        if not raw.isdecimal() or len(raw) > len(str(MAX_USES)):   # isdigit() passes "²", which int() refuses
            raise BusinessError("promo_limit_invalid", f"A limit of uses is a whole number up to {MAX_USES:,}.", name)
        return int(raw)

    try:
        rule = promo_rule(code=str(form.get("code", ""))[:40], percent=str(form.get("percent", "")).strip() or None,
                          amount=str(form.get("amount", "")).strip() or None, starts_at=day("starts_on"),
                          ends_at=day("ends_on", end=True), max_uses=count("max_uses"),
                          max_uses_per_client=count("max_uses_per_client"),
                          kinds=[str(k) for k in form.getlist("kinds")][:2],
                          domains=str(form.get("domains", ""))[:4000].replace(",", " ").split(),
                          currency=settings.currency)
        row = await billing_service.create_promo(client, rule)
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status,
                                   form={k: str(v)[:400] for k, v in form.items()})
    return _billing_done(request, f"Promo code {row.code} created.")


@router.post("/operator/billing/promo-codes/{code}", response_class=HTMLResponse)
async def operator_promo_active(request: Request, code: str, client: MaybeClient, billing_service: BillingDep,
                                settings: SettingsDep, csrf: Annotated[str, Form()] = "",
                                action: Annotated[str, Form(max_length=10)] = ""):
    operator_only(request, client, csrf)
    try:
        row, _ = await billing_service.set_promo_active(client, code, action == "reinstate")
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status)
    return _billing_done(request, f"Promo code {row.code} {'offered again' if row.active else 'withdrawn'}.")


@router.post("/operator/billing/clients", response_class=HTMLResponse)
async def operator_client_billing(request: Request, client: MaybeClient, sessions: SessionsDep,
                                  billing_service: BillingDep, settings: SettingsDep,
                                  csrf: Annotated[str, Form()] = "",
                                  client_email: Annotated[str, Form(max_length=254)] = "",
                                  mode: Annotated[str, Form(max_length=12)] = ""):
    operator_only(request, client, csrf)
    try:
        customer = await _client_by_email(sessions, client_email)
        changed = await billing_service.set_billing_mode(client, customer.id, mode)
    except BusinessError as exc:
        return await _billing_page(request, client, billing_service, settings, error=exc, status=exc.status)
    return _billing_done(request, f"{changed.email} is billed {changed.billing_mode} from now on.")


PAYPAL_BEGUN = "paypal_begun"   # session key: checkouts this browser began without signing in (renewal codes)


@router.get("/paypal/return")
async def paypal_return(request: Request, checkout: CheckoutDep, billing_service: BillingDep, client: MaybeClient,
                        token: str = ""):
    """Where PayPal sends the payer back. A hint, never proof: the approval goes to the workflow (which
    asks PayPal before capturing) only for the signed-in owner of the order or invoice, or for the
    browser that began the checkout with a renewal code. Anyone else learns nothing: a visitor is asked
    to sign in and come back, a signed-in stranger sees the page an unknown token gets."""
    token = token[:64]
    order = await checkout.order_for_paypal(token) if token else None
    invoice = await billing_service.invoice_for_paypal(token) if token and order is None else None
    owner = order.client_id if order else invoice.client_id if invoice else None
    if owner is not None and client is not None and client.id == owner:
        if order is not None:
            await checkout.relay_approval(order, token)
            return RedirectResponse(f"/orders/{order.id}/payment", status_code=303)
        await billing_service.invoice_paypal_event(token, PAYPAL_APPROVED, PayPalApproved(token))
        return RedirectResponse("/invoices", status_code=303)
    if order is not None and client is None and token in request.state.session.get(PAYPAL_BEGUN, []):
        await checkout.relay_approval(order, token)
        return render(request, "payment_received.html", state="confirming", order=None)
    if client is None:
        back = f"/paypal/return?{urlencode({'token': token})}"
        return render(request, "payment_received.html", state="sign_in",
                      sign_in=f"/login?{urlencode({'next': back})}", order=None)
    raise BusinessError("paypal_unknown", "We could not match this PayPal payment to an order in your account.",
                        status=404)


@router.get("/orders/{order_id}/payment", response_class=HTMLResponse)
async def order_payment(request: Request, order_id: Id, client: MaybeClient, sessions: SessionsDep,
                        checkout: CheckoutDep):
    """After PayPal: what is true of the payment now (received only once it is captured)."""
    signed_in(client)
    async with sessions() as session:
        view = await order_view(session, checkout, order_id, client.id)
    if view.status in ("paid", "invoiced", "exempt") or view.invoice_status == "paid":
        state = "received"
    elif view.status == "cancelled" or view.payment_status in ("declined", "payment_pending", "attention"):
        state = view.payment_status if view.status != "cancelled" else "cancelled"
    else:
        state = "confirming"
    return render(request, "payment_received.html", client=client, state=state, order=view)


@router.get("/invoices", response_class=HTMLResponse)
async def invoices_page(request: Request, client: MaybeClient, sessions: SessionsDep, settings: SettingsDep,
                        billing_service: BillingDep):
    signed_in(client)
    return await _invoices_page(request, client, sessions, settings, billing_service)


async def _invoices_page(request: Request, client, sessions, settings, billing_service, error=None,
                         status: int = 200) -> HTMLResponse:
    async with sessions() as session:
        rows = await billing.statement(session, client.id)
        balance = await credit.balance(session, client.id, settings.currency)
        entries = await credit.entries(session, client.id, limit=50)
    # unpaid invoices paid here (an operator's own, a postpaid order's) rather than on an order's page
    chased = await billing_service.chased_invoices([i for i, _, due, _ in rows if due])
    return render(request, "invoices.html", status=status, client=client, invoices=rows, money=Money,
                  balance=balance, entries=entries, chased=chased, error=error, payee_name=settings.payee_name,
                  payee_postal_address=settings.payee_postal_address, bank_details=settings.bank_details,
                  manual_methods=payments.offered_methods(settings))


@router.post("/invoices/{number}/{how}", response_class=HTMLResponse)
async def invoice_pay(request: Request, number: str, how: str, client: MaybeClient, sessions: SessionsDep,
                      settings: SettingsDep, billing_service: BillingDep, csrf: Annotated[str, Form()] = ""):
    """Pay one of your chased invoices: `paypal` (off to PayPal's approval page) or `credit`."""
    signed_in(client)
    check_form_csrf(request, csrf)
    try:
        if how == "paypal":
            checkout = await billing_service.begin_invoice_paypal(client, number)
            return RedirectResponse(checkout.approve_url, status_code=303)
        if how != "credit":
            raise BusinessError("method_invalid", "Pay with PayPal or from your credit balance.", "how", 404)
        await billing_service.pay_invoice_with_credit(client, number)
    except BusinessError as exc:
        return await _invoices_page(request, client, sessions, settings, billing_service, error=exc,
                                    status=exc.status)
    return RedirectResponse("/invoices", status_code=303)


@router.post("/invoices/apply-credit")
async def invoices_apply_credit(request: Request, client: MaybeClient, billing_service: BillingDep):
    signed_in(client)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf", "")))
    await billing_service.set_apply_credit(client, form.get("enabled") == "on")
    return RedirectResponse("/invoices", status_code=303)


# ---- renewals ----------------------------------------------------------------------------------

async def _renewals_page(request: Request, client, renewals, settings, status: int = 200, error=None,
                         done=None) -> HTMLResponse:
    return render(request, "renewals.html", status=status, client=client, view=await renewals.overview(client),
                  error=error, done=done, months=settings.renewal_window_months)


@router.get("/renewals", response_class=HTMLResponse)
async def renewals_page(request: Request, client: MaybeClient, renewals: RenewalsDep, settings: SettingsDep):
    signed_in(client)
    return await _renewals_page(request, client, renewals, settings)


@router.post("/renewals", response_class=HTMLResponse)
async def renewals_submit(request: Request, client: MaybeClient, renewals: RenewalsDep, settings: SettingsDep):
    signed_in(client)
    form = await request.form()
    check_form_csrf(request, str(form.get("csrf", "")))
    choices = []
    for key, value in form.multi_items():
        if key.startswith("action:") and value in ("confirm", "decline"):
            address = key[len("action:"):]
            years = str(form.get(f"years:{address}", "1"))
            choices.append(Choice(address, str(value), int(years) if years.isdecimal() and len(years) <= 2 else 0))
    try:
        done = await renewals.submit(client, choices)
    except BusinessError as exc:
        return await _renewals_page(request, client, renewals, settings, status=exc.status, error=exc)
    return await _renewals_page(request, client, renewals, settings, done=done)


@router.post("/renewals/auto-renew")
async def renewals_auto(request: Request, client: MaybeClient, renewals: RenewalsDep,
                        csrf: Annotated[str, Form()] = "", enabled: Annotated[str, Form(max_length=1)] = "0"):
    signed_in(client)
    check_form_csrf(request, csrf)
    await renewals.set_auto_renew(client, enabled == "1")
    return RedirectResponse("/renewals", status_code=303)


@router.get("/renew", response_class=HTMLResponse)
async def renew_code_page(request: Request):
    return render(request, "renew_code.html", answer=None, code="")


async def _code_step(request: Request, renewals, code: str, csrf: str, decision: str | None) -> HTMLResponse:
    check_form_csrf(request, csrf)
    try:
        answer = await renewals.by_code(code, request.app.state.limiter.client_ip(request), decision)
    except BusinessError as exc:
        return render(request, "renew_code.html", status=exc.status, answer=None, code=code[:40], error=exc)
    return render(request, "renew_code.html", answer=answer, code=code[:40])


@router.post("/renew", response_class=HTMLResponse)
async def renew_code_lookup(request: Request, renewals: RenewalsDep, csrf: Annotated[str, Form()] = "",
                            code: Annotated[str, Form(max_length=40)] = ""):
    return await _code_step(request, renewals, code, csrf, None)


@router.post("/renew/decide", response_class=HTMLResponse)
async def renew_code_decide(request: Request, renewals: RenewalsDep, csrf: Annotated[str, Form()] = "",
                            code: Annotated[str, Form(max_length=40)] = "",
                            decision: Annotated[str, Form(max_length=10)] = ""):
    return await _code_step(request, renewals, code, csrf,
                            {"confirm": "confirmed", "decline": "declined"}.get(decision, "invalid"))


@router.post("/renew/pay")
async def renew_code_pay(request: Request, renewals: RenewalsDep, checkout: CheckoutDep,
                         csrf: Annotated[str, Form()] = "", order_id: Annotated[Id, Form()] = 0,
                         token: Annotated[str, Form(max_length=80)] = ""):
    check_form_csrf(request, csrf)
    if not renewals.pay_token_ok(order_id, token):
        raise BusinessError("link_invalid", "This payment link is not valid; use the code again.", status=403)
    started = await checkout.begin_paypal(order_id)
    # this browser proved the code: its return from PayPal may hand the approval on (see paypal_return)
    begun = request.state.session.get(PAYPAL_BEGUN, [])
    request.state.session[PAYPAL_BEGUN] = [*begun[-4:], started.paypal_order_id]
    return RedirectResponse(started.approve_url, status_code=303)


@router.post("/addresses/{address}/cancel", response_class=HTMLResponse)
async def cancel_address(request: Request, address: str, client: MaybeClient, sessions: SessionsDep,
                         renewals: RenewalsDep, csrf: Annotated[str, Form()] = ""):
    signed_in(client)
    check_form_csrf(request, csrf)
    try:
        state = await renewals.cancel_address(client, address[:320])
    except BusinessError as exc:
        return await _addresses_page(request, client, sessions, status=exc.status, error=exc)
    return await _addresses_page(request, client, sessions,
                                 notice=f"{state.address} is cancelled; it works until {state.term_end}.")


@router.get("/addresses", response_class=HTMLResponse)
async def my_addresses(request: Request, client: MaybeClient, sessions: SessionsDep):
    signed_in(client)
    return await _addresses_page(request, client, sessions)


async def _addresses_page(request: Request, client, sessions, status: int = 200, error=None, notice: str = "",
                          entered: dict | None = None) -> HTMLResponse:
    async with sessions() as session:
        rows = await addresses_view(session, client.id)
        refused = await destinations.refused_last(session, client.id)
    return render(request, "addresses.html", status=status, client=client, addresses=rows, error=error,
                  notice=notice, entered=entered or {}, refused=refused)


@router.post("/addresses/{address}/destination", response_class=HTMLResponse)
async def change_destination(request: Request, address: str, client: MaybeClient, sessions: SessionsDep,
                             changes: DestinationsDep, csrf: Annotated[str, Form()] = "",
                             destination: Annotated[str, Form(max_length=320)] = ""):
    signed_in(client)
    check_form_csrf(request, csrf)
    try:
        change = await changes.request(client, address[:320], destination)
    except BusinessError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        exc.field = f"destination:{address}"
        return await _addresses_page(request, client, sessions, exc.status, exc, entered={address: destination})
    notice = (f"We emailed {change.new_destination} a link to confirm. Until it is followed, mail to {address} "
              "keeps going where it goes now.")
    return await _addresses_page(request, client, sessions, notice=notice)


@router.get("/addresses/{address}/mailbox", response_class=HTMLResponse)
async def mailbox_page(request: Request, address: str, client: MaybeClient, mailboxes: MailboxesDep):
    signed_in(client)
    return await _mailbox_page(request, client, mailboxes, address[:320])


async def _mailbox_page(request: Request, client, mailboxes, address: str, status: int = 200, error=None,
                        notice: str = "", entered: dict | None = None) -> HTMLResponse:
    sub = await mailboxes.mailbox(client, address)
    try:
        usage, usage_error = await mailboxes.usage(client, address), None
    except BusinessError as exc:
        usage, usage_error = None, exc
    return render(request, "mailbox.html", status=status, client=client, address=sub.address, usage=usage,
                  usage_error=usage_error, error=error, notice=notice, entered=entered or {},
                  last_change=await mailboxes.last_change(client, address))


@router.post("/addresses/{address}/mailbox", response_class=HTMLResponse)
async def mailbox_change(request: Request, address: str, client: MaybeClient, mailboxes: MailboxesDep,
                         csrf: Annotated[str, Form()] = "", action: Annotated[str, Form(max_length=20)] = "",
                         password: Annotated[str, Form(max_length=1024)] = "",
                         subject: Annotated[str, Form(max_length=200)] = "",
                         body: Annotated[str, Form(max_length=10_000)] = "",
                         interval_hours: Annotated[str, Form(max_length=5)] = "24",
                         stop: Annotated[str, Form(max_length=40)] = ""):
    """One form per setting: `action` is password, autoresponder or clear."""
    signed_in(client)
    check_form_csrf(request, csrf)
    address = address[:320]
    try:
        if action == "password":
            await mailboxes.change_password(client, address, password)
            notice = "The new password is on its way to the mail server; it works within a minute."
        elif action == "autoresponder":
            try:
                interval = int(interval_hours)
            except ValueError:
                raise BusinessError("interval_invalid", "Give the hours between replies as a number.",
                                    "interval_hours") from None
            await mailboxes.set_autoresponder(client, address, Autoresponder(
                True, subject, body, interval, None, parse_when(stop, "stop")))
            notice = "Your automatic reply is on."
        elif action == "clear":
            await mailboxes.set_autoresponder(client, address, Autoresponder(False))
            notice = "Your automatic reply is off."
        else:
            raise BusinessError("action_invalid", "Choose what to change.", "action")
    except BusinessError as exc:
        if exc.status == 404:
            raise
        return await _mailbox_page(request, client, mailboxes, address, exc.status, exc,
                                   entered={"subject": subject, "body": body, "interval_hours": interval_hours,
                                            "stop": stop, "action": action})
    return await _mailbox_page(request, client, mailboxes, address, notice=notice)


@router.get("/destination/confirm/{change_id}/{token}", response_class=HTMLResponse)
async def confirm_destination_page(request: Request, change_id: Id, token: str, changes: DestinationsDep,
                                   sessions: SessionsDep):
    """No sign-in: the link is the proof. A button, not the link itself, confirms (mail scanners
    open links). Once followed, the page says how it ended: applied, being applied, or refused and why."""
    change = await changes.pending(change_id, token[:80])
    refused = await changes.refusal(change) if change.status == "refused" else ""
    return await _confirm_page(request, sessions, change, token, refused=refused)


async def _confirm_page(request: Request, sessions, change, token: str, status: int = 200,
                        refused: str = "") -> HTMLResponse:
    async with sessions() as session:
        sub = await session.get(Subscription, change.subscription_id)
    return render(request, "destination_confirm.html", status=status, change=change, address=sub.address,
                  token=token[:80], done=change.status in ("applied", "confirmed"), refused=refused,
                  old=change.old_destination,
                  # an old link, opened again after a later change took its place
                  replaced_by=sub.destination if change.status == "applied"
                  and sub.destination.lower() != change.new_destination.lower() else "")


@router.post("/destination/confirm/{change_id}/{token}", response_class=HTMLResponse)
async def confirm_destination(request: Request, change_id: Id, token: str, changes: DestinationsDep,
                              sessions: SessionsDep, csrf: Annotated[str, Form()] = ""):
    """Checked again now (a circle another confirmed change would close is refused here, the reason
    on the page), then applied by the workflow, whose outcome the page waits a few seconds for."""
    check_form_csrf(request, csrf)
    try:
        change = await changes.confirm(change_id, token[:80])
    except BusinessError as exc:
        if exc.status != 409:
            raise
        change = await changes.pending(change_id, token[:80])
        return await _confirm_page(request, sessions, change, token, 409, refused=exc.message)
    change = await changes.outcome(change.id)
    refused = await changes.refusal(change) if change.status == "refused" else ""
    return await _confirm_page(request, sessions, change, token, 409 if refused else 200, refused=refused)


@router.get("/signup", response_class=HTMLResponse)
async def signup_form(request: Request, next: str = "/"):
    return render(request, "signup.html", error=None, email="", name="", next=_safe_next(next))


@router.post("/signup", response_class=HTMLResponse)
async def signup_submit(request: Request, accounts: AccountsDep, csrf: Annotated[str, Form()] = "",
                        email: Annotated[str, Form(max_length=254)] = "", name: Annotated[str, Form(max_length=200)] = "",
                        password: Annotated[str, Form(max_length=1024)] = "", next: Annotated[str, Form()] = "/"):
    check_form_csrf(request, csrf)
    try:
        message = await accounts.sign_up(email, password, name)
    except BusinessError as exc:
        return render(request, "signup.html", status=exc.status, error=exc, email=email, name=name, next=_safe_next(next))
    # the same page whether or not the address has an account
    return render(request, "signup.html", status=202, error=None, sent=message, email="", name="",
                  next=_safe_next(next))


@router.get("/signup/confirm/{token}", response_class=HTMLResponse)
async def signup_confirm_form(request: Request, token: str, accounts: AccountsDep):
    # a page with a button, not a sign-in on GET: mail scanners that open links would use it up
    client = await accounts.pending_confirmation(token)
    return render(request, "signup_confirm.html", email=client.email, token=token[:200])


@router.post("/signup/confirm/{token}")
async def signup_confirm(request: Request, token: str, accounts: AccountsDep, csrf: Annotated[str, Form()] = ""):
    check_form_csrf(request, csrf)
    await accounts.confirm(request, token[:200])
    return RedirectResponse("/addresses", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/"):
    return render(request, "login.html", error=None, email="", next=_safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request, accounts: AccountsDep, csrf: Annotated[str, Form()] = "",
                       email: Annotated[str, Form(max_length=254)] = "",
                       password: Annotated[str, Form(max_length=1024)] = "", next: Annotated[str, Form()] = "/"):
    check_form_csrf(request, csrf)
    try:
        await accounts.sign_in(request, email, password)
    except BusinessError as exc:
        response = render(request, "login.html", status=exc.status, error=exc, email=email, next=_safe_next(next))
        if exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request, accounts: AccountsDep, csrf: Annotated[str, Form()] = ""):
    check_form_csrf(request, csrf)
    await accounts.sign_out(request)
    return RedirectResponse("/", status_code=303)


@router.post("/logout/everywhere")
async def logout_everywhere(request: Request, client: MaybeClient, accounts: AccountsDep,
                            csrf: Annotated[str, Form()] = ""):
    check_form_csrf(request, csrf)
    signed_in(client)
    await accounts.sign_out_everywhere(request, client)
    return RedirectResponse("/login", status_code=303)


def _safe_next(target: str) -> str:
    # only same-site paths: never an open redirect
    return target if target.startswith("/") and not target.startswith("//") else "/"


async def _reserved_page(request: Request, sessions, client, domain: str, status: int = 200, error=None,
                         pattern: str = "", reason: str = "") -> HTMLResponse:
    async with sessions() as session:
        mine = await reserved.editable_domains(session, client)
        if not domain and not client.is_operator and mine:
            domain = mine[0].name
        scope = await reserved.scope_for(session, client, normalize_domain(domain, "domain") if domain else None)
        rows = await reserved.entries(session, scope)
    return render(request, "reserved.html", status=status, client=client, scope=scope, domains=mine, entries=rows,
                  error=error, pattern=pattern, reason=reason, display=display_domain)


@router.get("/reserved", response_class=HTMLResponse)
async def reserved_list(request: Request, client: MaybeClient, sessions: SessionsDep,
                        domain: Annotated[list[str] | None, Query()] = None):
    """The operator's global list, or a domain owner's list for one of their domains."""
    signed_in(client)
    typed = [d.strip() for d in domain or [] if d and d.strip()]
    return await _reserved_page(request, sessions, client, (typed[-1] if typed else "")[:253])


@router.post("/reserved", response_class=HTMLResponse)
async def reserved_add(request: Request, client: MaybeClient, sessions: SessionsDep,
                       csrf: Annotated[str, Form()] = "", domain: Annotated[str, Form(max_length=253)] = "",
                       pattern: Annotated[str, Form(max_length=100)] = "",
                       reason: Annotated[str, Form(max_length=200)] = ""):
    signed_in(client)
    check_form_csrf(request, csrf)
    try:
        async with sessions.begin() as session:
            scope = await reserved.scope_for(session, client, normalize_domain(domain, "domain") if domain else None)
            await reserved.add(session, client, scope, pattern, reason)
    except BusinessError as exc:
        if exc.field != "pattern":
            raise
        return await _reserved_page(request, sessions, client, domain, exc.status, exc, pattern, reason)
    return RedirectResponse(f"/reserved?{urlencode({'domain': domain})}", status_code=303)


@router.post("/reserved/{entry_id}/remove")
async def reserved_remove(request: Request, entry_id: Id, client: MaybeClient, sessions: SessionsDep,
                          csrf: Annotated[str, Form()] = ""):
    signed_in(client)
    check_form_csrf(request, csrf)
    async with sessions.begin() as session:
        entry = await reserved.remove(session, client, entry_id)
        domain = (await session.get(Domain, entry.domain_id)).name if entry.domain_id else ""
    return RedirectResponse(f"/reserved?{urlencode({'domain': domain})}", status_code=303)
