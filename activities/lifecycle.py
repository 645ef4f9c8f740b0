"""Steps of an address's life after it is sold: reminders and their daily digest, the renewal
invoice with its code, paying it from credit, the client's cancellation, and expiry on cPanel
(suspend, restore, remove). Each is safe to repeat."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client as TemporalClient
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.heartbeat import heartbeating
from activities.notifications import NotificationActivities, attachment
from core.lifecycle import Threshold, code_digest, renewal_code, renewal_years_possible
from core.money import Money
from providers.cpanel.lookup import forwarders_of, mailbox_of
from providers.cpanel.protocol import CpanelAPI
from store import invoice_pdf, orders, reminders, renewals
from store.invoicing import InvoiceTerms, Seller
from store.models import Client
from workflows.contracts import (
    CANCEL_ORDER,
    CancelRequest,
    CloseRenewalOrders,
    DigestInput,
    DigestRequest,
    DigestResult,
    Dunning,
    MarkCancelAtTermEnd,
    OpenRenewal,
    PayFromBalance,
    QueueReminder,
    RemoveAddress,
    RenewalOpened,
    RestoreAddress,
    SuspendAddress,
    address_line,
    digest_start,
    order_start,
    order_workflow_id,
    renewal_order_input,
)


class ExpiryActivities:
    """cPanel side of expiry: a forwarder is swapped for a bouncing one, a mailbox's login is
    suspended (its mail kept for the grace period); at the end of grace both are removed."""

    def __init__(self, cpanel: CpanelAPI):
        self._cpanel = cpanel

    async def _login(self, address: str, suspended: bool) -> None:
        mailbox = await mailbox_of(self._cpanel, address)
        if mailbox is not None and mailbox.suspended_login != suspended:
            await (self._cpanel.suspend_login if suspended else self._cpanel.unsuspend_login)(address)

    @activity.defn(name="suspend_address")
    @heartbeating
    async def suspend_address(self, inp: SuspendAddress) -> None:
        if inp.kind == "mailbox":
            return await self._login(inp.address, True)
        lines = await forwarders_of(self._cpanel, inp.address)
        for line in lines:
            if not line.bounces:
                await self._cpanel.delete_forwarder(line.address, line.destination)
        if not any(line.bounces for line in lines):
            await self._cpanel.add_fail_forwarder(inp.address, inp.message)

    @activity.defn(name="restore_address")
    @heartbeating
    async def restore_address(self, inp: RestoreAddress) -> None:
        if inp.kind == "mailbox":
            return await self._login(inp.address, False)
        lines = await forwarders_of(self._cpanel, inp.address)
        for line in lines:
            if line.bounces:
                await self._cpanel.delete_forwarder(line.address, line.destination)
        if not any(line.destination.lower() == inp.destination.lower() for line in lines):
            await self._cpanel.add_forwarder(inp.address, inp.destination)

    @activity.defn(name="remove_address")
    @heartbeating
    async def remove_address(self, inp: RemoveAddress) -> None:
        if inp.kind == "mailbox":
            if await mailbox_of(self._cpanel, inp.address) is not None:
                await self._cpanel.delete_pop(inp.address)
            return
        for line in await forwarders_of(self._cpanel, inp.address):
            await self._cpanel.delete_forwarder(line.address, line.destination)


class RenewalActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], notifications: NotificationActivities,
                 temporal: Callable[[], TemporalClient], *, secret: str, base_url: str, task_queue: str,
                 prices: dict[str, Money], quota_mb: int, coverage_margin_days: int, search_attributes: bool = True,
                 terms_for: Callable[[Client], InvoiceTerms] = lambda _client: InvoiceTerms(),
                 seller: Seller = Seller("mailmarket"), postpaid_due_days: int = 30,
                 dunning: Dunning | None = None):
        self._sessions, self._notifications, self._temporal = sessions, notifications, temporal
        self._secret, self._base, self._task_queue = secret, base_url.rstrip("/"), task_queue
        self._prices, self._quota, self._margin = prices, quota_mb, coverage_margin_days
        self._search_attributes = search_attributes
        self._terms_for = terms_for
        self._seller = seller
        self._postpaid_due_days, self._dunning = postpaid_due_days, dunning or Dunning()

    # ---- renewal invoice -------------------------------------------------------------------

    @activity.defn(name="open_renewal")
    @heartbeating
    async def open_renewal(self, inp: OpenRenewal) -> RenewalOpened:
        """Issue the term's renewal invoice (once) and email it with the renewal code. Nothing when
        the customer already has a renewal on its way or the address is no longer renewable."""
        now = datetime.now(timezone.utc)
        today = inp.life.calendar().today(now)
        code = renewal_code(self._secret, inp.subscription_id, inp.term_end)
        async with self._sessions.begin() as session:
            sub = await renewals.subscription(session, inp.subscription_id)
            client = await session.get(Client, sub.client_id)
            assert client is not None
            offer = await renewals.ensure_offer(session, sub, inp.term_end, code_digest(code))
            order = invoice = None
            if offer.order_id is not None:   # a retry: start its workflow if it is still as placed
                order = await orders.order_with_lines(session, offer.order_id)
                if order is None or order.status != orders.OPENING_STATUS[order.billing]:
                    return RenewalOpened(None)
                invoice = await orders.invoice_for_order(session, order.id)
            else:
                if (sub.status not in renewals.RENEWABLE or offer.decision == "declined" or sub.cancel_at_term_end
                        or await renewals.renewal_settled(session, sub.id, inp.term_end)):
                    return RenewalOpened(None)
                # as long as the current term, or the longest the registry's limit still allows
                years = max(renewal_years_possible(inp.term_end, list(range(1, inp.years + 1)), today), default=1)
                # on account, the renewal is invoiced (postpaid, due some days on) or not at all (exempt)
                # and the address renews at once; prepaid, it is payable until the end of grace
                due_at = (now + timedelta(days=self._postpaid_due_days) if client.billing_mode == "postpaid"
                          else inp.deadline_at)
                order, invoice = await renewals.place_renewal(
                    session, client, [renewals.RenewalItem(sub, years, self._prices[sub.kind])],
                    now=now, due_at=due_at, actor="system", terms=self._terms_for(client),
                    billing_mode=client.billing_mode)
                offer.order_id = order.id
                order = await orders.order_with_lines(session, order.id)
            assert order is not None and (invoice is not None or order.billing == "exempt")
            line = order.lines[0]
            order_input = renewal_order_input(
                order, invoice, client, [address_line(sub, client, line.years, self._quota)],
                deadline_at=inp.deadline_at, life=inp.life, pay_from_balance=True,
                coverage_margin_days=self._margin, search_attributes=self._search_attributes,
                dunning=self._dunning)
            if order.billing != "prepaid":
                invoice = None   # its invoice workflow emails a postpaid invoice; there is no code to use
            if invoice is not None:
                context = {"name": client.name, "address": sub.address, "term_end": inp.term_end.isoformat(),
                           "invoice": invoice.number, "amount": Money(invoice.total_minor, invoice.currency).display(),
                           "years": str(line.years), "code": code, "code_url": f"{self._base}/renew",
                           "pay_url": f"{self._base}/orders/{order.id}", "renewals_url": f"{self._base}/renewals",
                           "auto_renew": "yes" if client.auto_renew else "no",
                           "deadline": inp.deadline_at.date().isoformat()}
                document = await invoice_pdf.of_number(session, invoice.number, self._seller)
        if invoice is not None:
            await self._notifications.deliver(f"renewal:{inp.subscription_id}:{inp.term_end}:invoice",
                                              "renewal_invoice", client.email, client.id, context,
                                              [attachment(document)])
        await self._start_renewal_order(order_input)
        return RenewalOpened(order_input)

    async def _start_renewal_order(self, order_input) -> None:
        """Its own workflow, not the address's child: the address continues as new when renewed, and
        its order must outlive that run. A run that already ran (and closed) is never started again."""
        start = order_start(order_input)   # as the API starts an order: the same id, policies and attributes
        try:
            await self._temporal().start_workflow(start.workflow, start.arg, **start.options(self._task_queue))
        except WorkflowAlreadyStartedError:
            pass

    @activity.defn(name="pay_from_balance")
    @heartbeating
    async def pay_from_balance(self, inp: PayFromBalance) -> bool:
        async with self._sessions.begin() as session:
            return await renewals.pay_from_balance(session, inp.order_id, only_with_auto_renew=inp.only_with_auto_renew,
                                                   now=datetime.now(timezone.utc))

    @activity.defn(name="close_renewal_orders")
    @heartbeating
    async def close_renewal_orders(self, inp: CloseRenewalOrders) -> None:
        """Cancel this address's waiting renewal invoices (those for it alone; a bulk renewal of
        several addresses stays payable)."""
        async with self._sessions() as session:
            pending = [o.id for o in await renewals.open_orders_for(session, inp.subscription_id) if len(o.lines) == 1]
        for order_id in pending:
            await self._temporal().get_workflow_handle(order_workflow_id(order_id)).signal(
                CANCEL_ORDER, CancelRequest(inp.reason))

    @activity.defn(name="mark_cancel_at_term_end")
    @heartbeating
    async def mark_cancel_at_term_end(self, inp: MarkCancelAtTermEnd) -> None:
        async with self._sessions.begin() as session:
            await orders.mark_cancel_at_term_end(session, inp.subscription_id, inp.actor, inp.reason)

    # ---- reminders -------------------------------------------------------------------------

    @activity.defn(name="queue_reminder")
    @heartbeating
    async def queue_reminder(self, inp: QueueReminder) -> None:
        """Queue a reminder step for the client's digest; none for clients on account, whose addresses
        renew by themselves (postpaid: invoiced then; exempt: not at all)."""
        async with self._sessions.begin() as session:
            client = await session.get(Client, inp.client_id)
            if client is not None and client.billing_mode != "prepaid":
                return
            await reminders.queue(session, subscription_id=inp.subscription_id, client_id=inp.client_id,
                                  term_end=inp.term_end, threshold=inp.threshold, due_on=inp.due_on)
        # Wake (or start) the client's digest; an already-queued step just wakes it again, harmlessly.
        start = digest_start(DigestInput(inp.client_id, inp.life))
        await self._temporal().start_workflow(start.workflow, start.arg, **start.options(self._task_queue))

    @activity.defn(name="send_reminder_digest")
    @heartbeating
    async def send_reminder_digest(self, inp: DigestRequest) -> DigestResult:
        async with self._sessions.begin() as session:
            assembled = await reminders.assemble(session, inp.client_id, inp.day)
            client = await session.get(Client, inp.client_id)
            assert client is not None
            more = await reminders.waiting(session, inp.client_id)
        if assembled is None:
            return DigestResult("nothing")
        key, lines, fresh = assembled
        groups: dict[str, list[dict[str, str]]] = {}
        for line in lines:
            heading = Threshold.parse(line.threshold).phrase()
            groups.setdefault(heading, []).append({"address": line.address, "kind": line.kind,
                                                   "term_end": line.term_end.isoformat()})
        context = {"name": client.name, "groups": [{"heading": h, "addresses": a} for h, a in groups.items()],
                   "count": str(len(lines)), "renewals_url": f"{self._base}/renewals"}
        await self._notifications.deliver(key, "reminder_digest", client.email, client.id, context)
        if not fresh and more:
            return DigestResult("already_today", len(lines))
        return DigestResult("sent", len(lines))

