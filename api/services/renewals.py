"""Renewals as the customer meets them: the renewal page (every address ending within three months,
each confirmed for 1-10 years or declined, submitted in one go), the public renewal-code page, the
credit balance and auto-renew switch, and cancelling an address at its term end.

A submission is checked whole before anything is written; the renewal order and its invoice are
written in the request (one transaction) and from then on its order workflow owns it, as at checkout."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client as TemporalClient

from api.temporal import Gateway
from core.refusals import Refusals, refuse
from core.lifecycle import (add_months, code_digest, normalize_code, renewal_code, renewal_years_allowed,
                            renewal_years_possible)
from core.money import Money
from core.pricing import parse_kind
from core.ratelimit import TokenBuckets
from core.statuses import BillingMode
from core.statuses import RenewalDecision as Decision
from core.tokens import link_token, token_ok
from settings import Settings
from store import credit, orders, renewals
from store.models import Client, Subscription
from workflows.contracts import (
    AddressState,
    CancelAtTermEnd,
    CancelRequest,
    RenewalDecision,
    address_line,
    renewal_order_input,
)

RENEWAL_PAY_LINK = "renewal-pay"       # lets the code page's visitor pay that one invoice unsigned-in
CODE_GUESSES_PER_HOUR = 10


@dataclass
class RenewalRow:
    address: str
    kind: str
    status: str
    term_end: date
    decision: str                  # "" | confirmed | declined
    cancelled: bool
    years_allowed: list[int]
    default_years: int
    price_per_year: Money
    open_order_id: int | None = None
    open_invoice: str = ""
    open_amount: str = ""

    def as_dict(self) -> dict:
        return {"address": self.address, "kind": self.kind, "status": self.status,
                "term_end": self.term_end.isoformat(), "decision": self.decision or None,
                "cancelled": self.cancelled, "years_allowed": self.years_allowed,
                "default_years": self.default_years, "price_per_year": self.price_per_year.amount(),
                "open_order": ({"id": self.open_order_id, "invoice": self.open_invoice, "amount": self.open_amount}
                               if self.open_order_id else None)}


@dataclass
class Overview:
    today: date
    until: date
    balance: Money
    auto_renew: bool
    rows: list[RenewalRow] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"today": self.today.isoformat(), "until": self.until.isoformat(), "balance": self.balance.amount(),
                "currency": self.balance.currency, "auto_renew": self.auto_renew,
                "addresses": [r.as_dict() for r in self.rows]}


@dataclass(frozen=True)
class Choice:
    address: str
    action: str            # confirm | decline
    years: int = 1


@dataclass
class Submitted:
    order_id: int | None
    invoice: str
    amount: str
    confirmed: list[str]
    declined: list[str]

    def as_dict(self) -> dict:
        return {"order": {"id": self.order_id, "invoice": self.invoice, "amount": self.amount}
                if self.order_id else None, "confirmed": self.confirmed, "declined": self.declined}


@dataclass
class CodeAnswer:
    address: str
    term_end: date
    decision: str
    order_id: int | None = None
    invoice: str = ""
    amount: str = ""
    pay_token: str = ""

    def as_dict(self) -> dict:
        return {"address": self.address, "term_end": self.term_end.isoformat(), "decision": self.decision or None,
                "order": {"id": self.order_id, "invoice": self.invoice, "amount": self.amount,
                          "pay_token": self.pay_token} if self.order_id else None}


class Renewals:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession], temporal: TemporalClient):
        self.settings, self.sessions = settings, sessions
        self.gateway = Gateway(temporal, sessions, settings.task_queue)
        self._secret = settings.secrets_key.get_secret_value()
        self._guesses = TokenBuckets(CODE_GUESSES_PER_HOUR / 60, capacity=CODE_GUESSES_PER_HOUR)

    def today(self) -> date:
        return self.settings.calendar().today(datetime.now(timezone.utc))

    def _allowed(self, sub: Subscription, today: date) -> list[int]:
        assert sub.term_end is not None
        return renewal_years_possible(sub.term_end, self.settings.terms_for(sub.kind), today)

    # ---- the renewal page ------------------------------------------------------------------

    async def overview(self, client: Client) -> Overview:
        today = self.today()
        until = add_months(today, self.settings.renewal_window_months)
        prices = self.settings.prices()
        async with self.sessions() as session:
            subs = await renewals.expiring(session, client.id, until)
            view = Overview(today, until, await credit.balance(session, client.id, self.settings.currency),
                            client.auto_renew)
            offers = await renewals.offers_for(session, subs)
            waiting = await renewals.open_invoices_for(session, [s.id for s in subs])
            for sub in subs:
                offer = offers.get(sub.id)
                allowed = self._allowed(sub, today)
                row = RenewalRow(sub.address, sub.kind, sub.status, sub.term_end, offer.decision if offer else "",
                                 sub.cancel_at_term_end, allowed,
                                 sub.term_years if sub.term_years in allowed else (allowed[0] if allowed else 0),
                                 prices.per_year(parse_kind(sub.kind)))
                if sub.id in waiting:
                    order, invoice = waiting[sub.id]
                    row.open_order_id, row.open_invoice = order.id, invoice.number
                    row.open_amount = Money(order.total_minor, order.currency).display()
                view.rows.append(row)
        return view

    async def submit(self, client: Client, choices: list[Choice]) -> Submitted:
        """Confirmed addresses go on one renewal invoice (replacing the ones we issued for them alone);
        declined ones get no more reminders and expire at their term end. All or nothing."""
        if not choices:
            raise refuse(Refusals.RENEWAL_EMPTY, "items", message="Choose confirm or decline for at least one address.")
        today = self.today()
        until = add_months(today, self.settings.renewal_window_months)
        now = datetime.now(timezone.utc)
        prices = self.settings.prices()
        seen: set[str] = set()
        async with self.sessions.begin() as session:
            mine = {s.address: s for s in await renewals.expiring(session, client.id, until)}
            confirmed: list[renewals.RenewalItem] = []
            declined: list[Subscription] = []
            for i, choice in enumerate(choices):
                prefix = f"items.{i}."
                address = choice.address.strip().lower()
                sub = mine.get(address)
                if sub is None:
                    raise refuse(Refusals.ADDRESS_NOT_RENEWABLE, prefix + "address", address=address,
                                 until=until.isoformat())
                if address in seen:
                    raise refuse(Refusals.ADDRESS_REPEATED, prefix + "address", message=f"{address} is listed twice.")
                seen.add(address)
                if choice.action == "confirm":
                    assert sub.term_end is not None
                    renewal_years_allowed(sub.term_end, choice.years, self.settings.terms_for(sub.kind), today,
                                          prefix + "years")
                    confirmed.append(renewals.RenewalItem(sub, choice.years, prices.per_year(parse_kind(sub.kind))))
                elif choice.action == "decline":
                    declined.append(sub)
                else:
                    raise refuse(Refusals.ACTION_INVALID, prefix + "action", message="Choose confirm or decline.")
            replaced = [o.id for item in confirmed for o in await renewals.open_orders_for(session, item.subscription.id)
                        if len(o.lines) == 1]
            replaced += [o.id for sub in declined for o in await renewals.open_orders_for(session, sub.id)
                         if len(o.lines) == 1]
            for item in confirmed:
                await self._decide(session, item.subscription, Decision.CONFIRMED, "page", client, now)
            for sub in declined:
                await self._decide(session, sub, Decision.DECLINED, "page", client, now)
            order = invoice = None
            inp = None
            if confirmed:
                deadline = min(self.settings.calendar().at(item.subscription.term_end
                                                           + timedelta(days=self.settings.grace_days + 1))
                               for item in confirmed)
                # a client on account renews at once: postpaid, invoiced with the usual days to pay
                due = (now + timedelta(days=self.settings.postpaid_due_days)
                       if client.billing_mode == BillingMode.POSTPAID else deadline)
                order, invoice = await renewals.place_renewal(session, client, confirmed, now=now, due_at=due,
                                                              actor=f"client:{client.id}",
                                                              terms=self.settings.invoice_terms(client),
                                                              billing_mode=client.billing_mode)
                inp = renewal_order_input(
                    order, invoice, client,
                    [address_line(i.subscription, client, i.years, self.settings.mailbox_quota_mb) for i in confirmed],
                    deadline_at=deadline, life=self.settings.lifecycle(), pay_from_balance=True,
                    coverage_margin_days=self.settings.coverage_margin_days, dunning=self.settings.dunning())
        if inp is not None:   # not started: the new order is cancelled (503) and the replaced ones stay payable
            await self.gateway.start_order(inp)
        for order_id in replaced:
            await self.gateway.order(order_id).cancel(
                CancelRequest("replaced by the client's renewal choices", f"client:{client.id}"), refused=None)
        for item in confirmed:
            await self._signal_address(item.subscription.address,
                                       RenewalDecision(Decision.CONFIRMED, f"client:{client.id}"))
        for sub in declined:
            await self._signal_address(sub.address, RenewalDecision(Decision.DECLINED, f"client:{client.id}"))
        return Submitted(order.id if order else None, invoice.number if invoice else "",
                         Money(order.total_minor, order.currency).display() if order else "",
                         [i.subscription.address for i in confirmed], [s.address for s in declined])

    async def _decide(self, session: AsyncSession, sub: Subscription, decision: str, via: str, client: Client,
                      now: datetime) -> None:
        assert sub.term_end is not None
        offer = await renewals.ensure_offer(session, sub, sub.term_end,
                                            code_digest(renewal_code(self._secret, sub.id, sub.term_end)))
        offer.subscription = sub
        await renewals.decide(session, offer, decision, via=via, actor=f"client:{client.id}", now=now)

    async def _signal_address(self, address: str, decision: RenewalDecision) -> None:
        # recorded in the database already; the workflow reads it at its next step
        await self.gateway.address(address).renewal_decided(decision)

    # ---- the public code page --------------------------------------------------------------

    async def by_code(self, raw: str, ip: str, decision: str | None = None) -> CodeAnswer:
        """Look a renewal up by the code on its invoice, and (with `decision`) record confirm or decline.
        Each try counts against the visitor's hourly allowance, so codes cannot be guessed."""
        self._count_guess(ip, time.monotonic())
        code = normalize_code(raw)
        async with self.sessions.begin() as session:
            offer = await renewals.offer_by_code(session, code_digest(code))
            if offer is None:
                raise refuse(Refusals.CODE_UNKNOWN, "code")
            sub = offer.subscription
            today = self.today()
            if (sub.term_end != offer.term_end or sub.status not in renewals.RENEWABLE
                    or today > offer.term_end + timedelta(days=self.settings.grace_days)):
                raise refuse(Refusals.CODE_EXPIRED, "code", address=sub.address, term_end=offer.term_end.isoformat())
            if decision is not None:
                if decision not in (Decision.CONFIRMED, Decision.DECLINED):
                    raise refuse(Refusals.DECISION_INVALID, "decision")
                if offer.decision:
                    raise refuse(Refusals.CODE_USED, "code", decision=offer.decision, decided_at=offer.decided_at)
                await renewals.decide(session, offer, decision, via="code", actor="renewal-code",
                                      now=datetime.now(timezone.utc))
            answer = CodeAnswer(sub.address, offer.term_end, offer.decision)
            pending = await renewals.open_orders_for(session, sub.id)
            if offer.decision == Decision.CONFIRMED and pending:
                order = pending[0]
                invoice = await orders.invoice_for_order(session, order.id)
                answer.order_id, answer.invoice = order.id, invoice.number if invoice else ""
                answer.amount = Money(order.total_minor, order.currency).display()
                answer.pay_token = link_token(self._secret, RENEWAL_PAY_LINK, order.id)
        if decision is not None:
            await self._signal_address(sub.address, RenewalDecision(decision, "renewal-code", "code"))
        return answer

    def _count_guess(self, ip: str, now: float) -> None:
        wait = self._guesses.take(ip, now)
        if wait:
            minutes = max(1, math.ceil(wait / 60))
            raise refuse(Refusals.RATE_LIMITED, "code", message=f"Too many tries; try again in {minutes} minutes.",
                         retry_after=int(math.ceil(wait)))

    def pay_token_ok(self, order_id: int, token: str) -> bool:
        return token_ok(self._secret, RENEWAL_PAY_LINK, order_id, token)

    # ---- account ---------------------------------------------------------------------------

    async def set_auto_renew(self, client: Client, enabled: bool) -> None:
        async with self.sessions.begin() as session:
            await credit.set_auto_renew(session, client.id, enabled)

    async def cancel_address(self, client: Client, address: str) -> AddressState:
        """The address works to its term end, then expires (no refund unless an operator grants one)."""
        address = address.strip().lower()
        async with self.sessions() as session:
            owned = await renewals.owned(session, client.id, address)
        if owned is None:
            raise refuse(Refusals.ADDRESS_NOT_YOURS, "address", address=address)
        return await self.gateway.address(address).cancel_at_term_end(
            CancelAtTermEnd(f"client:{client.id}", "cancelled by the client"),
            closed=refuse(Refusals.ADDRESS_NOT_ACTIVE, message=f"{address} is not active."))


DECISIONS = {"confirm": Decision.CONFIRMED, "decline": Decision.DECLINED}


def code_decision(raw: str | None) -> str | None:
    """What a renewal code's visitor asked: None to look the renewal up, else the decision to record
    (anything but confirm or decline is refused by `by_code` as `decision_invalid`)."""
    return None if raw is None else DECISIONS.get(raw, "invalid")
