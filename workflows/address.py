"""The life of one address (`address:<email>`): wait for payment, cover the domain, provision,
welcome, stay active to term end (topping up the domain registration), then release."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.terms import coverage_target, term_end
    from workflows.contracts import (
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
        ApplyAutoresponder,
        Autoresponder,
        AddressState,
        CancelRequest,
        CoverageResult,
        DestinationCheck,
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
        SetMailboxPassword,
        SetSubscriptionStatus,
        SwitchForwarder,
    )

STEP = dict(
    start_to_close_timeout=timedelta(seconds=60),
    heartbeat_timeout=timedelta(seconds=10),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)),
)
# How long before a short registration runs out we try again to extend it.
TOP_UP_LEAD = timedelta(days=60)


@workflow.defn(name=ADDRESS_WORKFLOW)
class AddressWorkflow:
    @workflow.init
    def __init__(self, inp: AddressInput) -> None:
        self._inp = inp
        self._paid: PaymentConfirmed | None = None
        self._cancel: CancelRequest | None = None
        self._retry = False
        self._state = AddressState(address=inp.line.address, status="pending_payment",
                                   destination=inp.line.destination)
        self._requested: dict[int, str] = {}     # destination changes awaiting confirmation
        self._changing = asyncio.Lock()

    # ---- messages --------------------------------------------------------------------------

    @workflow.signal(name=PAYMENT_CONFIRMED)
    def payment_confirmed(self, payment: PaymentConfirmed) -> None:
        if self._paid is None:
            self._paid = payment

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
        """A new password waits sealed in the database (never here); hand it to cPanel."""
        if not await self._settled_active() or self._inp.line.kind != "mailbox":
            return
        line = self._inp.line
        async with self._changing:
            await workflow.execute_activity("set_mailbox_password", SetMailboxPassword(
                line.subscription_id, line.address, change.actor), **STEP)

    @workflow.update(name=SET_AUTORESPONDER)
    async def set_autoresponder(self, reply: Autoresponder) -> Autoresponder:
        line = self._inp.line
        await self._until_settled()
        async with self._changing:
            await workflow.execute_activity("apply_autoresponder", ApplyAutoresponder(
                line.address, line.client_name or line.address, reply), **STEP)
        return reply

    @set_autoresponder.validator
    def _validate_autoresponder(self, reply: Autoresponder) -> None:
        self._validate_mailbox_active()
        if reply.enabled:
            if not reply.subject.strip() or len(reply.subject) > 200:
                raise ApplicationError("Give the reply a subject (up to 200 characters).", type="subject_invalid")
            if not reply.body.strip() or len(reply.body) > 10_000:
                raise ApplicationError("Write the reply (up to 10,000 characters).", type="body_invalid")
            if not 0 <= reply.interval_hours <= 24 * 30:
                raise ApplicationError("Reply to the same sender at most once every 0 to 720 hours.",
                                       type="interval_invalid")
            if reply.start and reply.stop and reply.stop <= reply.start:
                raise ApplicationError("The reply must stop after it starts.", type="period_invalid")

    @workflow.update(name=MAILBOX_USAGE)
    async def mailbox_usage(self, ref: MailboxRef) -> MailboxUsageState:
        await self._until_settled()
        return await workflow.execute_activity("mailbox_usage", MailboxRef(self._inp.line.address),
                                               result_type=MailboxUsageState, **STEP)

    @mailbox_usage.validator
    def _validate_usage(self, ref: MailboxRef) -> None:
        self._validate_mailbox_active()

    def _validate_mailbox_active(self) -> None:
        if self._inp.line.kind != "mailbox":
            raise ApplicationError("Only a mailbox has this setting.", type="not_a_mailbox")
        if self._state.status not in ("provisioning", "active"):
            raise ApplicationError(f"The mailbox is {self._state.status.replace('_', ' ')}.",
                                   type="address_not_active")

    async def _settled_active(self) -> bool:
        """The API saw `active` in the database; the run publishes it a step later (after the
        welcome email). Wait for the run to settle, then say whether it is active."""
        await workflow.wait_condition(lambda: self._state.status not in ("pending_payment", "provisioning"))
        return self._state.status == "active"

    async def _until_settled(self) -> None:
        if not await self._settled_active():
            raise ApplicationError(f"The mailbox is {self._state.status.replace('_', ' ')}.",
                                   type="address_not_active")

    @workflow.signal(name=DESTINATION_REQUESTED)
    async def destination_requested(self, request: DestinationRequest) -> None:
        """The customer asked to forward elsewhere: the new destination must confirm by link first,
        and the old one keeps receiving meanwhile."""
        if not await self._settled_active() or self._inp.line.kind != "forwarder":
            return
        self._requested = {request.change_id: request.new_destination.lower()}  # the latest request wins
        line = self._inp.line
        await workflow.execute_activity("send_destination_check", DestinationCheck(
            request.change_id, line.address, request.new_destination.lower(), line.client_name), **STEP)

    @workflow.signal(name=DESTINATION_CONFIRMED)
    async def destination_confirmed(self, confirmation: DestinationConfirmation) -> None:
        change_id = confirmation.change_id
        new = self._requested.pop(change_id, None)
        if new is None or self._state.status != "active":
            return
        async with self._changing:
            old, line = self._state.destination, self._inp.line
            await workflow.execute_activity("switch_forwarder", SwitchForwarder(change_id, line.address, old, new),
                                            **STEP)
            self._state.destination = new
            await workflow.execute_activity("send_notification", SendNotification(
                key=f"{workflow.info().workflow_id}:destination:{change_id}", template="destination_changed",
                to=line.client_email, client_id=line.client_id,
                context={"name": line.client_name, "address": line.address, "old": old, "new": new}), **STEP)

    @workflow.query(name=STATE)
    def state(self) -> AddressState:
        return self._state

    # ---- life ------------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: AddressInput) -> AddressState:
        line = inp.line
        self._publish("pending_payment")

        await workflow.wait_condition(lambda: self._paid is not None or self._cancel is not None)
        if self._paid is None:
            self._publish("cancelled", self._cancel.reason if self._cancel else "")
            return self._state

        self._publish("provisioning")
        start = workflow.now().date()
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
        self._publish("active")

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
            line.subscription_id, "released", "term ended"), **STEP)
        await workflow.execute_activity("send_notification", SendNotification(
            key=f"{workflow.info().workflow_id}:{end.isoformat()}:ended",
            template="address_ended", to=line.client_email, client_id=line.client_id,
            context={"name": line.client_name, "address": line.address, "term_end": end.isoformat()}), **STEP)
        self._publish("released")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _ensure_coverage(self, end: date) -> CoverageResult:
        today = workflow.now().date()
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
                self._publish("attention", cause.message)
                await workflow.execute_activity("set_subscription_status", SetSubscriptionStatus(
                    self._inp.line.subscription_id, "attention", f"{cause.type}: {cause.message}"), **STEP)
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
