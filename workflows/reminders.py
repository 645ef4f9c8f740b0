"""One client's renewal-reminder digest (`reminders:<client>`): address workflows queue the steps
they reach and signal this run; it waits a short window so every address reaching a step the same
day shares one email, sends at most one digest a day, and ends when reminders stop coming."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.policies import PATIENT_STEP
    from workflows.contracts import DIGEST_WORKFLOW, REMINDER_QUEUED, DigestInput, DigestRequest, DigestResult

STEP = PATIENT_STEP
IDLE_DAYS = 2          # no reminder for this long: the run ends (the next reminder starts a new one)


@workflow.defn(name=DIGEST_WORKFLOW)
class ReminderDigestWorkflow:
    def __init__(self) -> None:
        self._queued = False

    @workflow.signal(name=REMINDER_QUEUED)
    def reminder_queued(self) -> None:
        self._queued = True

    @workflow.run
    async def run(self, inp: DigestInput) -> None:
        cal = inp.life.calendar()
        window = cal.days(inp.life.digest_window_minutes / (24 * 60))
        while True:
            try:
                await workflow.wait_condition(lambda: self._queued, timeout=cal.days(IDLE_DAYS))
            except asyncio.TimeoutError:
                return
            await workflow.sleep(window)   # let every address reaching a step today join in
            self._queued = False
            today = cal.today(workflow.now())
            result: DigestResult = await workflow.execute_activity(
                "send_reminder_digest", DigestRequest(inp.client_id, today), result_type=DigestResult, **STEP)
            if result.outcome == "already_today":
                # today's digest went out before these were queued: they go in tomorrow's
                await workflow.sleep(cal.until(workflow.now(), today + timedelta(days=1), inp.life.reminder_hour))
                self._queued = True
            if workflow.info().is_continue_as_new_suggested() and not self._queued:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(inp)
