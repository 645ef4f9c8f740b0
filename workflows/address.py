"""The life of one address (`address:<email>`): wait for payment, cover the domain, provision,
welcome, stay active to term end (topping up the domain registration), then release. The customer's
changes at cPanel are handled by `workflows.address_changes`, to which the handlers here delegate."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.address_changes import AddressChanges

with workflow.unsafe.imports_passed_through():
    from workflows.policies import PATIENT_STEP
    from core.lifecycle import due_reminder, ladder, parse_ladder
    from core.statuses import RenewalDecision as Decision, SubscriptionStatus
    from core.terms import add_years, coverage_target, term_end
    from workflows.contracts import (
        CANCEL_AT_TERM_END,
        RENEWAL_DECIDED,
        CancelAtTermEnd,
        CloseRenewalOrders,
        Lifecycle,
        MarkCancelAtTermEnd,
        OpenRenewal,
        QueueReminder,
        RemoveAddress,
        RenewalDecision,
        RenewalOpened,
        RenewalPaid,
        RestoreAddress,
        SuspendAddress,
        TermCarry,
        PAYMENT_CONFIRMED,
        ORDER_CANCELLED,
        DESTINATION_CONFIRMED,
        DESTINATION_REQUESTED,
        MAILBOX_PASSWORD,
        MAILBOX_USAGE,
        SET_AUTORESPONDER,
        RETRY,
        STATE,
        ADDRESS_WORKFLOW,
        SA_CLIENT,
        SA_DOMAIN,
        SA_STATUS,
        ActivateSubscription,
        AddressInput,
        Autoresponder,
        AddressState,
        CancelRequest,
        CoverageResult,
        DestinationConfirmation,
        DestinationRequest,
        EnsureCoverage,
        MailboxPasswordChanged,
        MailboxRef,
        MailboxUsageState,
        PaymentConfirmed,
        ProvisionForwarder,
        ProvisionMailbox,
        RemoveForwarder,
        RemoveMailbox,
        RetryRequest,
        SendNotification,
        SetSubscriptionStatus,
    )

STEP = PATIENT_STEP
# How long before a short registration runs out we try again to extend it.
TOP_UP_LEAD = timedelta(days=60)
# Runs started before renewals existed keep the code they began with (see tests/replay).
LIFECYCLE_V3 = "lifecycle-v3-renewal-expiry"
BOUNCE = "{address} has expired and is not receiving mail. The owner can renew it at {site}."


@workflow.defn(name=ADDRESS_WORKFLOW)
class AddressWorkflow:
    @workflow.init
    def __init__(self, inp: AddressInput) -> None:
        self._inp = inp
        self._paid: PaymentConfirmed | None = None
        self._cancel: CancelRequest | None = None
        self._retry = False
        self._state = AddressState(address=inp.line.address, status=SubscriptionStatus.PENDING_PAYMENT,
                                   destination=inp.line.destination)
        self._changes = AddressChanges(inp.line, self._state, STEP)   # the customer's changes at cPanel
        self._life = inp.life or Lifecycle()
        self._cal = self._life.calendar()
        self._renewals: list[RenewalPaid] = list(inp.carry.renewals) if inp.carry else []
        self._applied_orders: set[int] = set()
        self._cancel_at_end = False
        self._declined = False

    # ---- messages --------------------------------------------------------------------------

    @workflow.signal(name=PAYMENT_CONFIRMED)
    def payment_confirmed(self, payment: PaymentConfirmed) -> None:
        if payment.years and payment.order_id != self._inp.order_id:   # a renewal order was paid
            if payment.order_id not in self._applied_orders and self._state.status != SubscriptionStatus.QUARANTINED:
                self._applied_orders.add(payment.order_id)
                self._renewals.append(RenewalPaid(payment.order_id, payment.years))
        elif self._paid is None:
            self._paid = payment

    @workflow.update(name=CANCEL_AT_TERM_END)
    async def cancel_at_term_end(self, request: CancelAtTermEnd) -> AddressState:
        """The customer cancels: the address keeps working to the end of the term, then expires."""
        line = self._inp.line
        self._cancel_at_end = self._state.cancel_at_term_end = True
        await workflow.execute_activity("mark_cancel_at_term_end", MarkCancelAtTermEnd(
            line.subscription_id, request.actor, request.reason), **STEP)
        await workflow.execute_activity("close_renewal_orders", CloseRenewalOrders(
            line.subscription_id, "address cancelled by the client"), **STEP)
        await workflow.execute_activity("send_notification", SendNotification(
            key=f"{workflow.info().workflow_id}:{self._state.term_end}:cancelled", template="address_cancelled",
            to=line.client_email, client_id=line.client_id,
            context={"name": line.client_name, "address": line.address,
                     "term_end": str(self._state.term_end)}), **STEP)
        return self._state

    @cancel_at_term_end.validator
    def _validate_cancel(self, request: CancelAtTermEnd) -> None:
        if (self._state.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.ATTENTION)
                or self._state.term_end is None):
            raise ApplicationError(f"The address is {self._state.status.replace('_', ' ')}; only an active "
                                   "address can be cancelled.", type="address_not_active")
        if self._cancel_at_end:
            raise ApplicationError(f"{self._inp.line.address} is already cancelled; it ends on "
                                   f"{self._state.term_end}.", type="already_cancelled")

    @workflow.signal(name=RENEWAL_DECIDED)
    async def renewal_decided(self, decision: RenewalDecision) -> None:
        """The customer confirmed or declined this term's renewal (recorded by the API); a decline
        stops the reminders and withdraws the renewal invoice. Staff hear of either."""
        line = self._inp.line
        declined = decision.decision == Decision.DECLINED
        self._declined = self._state.renewal_declined = declined
        if declined:
            await workflow.execute_activity("close_renewal_orders", CloseRenewalOrders(
                line.subscription_id, "renewal declined by the client"), **STEP)
        via = {"code": "with the renewal code", "page": "on the renewals page"}.get(decision.via, decision.via)
        await workflow.execute_activity("send_notification", SendNotification(
            key=f"{workflow.info().workflow_id}:{self._state.term_end}:renewal-{decision.decision}:{decision.via}",
            template="renewal_decided_staff", to="", client_id=None, to_staff=True,
            context={"client": f"{line.client_name} <{line.client_email}>", "address": line.address,
                     "decision": decision.decision, "term_end": str(self._state.term_end), "via": via}), **STEP)

    @workflow.signal(name=ORDER_CANCELLED)
    def order_cancelled(self, request: CancelRequest) -> None:
        if self._paid is None:
            self._cancel = request

    @workflow.signal(name=RETRY)
    def retry(self, request: RetryRequest) -> None:
        """Operators send this (Temporal UI: Signal `retry`) after fixing what put us in attention."""
        self._retry = True

    @workflow.signal(name=MAILBOX_PASSWORD)
    async def mailbox_password_changed(self, change: MailboxPasswordChanged) -> None:
        await self._changes.password(change)

    @workflow.update(name=SET_AUTORESPONDER)
    async def set_autoresponder(self, reply: Autoresponder) -> Autoresponder:
        return await self._changes.autoresponder(reply)

    @set_autoresponder.validator
    def _validate_autoresponder(self, reply: Autoresponder) -> None:
        self._changes.validate_autoresponder(reply)

    # Retired: nothing sends this update any more (a page view wrote history for a workflow that
    # lives for years; the page reads the `mailbox_usage` read model that activities keep). The
    # handler stays registered, unchanged, so committed histories that delivered it still replay.
    @workflow.update(name=MAILBOX_USAGE)
    async def mailbox_usage(self, ref: MailboxRef) -> MailboxUsageState:
        return await self._changes.usage_from_cpanel()

    @mailbox_usage.validator
    def _validate_usage(self, ref: MailboxRef) -> None:
        self._changes.validate_mailbox_active()

    @workflow.signal(name=DESTINATION_REQUESTED)
    async def destination_requested(self, request: DestinationRequest) -> None:
        await self._changes.destination_requested(request)

    @workflow.signal(name=DESTINATION_CONFIRMED)
    async def destination_confirmed(self, confirmation: DestinationConfirmation) -> None:
        await self._changes.destination_confirmed(confirmation)

    @workflow.query(name=STATE)
    def state(self) -> AddressState:
        return self._state

    # ---- life ------------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: AddressInput) -> AddressState:
        line = inp.line
        if inp.carry is not None:   # a renewed term, continued as new
            c = inp.carry
            self._state.term_start, self._state.term_end = c.term_start, c.term_end
            self._state.destination, self._state.domain_expiry = c.destination, c.domain_expiry
            self._publish(SubscriptionStatus.ACTIVE)
            return await self._live(c)
        self._publish(SubscriptionStatus.PENDING_PAYMENT)

        await workflow.wait_condition(lambda: self._paid is not None or self._cancel is not None)
        if self._paid is None:
            self._publish(SubscriptionStatus.CANCELLED, self._cancel.reason if self._cancel else "")
            return self._state

        self._publish(SubscriptionStatus.PROVISIONING)
        start = self._cal.today(workflow.now())
        end = term_end(start, line.years)
        self._state.term_start, self._state.term_end = start, end

        coverage = await self._attempt(lambda: self._ensure_coverage(end))
        if line.kind == "mailbox":
            await self._attempt(lambda: workflow.execute_activity(
                "provision_mailbox", ProvisionMailbox(line.subscription_id, line.address, line.quota_mb), **STEP))
        else:
            await self._attempt(lambda: workflow.execute_activity(
                "provision_forwarder", ProvisionForwarder(line.address, line.destination), **STEP))
        await workflow.execute_activity(
            "activate_subscription", ActivateSubscription(line.subscription_id, start, end), **STEP)
        await workflow.execute_activity("send_notification", SendNotification(
            key=f"{workflow.info().workflow_id}:{start.isoformat()}:welcome",
            template=f"welcome_{line.kind}", to=line.client_email, client_id=line.client_id,
            context={"name": line.client_name, "address": line.address, "destination": line.destination,
                     "term_end": end.isoformat(), "years": str(line.years)}), **STEP)
        self._publish(SubscriptionStatus.ACTIVE)
        if workflow.patched(LIFECYCLE_V3):
            return await self._live(TermCarry(start, end, self._state.destination, coverage.expiry,
                                              coverage.covered))

        while (today := workflow.now().date()) < end:
            wake = end
            if not coverage.covered:
                wake = min(end, max(today + timedelta(days=1), coverage.expiry - TOP_UP_LEAD))
            await workflow.sleep(_until(workflow.now().date(), wake))
            if not coverage.covered and workflow.now().date() < end:
                coverage = await self._attempt(lambda: self._ensure_coverage(end))

        # The term is over. Renewal, grace and quarantine belong to the lifecycle that grows here.
        if line.kind == "mailbox":
            await workflow.execute_activity("remove_mailbox", RemoveMailbox(line.address), **STEP)
        else:
            await workflow.execute_activity(
                "remove_forwarder", RemoveForwarder(line.address, self._state.destination), **STEP)
        await workflow.execute_activity("set_subscription_status", SetSubscriptionStatus(
            line.subscription_id, SubscriptionStatus.RELEASED, "term ended"), **STEP)
        await workflow.execute_activity("send_notification", SendNotification(
            key=f"{workflow.info().workflow_id}:{end.isoformat()}:ended",
            template="address_ended", to=line.client_email, client_id=line.client_id,
            context={"name": line.client_name, "address": line.address, "term_end": end.isoformat()}), **STEP)
        self._publish(SubscriptionStatus.RELEASED)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    # ---- v3: reminders, renewal, expiry, grace, quarantine ---------------------------------

    async def _live(self, carry: TermCarry) -> AddressState:
        """One term: remind, invoice the renewal, keep the domain covered; then renew (continue as
        new) or expire. The term covers its last day; it is over when that day is."""
        line, cal, life = self._inp.line, self._cal, self._life
        end, hour = carry.term_end, life.reminder_hour
        coverage = CoverageResult(carry.domain_expiry or end, carry.covered)
        steps = parse_ladder(life.reminder_ladder)
        invoice_at = cal.at(end - timedelta(days=life.renewal_invoice_days), hour)
        over = cal.at(end + timedelta(days=1))
        begun = cal.today(workflow.now())
        sent = {t.label for d, t in ladder(end, steps) if d < begun}   # steps before this term began
        invoiced = False

        while not self._renewals and workflow.now() < over:
            quiet = self._cancel_at_end or self._declined
            moments = [over]
            if not quiet:
                moments += [cal.at(d, hour) for d, t in ladder(end, steps) if t.label not in sent]
                if not invoiced:
                    moments.append(invoice_at)
            if not coverage.covered:
                today = cal.today(workflow.now())
                moments.append(cal.at(max(today + timedelta(days=1), coverage.expiry - TOP_UP_LEAD)))
            await self._wait(lambda: bool(self._renewals) or (not quiet and (self._cancel_at_end or self._declined)),
                             max(timedelta(0), min(moments) - workflow.now()))
            if self._renewals:
                break
            now = workflow.now()
            if now >= over:
                break
            if not (self._cancel_at_end or self._declined):
                today = cal.today(now)
                reached = today if now >= cal.at(today, hour) else today - timedelta(days=1)
                step, passed = due_reminder(end, steps, reached, sent)
                sent |= passed
                if step is not None:
                    await workflow.execute_activity("queue_reminder", QueueReminder(
                        line.subscription_id, line.client_id, end, step.label, step.due_on(end), life), **STEP)
                if not invoiced and now >= invoice_at:
                    await self._open_renewal(end)
                    invoiced = True
            if not coverage.covered:
                coverage = await self._attempt(lambda: self._ensure_coverage(end))

        if self._renewals:
            return await self._renew(carry, coverage)
        return await self._expire(carry, coverage)

    async def _wait(self, condition, timeout: timedelta) -> None:
        try:
            await workflow.wait_condition(condition, timeout=timeout)
        except asyncio.TimeoutError:
            pass

    async def _open_renewal(self, end: date) -> None:
        """The renewal invoice; the activity starts its order workflow, which pays it from credit
        when it can."""
        life, line = self._life, self._inp.line
        deadline = self._cal.at(end + timedelta(days=life.grace_days))
        opened: RenewalOpened = await workflow.execute_activity("open_renewal", OpenRenewal(
            line.subscription_id, end, self._renewal_years(), deadline, life), result_type=RenewalOpened, **STEP)
        if opened.order is not None:
            self._state.renewal_order_id = opened.order.order_id

    def _renewal_years(self) -> int:
        """Renew for as long as the current term by default."""
        start, end = self._state.term_start, self._state.term_end
        return max(1, end.year - start.year) if start and end else self._inp.line.years

    async def _renew(self, carry: TermCarry, coverage: CoverageResult) -> AddressState:
        """Paid: the next term runs on from the old end (even when paid during grace); continue as new."""
        line = self._inp.line
        paid, self._renewals = self._renewals, []
        start = carry.term_end
        end = start
        for renewal in paid:
            end = add_years(end, renewal.years)
        if self._state.status == SubscriptionStatus.EXPIRED:
            await workflow.execute_activity("restore_address", RestoreAddress(
                line.address, line.kind, self._state.destination, self._bounce()), **STEP)
        self._state.term_start, self._state.term_end = start, end
        coverage = await self._attempt(lambda: self._ensure_coverage(end))
        await workflow.execute_activity("activate_subscription", ActivateSubscription(
            line.subscription_id, start, end, renewed=True), **STEP)
        await workflow.execute_activity("send_notification", SendNotification(
            key=f"{workflow.info().workflow_id}:{end.isoformat()}:renewed", template="address_renewed",
            to=line.client_email, client_id=line.client_id,
            context={"name": line.client_name, "address": line.address, "term_end": end.isoformat(),
                     "years": str(sum(r.years for r in paid))}), **STEP)
        self._publish(SubscriptionStatus.ACTIVE)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(AddressInput(
            line, self._inp.order_id, self._inp.coverage_margin_days, self._inp.search_attributes, self._life,
            TermCarry(start, end, self._state.destination, coverage.expiry, coverage.covered,
                      renewals=self._renewals, terms=carry.terms + 1)))

    async def _expire(self, carry: TermCarry, coverage: CoverageResult) -> AddressState:
        line, life, cal = self._inp.line, self._life, self._cal
        end = carry.term_end
        grace_until = end + timedelta(days=life.grace_days)
        await workflow.execute_activity("suspend_address", SuspendAddress(
            line.address, line.kind, self._state.destination, self._bounce()), **STEP)
        await self._step_status(SubscriptionStatus.EXPIRED, "term ended" + (
            " (cancelled by the client)" if self._cancel_at_end else ""), grace_until)
        self._state.grace_until = grace_until
        self._publish(SubscriptionStatus.EXPIRED)
        await self._tell("expired", {"term_end": end.isoformat(), "grace_until": grace_until.isoformat()})

        await self._wait(lambda: bool(self._renewals), cal.until(workflow.now(), grace_until + timedelta(days=1)))
        if self._renewals:
            return await self._renew(carry, coverage)

        quarantine_until = grace_until + timedelta(days=life.quarantine_days)
        await workflow.execute_activity("remove_address", RemoveAddress(
            line.address, line.kind, self._state.destination, self._bounce()), **STEP)
        await workflow.execute_activity("close_renewal_orders", CloseRenewalOrders(
            line.subscription_id, "grace period over"), **STEP)
        await self._step_status(SubscriptionStatus.QUARANTINED, "removed after the grace period", quarantine_until)
        self._state.quarantine_until = quarantine_until
        self._publish(SubscriptionStatus.QUARANTINED)
        await self._tell("removed", {"term_end": end.isoformat()})

        await workflow.sleep(cal.until(workflow.now(), quarantine_until + timedelta(days=1)))
        await self._step_status(SubscriptionStatus.RELEASED, "quarantine over")
        self._publish(SubscriptionStatus.RELEASED)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _step_status(self, status: str, reason: str, until: date | None = None) -> None:
        await workflow.execute_activity("set_subscription_status", SetSubscriptionStatus(
            self._inp.line.subscription_id, status, reason, until=until), **STEP)

    async def _tell(self, event: str, context: dict[str, str]) -> None:
        line = self._inp.line
        await workflow.execute_activity("send_notification", SendNotification(
            key=f"{workflow.info().workflow_id}:{self._state.term_end}:{event}", template=f"address_{event}",
            to=line.client_email, client_id=line.client_id,
            context={"name": line.client_name, "address": line.address, "kind": line.kind, **context}), **STEP)

    def _bounce(self) -> str:
        return BOUNCE.format(address=self._inp.line.address, site=self._life.site_url or "our website")

    async def _ensure_coverage(self, end: date) -> CoverageResult:
        today = self._cal.today(workflow.now())
        result: CoverageResult = await workflow.execute_activity(
            "ensure_domain_coverage",
            EnsureCoverage(self._inp.line.domain, coverage_target(end, today, self._inp.coverage_margin_days), today),
            result_type=CoverageResult, **STEP)
        self._state.domain_expiry = result.expiry
        return result

    async def _attempt(self, step):
        """Run a step; on a business refusal park in `attention` until an operator signals retry."""
        while True:
            try:
                return await step()
            except ActivityError as err:
                cause = err.cause
                if not isinstance(cause, ApplicationError) or not cause.non_retryable:
                    raise
                previous = self._state.status
                self._publish(SubscriptionStatus.ATTENTION, cause.message)
                await workflow.execute_activity("set_subscription_status", SetSubscriptionStatus(
                    self._inp.line.subscription_id, SubscriptionStatus.ATTENTION, f"{cause.type}: {cause.message}"), **STEP)
                self._retry = False
                await workflow.wait_condition(lambda: self._retry)
                await workflow.execute_activity("set_subscription_status", SetSubscriptionStatus(
                    self._inp.line.subscription_id, previous, "retried by operator", "operator"), **STEP)
                self._publish(previous)

    def _publish(self, status: str, message: str = "") -> None:
        self._state.status = status
        self._state.message = message
        if self._inp.search_attributes:
            workflow.upsert_search_attributes([
                SA_STATUS.value_set(status),
                SA_DOMAIN.value_set(self._inp.line.domain),
                SA_CLIENT.value_set(str(self._inp.line.client_id)),
            ])


def _until(today: date, wake: date) -> timedelta:
    return timedelta(days=max(0, (wake - today).days))
