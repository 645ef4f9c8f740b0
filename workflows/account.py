"""An email about an account (`account-email:<key>`): the sign-up link, or the note that someone
tried to sign up with an address that has an account. Its own workflow so the API only starts it
and the send is retried until the mail server takes it; the key makes it go once."""
from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import ACCOUNT_EMAIL_WORKFLOW, SendNotification
    from workflows.policies import STEP


@workflow.defn(name=ACCOUNT_EMAIL_WORKFLOW)
class AccountEmailWorkflow:
    @workflow.run
    async def run(self, inp: SendNotification) -> None:
        await workflow.execute_activity("send_notification", inp, **STEP)
