"""A customer's changes at cPanel for one address (automatic reply, mailbox password, destination):
checked, made one at a time in the order asked, each outcome kept in the state for the page. The
address workflow owns the messages and delegates to `AddressChanges`; the commands each change
issues are exactly those the workflow issued itself before the split (histories replay)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from core.statuses import SubscriptionStatus
    from workflows.policies import change_step
    from workflows.versions import CHANGE_OUTCOMES
    from workflows.contracts import (
        CHANGE_ATTEMPTS,
        AddressLine,
        AddressState,
        ApplyAutoresponder,
        Autoresponder,
        ChangeOutcome,
        DestinationCheck,
        DestinationConfirmation,
        DestinationRequest,
        MailboxPasswordChanged,
        MailboxRef,
        MailboxUsageState,
        Refusal,
        SendNotification,
        SetMailboxPassword,
        SwitchForwarder,
    )

# A customer's change at cPanel has a way out: a few tries on a technical fault, none on a refusal
# (the activity says which), then the next change goes.
CHANGE_STEP = change_step(CHANGE_ATTEMPTS)
# An automatic reply is set for at most this long (cPanel needs a stop time; ours is ten years on).
REPLY_LONGEST = timedelta(days=10 * 366)


class AddressChanges:
    """The queue of one address's changes. `state` is the workflow's own (shared, never copied);
    `step` the options of its ordinary steps (the confirmation and notification emails)."""

    def __init__(self, line: AddressLine, state: AddressState, step: dict) -> None:
        self._line, self._state, self._step = line, state, step
        self._requested: dict[int, str] = {}     # destination changes awaiting confirmation
        self._changing = asyncio.Lock()

    # ---- mailbox ---------------------------------------------------------------------------

    async def password(self, change: MailboxPasswordChanged) -> None:
        """A new password waits sealed in the database (never here); hand it to cPanel."""
        if not await self._settled_active() or self._line.kind != "mailbox":
            return
        line = self._line
        await self._change_at_cpanel("password", "set_mailbox_password", SetMailboxPassword(
            line.subscription_id, line.address, change.actor))

    async def autoresponder(self, reply: Autoresponder) -> Autoresponder:
        line = self._line
        await self._until_settled()
        outcome = await self._change_at_cpanel("autoresponder", "apply_autoresponder", ApplyAutoresponder(
            line.address, line.client_name or line.address, reply))
        if not outcome.ok:
            raise ApplicationError(outcome.message, type=outcome.code)
        return reply

    def validate_autoresponder(self, reply: Autoresponder) -> None:
        """Refused here, nothing is queued: each refusal names the field at fault (its detail)."""
        self.validate_mailbox_active()
        if not reply.enabled:
            return
        if not reply.subject.strip() or len(reply.subject) > 200:
            raise ApplicationError("Give the reply a subject (up to 200 characters).", "subject",
                                   type="subject_invalid")
        if any(ord(c) < 32 or ord(c) == 127 for c in reply.subject):
            raise ApplicationError("Keep the subject on one line, without control characters.", "subject",
                                   type="subject_invalid")
        if not reply.body.strip() or len(reply.body) > 10_000 or "\x00" in reply.body:
            raise ApplicationError("Write the reply (up to 10,000 characters).", "body", type="body_invalid")
        if not 0 <= reply.interval_hours <= 24 * 30:
            raise ApplicationError("Reply to the same sender at most once every 0 to 720 hours.", "interval_hours",
                                   type="interval_invalid")
        now = workflow.now()
        start, stop = _aware(reply.start), _aware(reply.stop)
        if start and stop and stop <= start:
            raise ApplicationError("The reply must stop after it starts.", "stop", type="period_invalid")
        if stop and stop <= now:
            raise ApplicationError(f"The reply would stop at {stop:%Y-%m-%d %H:%M} UTC, which is already past; "
                                   "give a time in the future, or none.", "stop", type="stop_in_past")
        if stop and stop > now + REPLY_LONGEST or start and start > now + REPLY_LONGEST:
            raise ApplicationError("An automatic reply can be set for up to ten years ahead.",
                                   "stop" if stop else "start", type="stop_too_far")

    async def usage_from_cpanel(self) -> MailboxUsageState:
        """Retired: the page reads the `mailbox_usage` read model. Kept for the update handler that
        committed histories still deliver (see AddressWorkflow.mailbox_usage)."""
        await self._until_settled()
        return await workflow.execute_activity("mailbox_usage", MailboxRef(self._line.address),
                                               result_type=MailboxUsageState, **CHANGE_STEP)

    def validate_mailbox_active(self) -> None:
        if self._line.kind != "mailbox":
            raise ApplicationError("Only a mailbox has this setting.", type="not_a_mailbox")
        if self._state.status not in (SubscriptionStatus.PROVISIONING, SubscriptionStatus.ACTIVE):
            raise ApplicationError(f"The mailbox is {self._state.status.replace('_', ' ')}.",
                                   type="address_not_active")

    # ---- destination -----------------------------------------------------------------------

    async def destination_requested(self, request: DestinationRequest) -> None:
        """The new destination must confirm by link first; the old one keeps receiving meanwhile."""
        if not await self._settled_active() or self._line.kind != "forwarder":
            return
        self._requested = {request.change_id: request.new_destination.lower()}  # the latest request wins
        line = self._line
        await workflow.execute_activity("send_destination_check", DestinationCheck(
            request.change_id, line.address, request.new_destination.lower(), line.client_name), **self._step)

    async def destination_confirmed(self, confirmation: DestinationConfirmation) -> None:
        """The switch checks once more for a circle (against cPanel, now); a refused switch leaves the
        old destination (the activity records why, where the confirmation page reads it)."""
        change_id = confirmation.change_id
        new = self._requested.pop(change_id, None)
        if new is None or self._state.status != SubscriptionStatus.ACTIVE:
            return
        line = self._line
        old = self._state.destination

        async def switched() -> None:
            self._state.destination = new
            await workflow.execute_activity("send_notification", SendNotification(
                key=f"{workflow.info().workflow_id}:destination:{change_id}", template="destination_changed",
                to=line.client_email, client_id=line.client_id,
                context={"name": line.client_name, "address": line.address, "old": old, "new": new}), **self._step)

        def switch() -> SwitchForwarder:
            nonlocal old
            old = self._state.destination     # as it is once the changes before this one are done
            return SwitchForwarder(change_id, line.address, old, new)

        await self._change_at_cpanel("destination", "switch_forwarder", switch, then=switched)

    # ---- the queue -------------------------------------------------------------------------

    async def _change_at_cpanel(self, what: str, activity: str, arg, then=None) -> ChangeOutcome:
        """One change at a time, in the order asked (the lock is fair). A change that fails for good
        is recorded (the activity wrote it to the audit log; the state says it for the page) and the
        next one goes ahead. `arg` may be a function, called once the change's turn comes; `then`
        runs, still in turn, after the change is made."""
        async with self._changing:
            try:
                await workflow.execute_activity(activity, arg() if callable(arg) else arg, **CHANGE_STEP)
            except ActivityError as err:
                if not workflow.patched(CHANGE_OUTCOMES):
                    raise
                outcome = ChangeOutcome(what, False, *_why(err, what), at=workflow.now())
            else:
                outcome = ChangeOutcome(what, True, at=workflow.now())
                if then is not None:
                    await then()
            self._state.last_change = outcome
        return outcome

    async def _settled_active(self) -> bool:
        """The API saw `active` in the database; the run publishes it a step later (after the
        welcome email). Wait for the run to settle, then say whether it is active."""
        await workflow.wait_condition(
            lambda: self._state.status not in (SubscriptionStatus.PENDING_PAYMENT, SubscriptionStatus.PROVISIONING))
        return self._state.status == SubscriptionStatus.ACTIVE

    async def _until_settled(self) -> None:
        if not await self._settled_active():
            raise ApplicationError(f"The mailbox is {self._state.status.replace('_', ' ')}.",
                                   type="address_not_active")


def _aware(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=timezone.utc) if when and when.tzinfo is None else when


def _why(err: ActivityError, what: str) -> tuple[str, str]:
    """The refusal code and sentence of a change that failed for good: the activity's own, when it
    classified the failure; else (attempts or time ran out) that the mail server did not answer."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.non_retryable and cause.type:
        return cause.type, cause.message
    return Refusal.PROVIDER_UNAVAILABLE, f"The mail server did not answer, so the {_WHAT.get(what, what)} was not " \
                                         "made; please try again later."


_WHAT = {"autoresponder": "automatic reply", "password": "new password", "destination": "change of destination"}
